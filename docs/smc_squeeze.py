"""Why SMC on the guided path misses a component's share on random-2, class 1 (issue #28): the squeeze.

Along the guided path the intermediate targets are pi_t = p_t(x) p_t(y|x)^k. For each level of the 200-step grid
this records pi_t's share of the far component (a grid integral, exact) and, for the two runs that ended 10-14x
the floor (exact weights seed 2, Feynman-Kac weights seed 3), the particles' weighted share and their ESS:

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python docs/smc_squeeze.py --out results/smc/squeeze_random2.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from cgd.toy.oracle import random_mixture
from cgd.toy.sampling import default_schedule
from cgd.toy.smc import ess, log_tilted, smc_tilted
from cgd.toy.views import far_component, nearest_component

MIXTURE, LABEL, K, STEPS, N = 2, 1, 3.0, 200, 2000
RUNS = (("exact", 2), ("fk", 3))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/smc/squeeze_random2.json")
    args = p.parse_args()
    mixture = random_mixture(MIXTURE)
    far = far_component(mixture, LABEL)
    g = torch.linspace(-7.0, 7.0, 500, dtype=torch.float64)
    pts = torch.stack([c.ravel() for c in torch.meshgrid(g, g, indexing="ij")], 1)
    on_far = nearest_component(mixture, pts) == far

    def exact_share(alpha_bar: float) -> float:
        p_grid = torch.softmax(log_tilted(mixture, pts, LABEL, K, torch.tensor(alpha_bar, dtype=torch.float64)), 0)
        return float(p_grid[on_far].sum())

    runs = {}
    for weights, seed in RUNS:
        levels = {}

        def callback(d, levels=levels):
            w = torch.softmax(d["logw"], 0)
            levels[d["i"]] = (float(w[nearest_component(mixture, d["x"]) == far].sum()), ess(d["logw"]) / N)

        res = smc_tilted(mixture, LABEL, K, default_schedule(), steps=STEPS, n=N, seed=seed, weights=weights,
                         path="guided", callback=callback)
        final = float((nearest_component(mixture, res.samples) == far).double().mean())
        runs[f"{weights}, seed {seed}"] = {"levels": levels, "final_far_share": round(final, 4)}
        print(f"{weights} seed {seed}: final far share {final:.3f}", flush=True)
    grid = default_schedule().grid(STEPS)
    alpha = [float(a) for a in grid.alpha_bar] + [1.0]
    rows = []
    for i in range(10, STEPS + 1, 10):
        row = {"i": i, "alpha_bar": round(alpha[i], 5), "far_share_exact": round(exact_share(alpha[i]), 4)}
        for name, run in runs.items():
            share, e = run["levels"][i]
            row[name] = {"far_share": round(share, 4), "ess_share": round(e, 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"what": __doc__.splitlines()[0], "command": f"python docs/smc_squeeze.py --out {out}",
                               "mixture": f"random-{MIXTURE}", "label": LABEL, "k": K, "steps": STEPS, "n": N,
                               "final_far_share": {k: v["final_far_share"] for k, v in runs.items()},
                               "rows": rows}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
