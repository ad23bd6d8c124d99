"""Records of sampling p(x) p(y|x)^k for real (issue #28): SMC with exact and Feynman-Kac weights, rejection
sampling and the guided sampler, on every preset and class and on seeded random mixtures, against exact samples.

    OMP_NUM_THREADS=1 .venv/bin/python docs/smc_records.py --out results/smc/k3_tempered.json
    OMP_NUM_THREADS=1 .venv/bin/python docs/smc_records.py --out results/smc/k3.json --path guided
    OMP_NUM_THREADS=1 .venv/bin/python docs/smc_records.py --rates results/smc/rejection_rates.json

Every row of a preset is what ``python -m cgd.toy measure`` prints for the command in its ``command`` field
(the same references, seeds and settings); the seeded random mixtures (cgd.toy.oracle.random_mixture) are
written beside the output as JSON files, which the commands load. Rejection rows are exact samples measured the same way: how far a perfect
sampler lands from the same reference set, the yardstick for every other row.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from cgd.methods import cg_on
from cgd.pipeline import SampleRequest
from cgd.toy.mixture import load_mixture, presets
from cgd.toy.oracle import (as_dict, exact_references, measure, random_mixture, rejection_samples,
                            tilt_normaliser)
from cgd.toy.sampling import default_schedule, exact_models, toy_sample
from cgd.toy.smc import smc_tilted

K, STEPS, N = 3.0, 200, 2000
RATE_KS = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0)


def _command(source: str, label: int, seed: int, how: str, moves: int = 3, path: str = "tempered") -> str:
    base = (f"python -m cgd.toy measure --mixture {source} --label {label} --method cg-ddpm --scale {K:g} "
            f"--steps {STEPS} --n {N} --seed {seed}")
    more = "" if moves == 3 else f" --smc-moves {moves}"
    smc = f" --smc --smc-path {path}"
    return base + {"smc-exact": smc + " --smc-weights exact" + more, "smc-fk": smc + " --smc-weights fk" + more,
                   "rejection": " --rejection", "sampler": ""}[how]


def rows_for(mixture, name: str, label: int, seed: int, source: str, schedule, models, moves: int = 3,
             path: str = "tempered") -> list:
    req = SampleRequest(method=cg_on("ddpm"), label=label, scale=K, steps=STEPS, n=N, seed=seed)
    refs = exact_references(mixture, req.validated(mixture.num_classes, schedule.T))
    out = []
    for how in ("smc-exact", "smc-fk", "rejection", "sampler"):
        t0 = time.perf_counter()
        extra = {}
        if how.startswith("smc"):
            res = smc_tilted(mixture, label, K, schedule, steps=STEPS, n=N, seed=seed, weights=how[4:], moves=moves,
                             path=path)
            x0 = res.samples
            extra = {"path": path, "temper_levels": res.temper_levels, "resamples": res.resamples, "min_ess_share": round(min(res.ess), 4),
                     "ess_share_end": round(res.ess[-1], 4), "ancestors": res.ancestors[-1],
                     "ancestors_min": min(res.ancestors), "acceptance": round(res.acceptance, 4),
                     "score_evals_per_sample": res.score_evals}
        elif how == "rejection":
            rej = rejection_samples(mixture, label, K, N, torch.Generator().manual_seed(seed))
            x0 = rej.samples
            extra = {"acceptance_rate": round(rej.acceptance_rate, 6),
                     "acceptance_rate_exact": round(tilt_normaliser(mixture, label, K), 6),
                     "proposals_per_sample": round(rej.proposals / N, 4)}
        else:
            x0 = toy_sample(mixture, req, models=models, schedule=schedule)
            extra = {"score_evals_per_sample": STEPS}
        seconds = time.perf_counter() - t0
        m = as_dict(measure(mixture, req, models=models, schedule=schedule, x0=x0, references=refs))
        out.append({"mixture": name, "label": label, "seed": seed, "sampler": how, "k": K, "steps": STEPS, "n": N,
                    **extra, **m, "ratio_to_floor": round(m["to_tilted"] / m["noise_floor"], 3),
                    "ratio_to_expected_floor": round(m["to_tilted"] / m["floor_expected"], 3),
                    "seconds": round(seconds, 2),
                    "command": _command(source, label, seed, how, moves, path)})
        print(json.dumps({k: out[-1][k] for k in ("mixture", "label", "seed", "sampler", "to_tilted", "noise_floor",
                                                   "floor_expected", "far_share")}), flush=True)
    return out


def rates(out: Path) -> int:
    """Rejection sampling's acceptance rate against k on every preset and class: measured (n = 2000, seed 0) and
    exact (Z_k on a grid)."""
    rows = []
    for name in presets():
        mixture = load_mixture(name)
        for label in range(mixture.num_classes):
            for k in RATE_KS:
                rej = rejection_samples(mixture, label, k, N, torch.Generator().manual_seed(0))
                rows.append({"mixture": name, "label": label, "k": k, "n": N, "seed": 0,
                             "acceptance_rate": round(rej.acceptance_rate, 6),
                             "acceptance_rate_exact": round(tilt_normaliser(mixture, label, k), 6),
                             "proposals_per_sample": round(rej.proposals / N, 3),
                             "command": f"python -m cgd.toy sample --method rejection --mixture {name} --label {label} "
                                        f"--scale {k:g} --n {N} --seed 0 --out /tmp/x.npy"})
                print(json.dumps(rows[-1]), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"what": rates.__doc__.split(":")[0].strip(),
                               "command": f"python docs/smc_records.py --rates {out}", "rows": rows}, indent=1))
    print(f"wrote {out} ({len(rows)} rows)")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/smc/k3.json")
    p.add_argument("--rates", default=None, help="write rejection's acceptance rate against k here instead")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--random", default="1,2,3", help="seeds of random mixtures (cgd.toy.oracle.random_mixture)")
    p.add_argument("--moves", type=int, default=3, help="SMC: MALA moves after every step")
    p.add_argument("--path", default="tempered", choices=("tempered", "guided"), help="SMC's intermediate targets")
    args = p.parse_args()
    if args.rates:
        return rates(Path(args.rates))
    seeds = [int(s) for s in args.seeds.split(",")]
    schedule = default_schedule()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cases = [(name, load_mixture(name), name) for name in presets()]
    for r in (int(r) for r in args.random.split(",") if r.strip()):
        path = out.parent / f"random-{r}.json"
        path.write_text(json.dumps(random_mixture(r).to_dict()))
        cases.append((f"random-{r}", random_mixture(r), str(path)))
    rows = []
    for name, mixture, source in cases:
        models = exact_models(mixture, schedule)
        for label in range(mixture.num_classes):
            for seed in seeds:
                rows += rows_for(mixture, name, label, seed, source, schedule, models, args.moves, args.path)
    cmd = (f"python docs/smc_records.py --out {out} --seeds {args.seeds} --path {args.path}"
           + (f" --moves {args.moves}" if args.moves != 3 else ""))
    out.write_text(json.dumps({"what": __doc__.splitlines()[0], "command": cmd, "moves": args.moves, "path": args.path,
                               "k": K, "steps": STEPS, "n": N, "seeds": seeds, "rows": rows}, indent=1))
    print(f"wrote {out} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
