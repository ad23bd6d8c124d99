"""Time 10k points x 1000 exact-guided DDPM steps on the 2D mixture (prints one JSON line)."""

import json
import time

import torch

from cgd.pipeline import SampleRequest
from cgd.toy.mixture import load_mixture
from cgd.toy.sampling import default_schedule, exact_models, toy_sample

if __name__ == "__main__":
    mix, sched = load_mixture("three_blobs"), default_schedule()
    models = exact_models(mix, sched)
    req = SampleRequest(method="cg-ddpm", label=1, scale=2.0, steps=1000, n=10_000, seed=0)
    toy_sample(mix, SampleRequest(method="cg-ddpm", label=1, steps=10, n=100), models=models, schedule=sched)  # warm-up
    t0 = time.perf_counter()
    toy_sample(mix, req, models=models, schedule=sched)
    dt = time.perf_counter() - t0
    print(json.dumps({"name": "toy_exact_10k_x1000_cpu_s", "value": round(dt, 3), "unit": "s",
                      "threads": torch.get_num_threads()}))
