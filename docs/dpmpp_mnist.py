"""How few DPM-Solver++(2M) steps match DDIM at 25 steps on MNIST (CG at the recommended s = 4, n = 500).

``bash docs/dpmpp_mnist.sh`` writes ``results/solvers/mnist_dpmpp.json`` (seeds 0, 1, 2; DDIM at 25 steps,
DPM-Solver++(2M) at 5, 8, 10 and 15); ``python docs/dpmpp_mnist.py`` prints, per sampler and steps, the
judge-FID and the judge's accuracy on the asked digit over the seeds (mean ± sd, min–max), and the fewest
DPM-Solver++(2M) steps whose 3-seed mean of both lies inside DDIM's 3-seed range (min–max) at 25 steps.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("fid", "judge_accuracy")


def table(records: list) -> dict:
    """{(sampler, steps): {field: np.array over seeds}}."""
    out = defaultdict(lambda: defaultdict(list))
    for r in records:
        for f in FIELDS:
            out[(r.get("sampler", "ddim"), r["steps"])][f].append(r[f])
    return {k: {f: np.array(v) for f, v in d.items()} for k, d in out.items()}


def fewest_equal_steps(rows: dict, reference=("ddim", 25)):
    """The fewest dpmpp-2m steps whose mean of every field lies in the reference's min-max; None if none."""
    ref = rows[reference]
    for sampler, steps in sorted(k for k in rows if k[0] == "dpmpp-2m"):
        if all(ref[f].min() <= rows[(sampler, steps)][f].mean() <= ref[f].max() for f in FIELDS):
            return steps
    return None


def main(path=ROOT / "results" / "solvers" / "mnist_dpmpp.json") -> int:
    rows = table(json.loads(Path(path).read_text())["records"])
    for (sampler, steps), d in sorted(rows.items()):
        cells = "  ".join(f"{f} {d[f].mean():.3f} ± {d[f].std(ddof=1) if len(d[f]) > 1 else 0:.3f} "
                          f"({d[f].min():.3f}–{d[f].max():.3f}, {len(d[f])} seeds)" for f in FIELDS)
        print(f"{sampler:9s} {steps:3d} steps  {cells}")
    print(f"fewest dpmpp-2m steps inside DDIM's 25-step range: {fewest_equal_steps(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
