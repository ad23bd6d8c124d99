"""Feynman-Kac SMC with the shipped MNIST networks (issue #28, item 5): does reweighting help on images?

    python docs/smc_mnist.py --method cg-ddpm --scale 4 --seeds 0,1,2      # CG: g from the classifier
    python docs/smc_mnist.py --method cfg --scale 0.5 --seeds 0,1,2        # CFG: g from the two eps

Each (method, scale, seed) runs twice with the same proposal, the guided eps-form DDPM step of
:func:`cgd.smc.fk_smc`: with Feynman-Kac weights and resampling per class, and without (the plain sampler it
corrects). n = 500 particles (the batch; labels drawn as cgd.evaluate draws them), 25 steps. Both sets are
measured as cgd.evaluate measures (judge-FID, precision, recall, the judge's accuracy on the asked digit).
Records go to ``results/smc/mnist_fk.json`` (a record that is there is not run again); ``--summary`` prints the
table of docs/results.md from them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cgd.errors import InputError  # noqa: E402
from cgd.fileio import atomic_write  # noqa: E402
from cgd.measure import REFERENCE_FILE, draw_labels, load_reference, measure_images, model_tag  # noqa: E402
from cgd.methods import cg_on  # noqa: E402
from cgd.models import FILES, checkpoint_root, load_image_models  # noqa: E402
from cgd.pipeline import SampleRequest  # noqa: E402
from cgd.smc import fk_smc  # noqa: E402

OUT = ROOT / "results" / "smc" / "mnist_fk.json"


def run_one(models, ref, method: str, scale: float, seed: int, *, n: int, steps: int, smc: bool,
            ess_threshold: float) -> dict:
    labels = draw_labels(n, models.num_classes, seed)
    req = SampleRequest(method=method, label=0, scale=scale, steps=steps, n=n, seed=seed, x0_mode="clip")
    t0 = time.perf_counter()

    def on_step(i):
        print(f"\r  {method} {scale:g} seed {seed} {'SMC' if smc else 'plain'}: step {i + 1}/{steps}", end="",
              file=sys.stderr, flush=True)

    run = fk_smc(models.unet, models.classifier, models.schedule, req, shape=models.shape,
                 num_classes=models.num_classes, labels=labels, device=models.device, resample=smc,
                 ess_threshold=ess_threshold, on_step=on_step)
    seconds = time.perf_counter() - t0
    print(file=sys.stderr)
    return {"dataset": "mnist", "method": method, "scale": float(scale), "k": run.k, "n": n, "steps": steps,
            "seed": seed, "smc": smc, "ess_threshold": ess_threshold if smc else None,
            "ess_by_step": [round(v, 4) for v in run.ess], "min_ess": round(min(run.ess), 4),
            "resampled_by_step": list(run.resampled), "resampling_steps": sum(1 for c in run.resampled if c),
            "ancestors": round(run.ancestors, 4), "seconds": round(seconds, 1),
            "unet": model_tag(checkpoint_root() / "mnist" / FILES["unet"]),
            "command": f"python docs/smc_mnist.py --method {method} --scale {scale:g} --seeds {seed} --n {n} "
                       f"--steps {steps}",
            **measure_images(models, ref, run.x.cpu(), run.labels, seed=seed)}


def summary(records: list) -> list:
    """Rows (method, scale, smc, fields as mean ± sd over the seeds)."""
    rows = {}
    for r in records:
        rows.setdefault((r["method"], r["scale"], r["smc"]), []).append(r)
    out = []
    for (m, s, smc), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        def ms(f):
            v = np.array([r[f] for r in rs], dtype=float)
            return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}"
        out.append({"method": m, "scale": s, "smc": smc, "seeds": sorted(r["seed"] for r in rs),
                    **{f: ms(f) for f in ("fid", "judge_accuracy", "precision", "recall", "min_ess", "ancestors",
                                          "resampling_steps")}})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default=cg_on("ddpm"))
    p.add_argument("--scale", type=float, default=4.0)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--ess-threshold", type=float, default=0.5)
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--summary", action="store_true", help="print the table from the records and stop")
    args = p.parse_args(argv)
    out = Path(args.out)
    records = json.loads(out.read_text())["records"] if out.is_file() else []
    if args.summary:
        for row in summary(records):
            print(row)
        return 0
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
        models = load_image_models("mnist", need=("unet", "classifier", "judge"))
        ref = load_reference(checkpoint_root() / "mnist" / REFERENCE_FILE)
        for seed in seeds:
            for smc in (True, False):
                key = (args.method, float(args.scale), args.n, args.steps, seed, smc)
                if any((r["method"], r["scale"], r["n"], r["steps"], r["seed"], r["smc"]) == key for r in records):
                    continue
                rec = run_one(models, ref, args.method, args.scale, seed, n=args.n, steps=args.steps, smc=smc,
                              ess_threshold=args.ess_threshold)
                records.append(rec)
                out.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(out, (json.dumps({"records": records}, indent=1) + "\n").encode())
                print(f"{args.method} {args.scale:g} seed {seed} {'SMC' if smc else 'plain'}: judge-FID {rec['fid']}, "
                      f"judge {rec['judge_accuracy']:.1%}, P {rec['precision']}, R {rec['recall']}, "
                      f"min ESS {rec['min_ess']}, ancestors {rec['ancestors']}, {rec['seconds']} s")
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
