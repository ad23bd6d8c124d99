"""Feynman-Kac SMC with learned 2D networks (issue #28, item 5): the weights from the eps predictions alone.

    python docs/smc_2d_learned.py --mixtures overlapping,near_and_far --seeds 1,2,3

For each preset mixture the 2D page's learned models are trained (``cgd.toy.learned``, ToyTrainConfig's defaults,
seed 0), then :func:`cgd.smc.fk_smc` runs at k = 3 (CG-DDPM s = 3, and CFG w = 2 with the same network's two eps),
100 steps, n = 2000, on class 0, with weights and resampling and without (the plain sampler with the same
proposal); the exact models run the same for reference. Each set is held against exact samples of
p(x) p(y|x)^3 (energy distance, beside the two-sample noise floor). Records: ``results/smc/learned_2d.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cgd.fileio import atomic_write  # noqa: E402
from cgd.methods import cg_on  # noqa: E402
from cgd.pipeline import SampleRequest  # noqa: E402
from cgd.smc import fk_smc  # noqa: E402
from cgd.toy.mixture import load_mixture, presets  # noqa: E402
from cgd.toy.oracle import exact_references, measure  # noqa: E402
from cgd.toy.sampling import default_schedule, exact_models, learned_models  # noqa: E402

OUT = ROOT / "results" / "smc" / "learned_2d.json"
RUNS = "cg-ddpm=3,cfg=2"  # method=scale: k = 3 both


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mixtures", default="overlapping,near_and_far")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--label", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--runs", default=RUNS, help="method=scale pairs, comma-separated")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    schedule = default_schedule()
    records = []
    for name in args.mixtures.split(","):
        mix = load_mixture(presets()[name])
        t0 = time.perf_counter()
        nets = {"learned": learned_models(mix, schedule), "exact": exact_models(mix, schedule)}
        print(f"{name}: learned models trained in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for seed in (int(s) for s in args.seeds.split(",")):
            for method, scale in ((m, float(v)) for m, _, v in (run.partition("=") for run in args.runs.split(","))):
                req = SampleRequest(method=method, label=args.label, scale=scale, steps=args.steps, n=args.n,
                                    seed=seed)
                r = req.validated(mix.num_classes, schedule.T)
                refs = exact_references(mix, r)
                for kind, (net, clf) in nets.items():
                    for smc in (True, False):
                        if kind == "exact" and method != cg_on("ddpm"):
                            continue  # with exact models CG and CFG are one score field (tests/test_fk_smc.py)
                        run = fk_smc(net, clf, schedule, req, shape=(2,), num_classes=mix.num_classes,
                                     labels=torch.full((args.n,), args.label, dtype=torch.long), resample=smc)
                        m = measure(mix, r, x0=run.x.double(), references=refs)
                        rec = {"mixture": name, "label": args.label, "method": method, "scale": scale, "k": run.k,
                               "models": kind, "smc": smc, "steps": args.steps, "n": args.n, "seed": seed,
                               "to_tilted": round(m.to_tilted, 5), "noise_floor": round(m.noise_floor, 5),
                               "over_floor": round(m.to_tilted / m.noise_floor, 2), "share_y": round(m.share_y, 4),
                               "far_share": None if m.far_share is None else round(m.far_share, 4),
                               "min_ess": round(min(run.ess), 4), "resampling_steps": sum(1 for c in run.resampled if c),
                               "ancestors": round(run.ancestors, 4),
                               "command": f"python docs/smc_2d_learned.py --mixtures {name} --seeds {seed}"}
                        records.append(rec)
                        print(f"{name} seed {seed} {method} {kind} {'SMC' if smc else 'plain'}: "
                              f"{rec['over_floor']}x the floor, far share {rec['far_share']}, "
                              f"ancestors {rec['ancestors']}", file=sys.stderr)
    out = Path(args.out)
    old = json.loads(out.read_text())["records"] if out.is_file() else []
    keep = [r for r in old if r["mixture"] not in args.mixtures.split(",")]
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, (json.dumps({"records": keep + records}, indent=1) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
