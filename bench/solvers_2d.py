"""ODE solvers of one guided field on the exact 2D oracle: how far each lands from the field's own solution.

    python bench/solvers_2d.py [--mixture overlapping] [--label 0] [--n 2000] [--scales 1,3,8] [--steps 5,10,20]

Classifier guidance in eps form (cg-ddim's field: the exact unconditional eps plus s times the exact
classifier gradient) defines one probability-flow ODE per scale. Its reference solution is DDIM with
1000 steps (the ODE's first-order solver at the training grid itself). From the same x_T, each solver at
5, 10 and 20 steps lands somewhere; printed is the root-mean-square distance to the reference over n
starts, for DDIM, DPM-Solver++(2M) (data prediction, Lu et al. 2022) and DPM-Solver-2M (the same
multistep scheme on the noise prediction). No thresholding (the 2D world has no data range). One JSON
line per (scale, steps).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cgd.guidance import classifier_guided_eps, conditional_model_fn  # noqa: E402
from cgd.samplers import sample_ddim, sample_dpmpp_2m  # noqa: E402
from cgd.toy.mixture import load_mixture  # noqa: E402
from cgd.toy.sampling import default_schedule, exact_models  # noqa: E402

SOLVERS = {"ddim": sample_ddim, "dpmpp-2m (data)": sample_dpmpp_2m,
           "dpm-2m (noise)": lambda *a, **k: sample_dpmpp_2m(*a, form="noise", **k)}


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--mixture", default="overlapping")
    p.add_argument("--label", type=int, default=0)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scales", default="1,3,8")
    p.add_argument("--steps", default="5,10,20")
    args = p.parse_args(argv)
    mix, sched = load_mixture(args.mixture), default_schedule()
    net, clf = exact_models(mix, sched)
    null = torch.tensor(mix.num_classes).expand(args.n)
    y = torch.tensor(args.label).expand(args.n)
    x_T = torch.randn(args.n, 2, generator=torch.Generator().manual_seed(args.seed), dtype=torch.float64)
    for s in (float(v) for v in args.scales.split(",")):
        field = classifier_guided_eps(conditional_model_fn(net, null), clf, y, s, sched)
        ref = sample_ddim(field, x_T, sched.grid(1000))
        for steps in (int(v) for v in args.steps.split(",")):
            row = {"mixture": args.mixture, "label": args.label, "s": s, "steps": steps, "n": args.n}
            for name, solver in SOLVERS.items():
                try:
                    x = solver(field, x_T, sched.grid(steps))
                    row[name] = round(float((x - ref).square().sum(-1).mean().sqrt()), 5)
                except Exception as e:  # noqa: BLE001 - a solver that diverges is a result here
                    row[name] = f"failed: {type(e).__name__}"
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
