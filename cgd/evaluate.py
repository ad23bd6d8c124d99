"""Measure guidance like the paper: FID, IS, precision/recall, judge and classifier accuracy per (method, scale).

    python -m cgd.evaluate --dataset mnist --methods cg-ddpm,cfg --scales 0,1,2,4,10 --n 1000 --steps 25 \\
        --seed 0 --out results/mnist_sweep.json

Labels are drawn uniformly at random per sample (as the paper does) from the seed; every
(method, scale) sees the same labels and the same starting noise, so differences between rows
are the guidance's, not the draw's. Features come from the judge; the real side is the shipped
reference file ``checkpoints/DATASET/reference.npz`` (judge statistics of the test set), made by
``python -m cgd.evaluate --dataset mnist --make-reference``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from cgd import methods as registry
from cgd.cliutil import Parser, add_method_options, method_fields
from cgd.cliutil import number, run
from cgd.device import pick_device
from cgd.errors import InputError
from cgd.fileio import atomic_write
# the measuring code lives in cgd.measure (cgd.quality uses it too); its names are re-exported here
from cgd.measure import (REFERENCE_FILE, Reference, draw_labels, evaluate_one, judge_outputs,  # noqa: F401
                         load_reference, make_reference, measure_images, model_tag, save_reference)
from cgd.models import FILES, checkpoint_root, load_image_models
from cgd.pipeline import SAMPLERS, SampleRequest
from cgd.results import current

__all__ = ["Reference", "judge_outputs", "make_reference", "load_reference", "evaluate_one", "measure_images",
           "model_tag", "main"]


def _list(text: str, what: str, kind=float) -> list:
    items = [s for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{what} must be a comma-separated list")
    return [number(s, what, kind) for s in items]


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    p.add_argument("--methods", default=registry.DEFAULT_SWEPT, help=f"comma-separated, of {', '.join(registry.NAMES)}")
    p.add_argument("--scales", default="0,1,2,4,10", help="comma-separated (CFG: w)")
    p.add_argument("--n", default="1000")
    p.add_argument("--steps", default="25")
    p.add_argument("--seed", default="0")
    p.add_argument("--batch", default="250")
    p.add_argument("--sampler", default=None, choices=SAMPLERS,
                   help="override each method's own sampler (recorded when given)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", default=None, help="results JSON (records are appended; existing ones are kept)")
    p.add_argument("--make-reference", action="store_true", help="compute the test-set reference statistics")
    p.add_argument("--interval", nargs=2, default=None, metavar=("LO", "HI"),
                   help="guide only at training timesteps LO <= t <= HI (limited-interval guidance)")
    add_method_options(p)
    p.add_argument("--unet", default=None, metavar="PATH",
                   help="measure this U-Net (a training snapshot, say) instead of the shipped unet.safetensors; "
                        "records name it by its file name and digest")
    p.add_argument("--weak", default=None, metavar="PATH",
                   help="autoguidance's weak U-Net (default: the shipped unet_weak.safetensors)")
    args = p.parse_args(argv)
    return run(_run, args)


def _run(args) -> int:
    device = pick_device(args.device)
    folder = checkpoint_root() / args.dataset
    if args.make_reference:
        models = load_image_models(args.dataset, device=device, need=("unet", "judge"))
        ref = make_reference(models, args.dataset, Path(args.data_root) if args.data_root else None)
        save_reference(ref, folder / REFERENCE_FILE)
        print(f"wrote {folder / REFERENCE_FILE} ({ref.n} test images, {ref.features.shape[1]}-d judge features)")
        return 0
    if not args.out:
        raise InputError("--out is required (a results .json file)")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in registry.NAMES]
    if bad or not methods:
        raise InputError(f"unknown method(s) {', '.join(bad) or '(none)'}; choose from {', '.join(registry.NAMES)}")
    weak_path = Path(args.weak) if args.weak else None
    if weak_path is not None and not weak_path.is_file():
        raise InputError(f"weak U-Net {weak_path} not found")
    unet_path = Path(args.unet) if args.unet else None
    if unet_path is not None and not unet_path.is_file():
        raise InputError(f"U-Net {unet_path} not found")
    scales = _list(args.scales, "scales")
    n, steps, seed, batch = (number(args.n, "n", int), number(args.steps, "steps", int),
                             number(args.seed, "seed", int), number(args.batch, "batch", int))
    if not 4 <= n <= 50_000:
        raise InputError(f"n must be between 4 and 50000, got {n}")
    if batch < 1:
        raise InputError(f"batch must be positive, got {batch}")
    interval = None if args.interval is None else tuple(number(v, "interval", int) for v in args.interval)
    fields = method_fields(args)
    for m in methods:  # validate every request before any work
        SampleRequest(method=m, label=0, scales=scales, steps=steps, n=1, seed=seed, interval=interval,
                      sampler=args.sampler, **fields).validated(10, 1000)
    options = {m: SampleRequest(method=m, label=0, scale=0.0, **fields).options for m in methods}
    out = Path(args.out)
    if not out.parent.exists():
        raise InputError(f"output folder {out.parent} does not exist")
    records = []
    if out.is_file():
        try:
            records = json.loads(out.read_text())["records"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{out} exists but is not a results file; choose another --out") from None
    needs = {what for m in methods for what in registry.get(m).needs}
    need = ("unet", "judge") + (("classifier",) if folder.joinpath("classifier.safetensors").is_file() else ())
    if "classifier" in needs:
        need = ("unet", "classifier", "judge")
    if "weak" in needs:
        need = need + ("weak",)
    models = load_image_models(args.dataset, device=device, need=need, weak_path=weak_path, unet_path=unet_path)
    if models.judge is None:
        raise InputError(f"the judge checkpoint is missing in {folder}")
    if "weak" in needs and models.weak_unet is None:
        raise InputError(f"{', '.join(m for m in methods if 'weak' in registry.get(m).needs)} needs a weak U-Net: "
                         f"none in {folder}; give one with --weak PATH")
    weak = None if models.weak_unet is None else model_tag(weak_path or folder / FILES["weak"])
    unet = model_tag(unet_path or folder / FILES["unet"])
    ref = load_reference(folder / REFERENCE_FILE)
    # the unguided models have no scale: one record each, at the first scale's place
    todo = [(m, s) for m in methods for s in scales if registry.get(m).guided or s == scales[0]]

    def key(r):
        return (r["method"], float(r["scale"]), r["n"], r["steps"], r["seed"], tuple(r.get("interval") or ()),
                r.get("weak"), tuple(sorted((r.get("options") or {}).items())), r.get("guidance_schedule", "constant"),
                r.get("sampler"))

    done = {key(r) for r in records if r.get("dataset") == args.dataset and current(r) and r.get("unet") == unet}
    todo = [(m, s) for m, s in todo
            if (m, float(s), n, steps, seed, tuple(interval or ()), weak if "weak" in registry.get(m).needs else None,
                options[m], fields["guidance_schedule"], args.sampler) not in done]
    with tqdm(total=len(todo) * n * steps, desc=f"evaluate {args.dataset}", unit="img-step") as bar:
        for m, s in todo:
            t0 = time.perf_counter()
            bsize = [min(batch, n - i) for i in range(0, n, batch)]
            counter = {"k": 0}

            def tick():
                bar.update(bsize[min(counter["k"] // steps, len(bsize) - 1)])
                counter["k"] += 1

            rec = evaluate_one(models, ref, m, s if registry.get(m).guided else 0.0, n=n, steps=steps, seed=seed,
                               batch=batch, on_step=tick, interval=interval, options=options[m],
                               guidance_schedule=fields["guidance_schedule"], sampler=args.sampler)
            rec = {"dataset": args.dataset, **rec, "unet": unet,
                   **({"weak": weak} if "weak" in registry.get(m).needs else {}),
                   "seconds": round(time.perf_counter() - t0, 1)}
            records.append(rec)
            atomic_write(out, json.dumps({"records": records}, indent=1).encode())
            bar.write(f"{m:8s} scale {rec['scale']:<5g} FID {rec['fid']:8.3f}  IS {rec['inception_score']:5.2f}  "
                      f"P {rec['precision']:.3f}  R {rec['recall']:.3f}  judge {rec['judge_accuracy']:.3f}  "
                      f"speckle {rec['background_speckle']:.4f}")
    print(f"wrote {out} ({len(records)} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
