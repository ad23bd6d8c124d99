"""What judge-FID, precision and recall read on *real* images at n = 500, over many draws.

``python docs/real_spread.py --dataset mnist --seeds 0-9`` measures n training images (never in the test
set that the reference statistics come from), drawn with each seed exactly as ``python -m cgd.quality``
draws its ``real_train`` row (seed 0 reproduces that row), with the same ``cgd.evaluate.measure_images``,
and writes ``results/spread/<dataset>_real_n<n>.json``: one record per seed, then mean and sd.

Why: docs/results.md compared samples with one such draw ("500 real images score 0.92") as if it were a
floor; a single draw is neither a floor nor exact. FID from n samples is biased upward (the sample
covariance's noise adds to the distance) and varies from draw to draw; this measures by how much.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cgd.data import load_dataset  # noqa: E402
from cgd.evaluate import REFERENCE_FILE, load_reference, measure_images  # noqa: E402
from cgd.models import checkpoint_root, load_image_models  # noqa: E402

FIELDS = ("fid", "precision", "recall", "judge_accuracy")


def seeds_of(text: str) -> list:
    """``"0-9"`` or ``"0,3,5"`` -> a list of seeds."""
    if "-" in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",")]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--seeds", default="0-9")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    models = load_image_models(args.dataset, device=torch.device("cpu"))
    ref = load_reference(checkpoint_root() / args.dataset / REFERENCE_FILE)
    train = load_dataset(args.dataset, "train")
    records = []
    for seed in seeds_of(args.seeds):
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:args.n]
        x, y = train.batch(idx)
        m = measure_images(models, ref, x, y, seed=seed)
        records.append({"dataset": args.dataset, "what": "real training images", "n": args.n, "seed": seed,
                        **{k: m[k] for k in FIELDS}})
        print(json.dumps(records[-1]))
    summary = {k: {"mean": round(float(np.mean([r[k] for r in records])), 4),
                   "sd": round(float(np.std([r[k] for r in records], ddof=1)), 4),
                   "min": min(r[k] for r in records), "max": max(r[k] for r in records)} for k in FIELDS}
    out = ROOT / "results" / "spread" / f"{args.dataset}_real_n{args.n}.json"
    out.write_text(json.dumps({"command": "python docs/real_spread.py " + " ".join(sys.argv[1:] if argv is None
                                                                                  else argv),
                               "summary": summary, "real": records}, indent=1) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
