"""The guidance zoo on the exact 2D oracle (cgd/toy/zoo.py), recorded with its command.

``python docs/zoo_2d.py --mixture overlapping --label 0 --k 3 --steps 100 --n 1000 --seeds 0,1,2`` runs every
guided method of the registry at its matched setting (k = 3 where the method has a tilt exponent, else the
class share of the exact p(x)·p(y|x)^3) once per seed and writes ``results/toy/zoo_<mixture>_y<label>_k<k>.json``:
the rows of each seed, and per method the mean and the spread over the seeds of each measure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cgd.fileio import atomic_write  # noqa: E402
from cgd.toy.mixture import load_mixture  # noqa: E402
from cgd.toy.zoo import guidance_zoo, zoo_dict  # noqa: E402

FIELDS = ("scale", "share_y", "spread", "to_conditional", "to_tilted")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mixture", default="overlapping")
    p.add_argument("--label", type=int, default=0)
    p.add_argument("--k", type=float, default=3.0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    mixture = load_mixture(args.mixture)
    seeds = [int(v) for v in args.seeds.split(",")]
    t0 = time.perf_counter()
    runs = [zoo_dict(guidance_zoo(mixture, args.label, k0=args.k, steps=args.steps, n=args.n, seed=s)) for s in seeds]
    summary = {}
    for row in runs[0]["rows"]:
        key = row["key"]
        per = [next(r for r in run["rows"] if r["key"] == key) for run in runs]
        summary[key] = {f: {"mean": round(statistics.mean(r[f] for r in per), 6),
                            "sd": round(statistics.stdev(r[f] for r in per), 6) if len(per) > 1 else None}
                        for f in FIELDS}
        summary[key]["matched_by"] = row["matched_by"]
        summary[key]["reached"] = all(r["reached"] for r in per)
    floor = [run["noise_floor"] for run in runs]
    command = "python docs/zoo_2d.py " + " ".join(sys.argv[1:])
    record = {"command": command, "mixture": args.mixture, "label": args.label, "k0": args.k, "steps": args.steps,
              "n": args.n, "seeds": seeds, "target_share": runs[0]["target_share"],
              "noise_floor": {"mean": round(statistics.mean(floor), 6), "values": floor},
              "summary": summary, "runs": runs, "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(args.out) if args.out else ROOT / "results" / "toy" / f"zoo_{args.mixture}_y{args.label}_k{args.k:g}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, (json.dumps(record, indent=1) + "\n").encode())
    print(f"wrote {out} in {record['seconds']:.0f} s")
    for key, s in summary.items():
        print(f"{key:22s} {s['matched_by']:5s} scale {s['scale']['mean']:6.3f}  share {s['share_y']['mean']:.3f}  "
              f"spread {s['spread']['mean']:.3f}  D2(p(x|y)) {s['to_conditional']['mean']:.4f} "
              f"± {s['to_conditional']['sd'] or 0:.4f}  D2(tilted) {s['to_tilted']['mean']:.4f} "
              f"± {s['to_tilted']['sd'] or 0:.4f}")
    print(f"noise floor {record['noise_floor']['mean']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
