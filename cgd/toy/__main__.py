"""Command line of the 2D toy world.

    python -m cgd.toy sample --mixture three_blobs --label 1 --scale 2 --method cg-ddpm \\
        --model exact --steps 1000 --n 2000 --seed 0 --out samples.npy
    python -m cgd.toy presets
    python -m cgd.toy measure --mixture near_and_far --label 0 --method cfg --scale 2 --steps 1000 --n 4000
    python -m cgd.toy sample --method rejection --mixture tilted_pair --label 2 --scale 3 --out exact.npy
    python -m cgd.toy measure --mixture near_and_far --label 0 --method cg-ddpm --scale 3 --steps 200 \
        --n 2000 --smc --smc-weights fk

``measure`` prints, as JSON lines, the squared energy distance of the exact models' guided samples to
exact samples of p(x|y) and of the tilted density p(x) p(y|x)^k, with the noise floor. ``--smc`` measures
sequential Monte Carlo (cgd/toy/smc.py) at the method's tilt k instead, ``--rejection`` rejection sampling.
``sample --method rejection`` draws exact samples of p(x) p(y|x)^k with k = --scale (k >= 0) and reports
the acceptance rate.

``--label none`` (or ``--scale 0`` with a classifier-guided method) samples p(x) unguided.
Bad input ends with a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cgd import methods as registry
from cgd.cliutil import Parser, add_method_options, method_fields
from cgd.cliutil import number as _number
from cgd.cliutil import run
from cgd.errors import CGDError
from cgd.pipeline import SAMPLERS, SampleRequest, default_sampler, scale_symbol

TOY_METHODS = registry.NAMES  # every method of the registry (cgd.methods) runs on the exact models
# SMC moves particles with the stochastic guided DDPM step of the method's tilt k: the guided methods with a tilt
# whose own sampler is DDPM
SMC_METHODS = tuple(m.name for m in registry.REGISTRY
                    if m.guided and m.tilt is not None and m.default_sampler == "ddpm")


def _guidance_options(p) -> None:
    """The options of the newer guidance methods, shared by ``sample`` and ``measure``."""
    p.add_argument("--interval", nargs=2, default=None, metavar=("LO", "HI"),
                   help="guide only at training timesteps LO <= t <= HI (0 999: every step; LO > HI: never)")
    p.add_argument("--corrector-steps", default="0", help="Langevin corrector steps after each step (0: none)")
    p.add_argument("--corrector-size", default="0.1",
                   help="corrector step on the score: size x (1 - alpha_bar_t), in (0, 1]")
    p.add_argument("--weak-inflate", default="2.0",
                   help="autoguidance: the weak model is the exact one with covariances x this factor")
    add_method_options(p)


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m cgd.toy", description="Guided sampling on 2D Gaussian mixtures.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample", help="draw guided samples and save them as [n, 2] float32 .npy")
    s.add_argument("--mixture", default="three_blobs", help="preset name or path to a mixture JSON file")
    s.add_argument("--label", default="0", help="class index, or 'none' for unguided p(x)")
    s.add_argument("--scale", default="1.0", help="guidance scale s (CFG: w)")
    s.add_argument("--method", default=registry.DEFAULT_SWEPT, choices=TOY_METHODS + ("rejection",),
                   help="rejection: exact samples of p(x) p(y|x)^k, k = --scale, by rejection from p(x)")
    s.add_argument("--model", default="exact", choices=("exact", "learned"))
    s.add_argument("--steps", default="1000", help="sampling steps (respaced grid of the T=1000 diffusion)")
    s.add_argument("--eta", default="0.0", help="DDIM eta (ddim sampler only)")
    s.add_argument("--sampler", default=None, choices=SAMPLERS, help="override the method's sampler")
    s.add_argument("--gradient-at", default="x_t", choices=("x_t", "mu"), help="where the classifier gradient is taken")
    s.add_argument("--train-steps", default="2500", help="training steps of the learned eps-network "
                   "(the classifier gets half as many)")
    s.add_argument("--n", default="2000", help="number of samples")
    s.add_argument("--seed", default="0")
    s.add_argument("--out", required=True, help="output .npy path")
    _guidance_options(s)
    sub.add_parser("presets", help="list the preset mixtures")
    m = sub.add_parser("measure", help="energy distance of guided samples (exact models) to p(x|y) and to "
                                       "the tilted density p(x) p(y|x)^k")
    m.add_argument("--mixture", default="near_and_far")
    m.add_argument("--label", default="0")
    m.add_argument("--method", default=registry.DEFAULT_SWEPT, choices=registry.guided_names())
    m.add_argument("--scale", default="1,2,3", help="comma-separated scales (CFG: w)")
    m.add_argument("--steps", default="1000")
    m.add_argument("--sampler", default=None, choices=SAMPLERS, help="override the method's sampler")
    m.add_argument("--n", default="4000")
    m.add_argument("--seed", default="0")
    m.add_argument("--smc", action="store_true",
                   help="measure sequential Monte Carlo (targets p(x) p(y|x)^k, k the method's tilt) instead of the sampler")
    m.add_argument("--smc-weights", default="exact", choices=("exact", "fk"),
                   help="SMC weights: exact 2D densities, or Feynman-Kac weights from the scores alone")
    m.add_argument("--smc-moves", default="3", help="SMC: MALA moves after every step (0: none)")
    m.add_argument("--smc-path", default="tempered", choices=("tempered", "guided"),
                   help="SMC's intermediate targets: tempered (the diffusion at k = 0 or 1, then k reached at the "
                        "data by tempering; meets the noise floor) or guided (p_t(x) p_t(y|x)^k at every level)")
    m.add_argument("--rejection", action="store_true",
                   help="measure exact rejection sampling (x ~ p(x) kept with probability p(y|x)^k) instead")
    _guidance_options(m)
    return p


def _newer(args) -> dict:
    """SampleRequest fields of the newer guidance options."""
    interval = None if args.interval is None else tuple(_number(v, "interval", int) for v in args.interval)
    return dict(interval=interval, corrector_steps=_number(args.corrector_steps, "corrector-steps", int),
                corrector_size=_number(args.corrector_size, "corrector-size"), **method_fields(args))


def _weak(args, mixture, schedule):
    from cgd.toy.sampling import weak_exact_model

    if "weak" not in registry.get(args.method).needs:
        return None
    return weak_exact_model(mixture, schedule, _number(args.weak_inflate, "weak-inflate"))


def _refuse_smc_options(args) -> None:
    """SMC and rejection sample the tilted density themselves: the sampler's own options do not apply."""
    what = "--smc" if args.smc else "--rejection"
    if args.smc and args.rejection:
        raise CGDError("--smc and --rejection are two samplers: choose one")
    method = registry.get(args.method)
    if args.smc and args.method not in SMC_METHODS:
        why = method.no_tilt or "its DDIM step is deterministic, so it has no proposal density"
        raise CGDError(f"--smc supports {', '.join(SMC_METHODS)}, not {args.method}: {why}")
    if args.rejection and method.tilt is None:
        raise CGDError(f"--rejection needs a tilt p(y|x)^k; {method.no_tilt}")
    if args.sampler == "ddim":
        raise CGDError(f"{what} does not use the DDIM sampler: leave --sampler out")
    if args.interval is not None or args.corrector_steps not in ("0", "0.0"):
        raise CGDError(f"{what} does not use --interval or --corrector-steps: they change the guided sampler only")
    if args.smc:  # refused before any progress bar is drawn
        from cgd.toy.smc import check_particles

        check_particles(_number(args.n, "n", int))


def _smc(args, mixture, req, schedule):
    """SMC samples for a measure request and what to print about them."""
    from cgd.pipeline import tilt_exponent
    from cgd.toy.smc import smc_tilted

    r = req.validated(mixture.num_classes, schedule.T)
    res = smc_tilted(mixture, r.label, tilt_exponent(r.method, r.scale), schedule, steps=r.steps, n=r.n, seed=r.seed,
                     weights=args.smc_weights, moves=_number(args.smc_moves, "smc-moves", int), path=args.smc_path)
    return res.samples, {"smc": True, "smc_path": res.path, "smc_weights": res.weights, "smc_moves": res.moves,
                         "temper_levels": res.temper_levels, "resamples": res.resamples,
                         "min_ess_share": round(min(res.ess), 4), "ancestors": res.ancestors[-1],
                         "acceptance": round(res.acceptance, 4), "score_evals_per_sample": res.score_evals}


def _rejection(mixture, req, schedule):
    """Rejection samples of p(x) p(y|x)^k for a measure request and its acceptance rate."""
    import torch

    from cgd.pipeline import tilt_exponent
    from cgd.toy.oracle import rejection_samples

    r = req.validated(mixture.num_classes, schedule.T)
    res = rejection_samples(mixture, r.label, tilt_exponent(r.method, r.scale), r.n,
                            torch.Generator().manual_seed(r.seed))
    return res.samples, {"rejection": True, "acceptance_rate": round(res.acceptance_rate, 6),
                         "proposals_per_sample": round(res.proposals / r.n, 4)}


def _sample_rejection(args, mixture) -> int:
    """``sample --method rejection``: exact samples of p(x) p(y|x)^k with k = --scale."""
    import torch

    from cgd.toy.oracle import rejection_samples

    if args.label.strip().lower() == "none":
        raise CGDError("rejection sampling tilts toward a class: give --label")
    if args.model != "exact":
        raise CGDError("rejection sampling draws from the exact mixture: --model learned does not apply")
    k = _number(args.scale, "scale")
    n = _number(args.n, "n", int)
    if not 1 <= n <= 1_000_000:
        raise CGDError(f"n must be between 1 and 1000000, got {n}")
    seed = _number(args.seed, "seed", int)
    if not 0 <= seed < 2**63:
        raise CGDError(f"seed must be between 0 and 2^63 - 1, got {seed}")
    out = Path(args.out)
    if not out.parent.exists():
        raise CGDError(f"output folder {out.parent} does not exist")
    t0 = time.perf_counter()
    res = rejection_samples(mixture, _number(args.label, "label", int), k, n, torch.Generator().manual_seed(seed))
    np.save(out, res.samples.numpy().astype(np.float32))
    print(f"wrote {out} ({n} x 2) in {time.perf_counter() - t0:.2f} s; acceptance rate {res.acceptance_rate:.4g} "
          f"({res.proposals} draws of p(x) for {n} samples, k = {k:g})")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    return run(_run, args)


def _run(args) -> int:
    from cgd.toy.mixture import load_mixture, presets

    if args.cmd == "presets":
        for name, path in presets().items():
            m = load_mixture(path)
            print(f"{name}: {m.name} ({m.num_components} components, {m.num_classes} classes)")
        return 0

    from cgd.toy.sampling import default_schedule, exact_models, learned_models, toy_sample

    mixture = load_mixture(args.mixture)
    if args.cmd == "sample" and args.method == "rejection":
        return _sample_rejection(args, mixture)
    if args.cmd == "measure" and (args.smc or args.rejection):
        _refuse_smc_options(args)
    if args.cmd == "measure":
        import json

        from cgd.toy.oracle import as_dict, measure

        schedule = default_schedule()
        models = exact_models(mixture, schedule)
        scales = [_number(v, "scale") for v in args.scale.split(",") if v.strip()]
        for s in tqdm(scales, desc=f"measure {args.method}", unit="scale"):
            req = SampleRequest(method=args.method, label=_number(args.label, "label", int), scale=s,
                                steps=_number(args.steps, "steps", int), n=_number(args.n, "n", int),
                                seed=_number(args.seed, "seed", int), sampler=args.sampler, **_newer(args))
            if not 10 <= req.n <= 20_000:
                raise CGDError(f"n must be between 10 and 20000 for measure, got {req.n}")
            x0, extra = None, {}
            if args.smc:
                x0, extra = _smc(args, mixture, req, schedule)
            elif args.rejection:
                x0, extra = _rejection(mixture, req, schedule)
            elif "weak" in registry.get(args.method).needs:
                x0 = toy_sample(mixture, req.validated(mixture.num_classes, schedule.T), models=models,
                                schedule=schedule, weak=_weak(args, mixture, schedule))
            out = as_dict(measure(mixture, req, models=models, schedule=schedule, x0=x0))
            print(json.dumps({"mixture": args.mixture, "label": req.label, "steps": req.steps, "n": req.n,
                              "sampler": args.sampler or default_sampler(args.method),
                              "interval": req.interval, "corrector_steps": req.corrector_steps,
                              "corrector_size": req.corrector_size, **extra, **out}))
        return 0
    label = None if args.label.strip().lower() == "none" else _number(args.label, "label", int)
    request = SampleRequest(method=args.method, label=label, scale=_number(args.scale, "scale"),
                            steps=_number(args.steps, "steps", int), n=_number(args.n, "n", int),
                            seed=_number(args.seed, "seed", int), eta=_number(args.eta, "eta"),
                            sampler=args.sampler, gradient_at=args.gradient_at, **_newer(args))
    schedule = default_schedule()
    request = request.validated(mixture.num_classes, schedule.T)
    out = Path(args.out)
    if not out.parent.exists():
        raise CGDError(f"output folder {out.parent} does not exist")

    t0 = time.perf_counter()
    if args.model == "exact":
        models = exact_models(mixture, schedule)
    else:
        from cgd.toy.learned import ToyTrainConfig

        steps = _number(args.train_steps, "train-steps", int)
        if not 10 <= steps <= 100_000:
            raise CGDError(f"train-steps must be between 10 and 100000, got {steps}")
        cfg = ToyTrainConfig(steps=steps, classifier_steps=max(steps // 2, 10))
        bar = tqdm(desc="training toy models", unit="step", total=cfg.steps + cfg.classifier_steps)

        def progress(info):
            bar.n = info["step"] + (cfg.steps if info["model"] == "classifier" else 0)
            bar.set_postfix(model=info["model"], loss=f"{info['loss']:.4f}")

        models = learned_models(mixture, schedule, cfg, callback=progress)
        bar.close()
    weak = _weak(args, mixture, schedule)  # a bad factor is refused before any progress is drawn
    with tqdm(total=request.steps, desc=f"{request.method} {scale_symbol(request.method)}={request.scale:g}", unit="step") as bar:
        x = toy_sample(mixture, request, models=models, schedule=schedule, callback=lambda info: bar.update(1),
                       weak=weak)
    np.save(out, x.numpy().astype(np.float32))
    print(f"wrote {out} ({request.n} x 2) in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
