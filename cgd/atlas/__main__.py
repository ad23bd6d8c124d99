"""Build or check the scale atlas of a dataset's shipped models.

    python -m cgd.atlas build --dataset mnist [--n 8] [--steps 25] [--seed 0] [--trajectory-seeds 2]
                              [--methods cg-ddpm,cg-ddim,cfg,cond+cg[,autoguidance]] [--work runs/atlas] [--threads N]
    python -m cgd.atlas check --dataset mnist

``build`` samples every cell (method x class, all scales in one batch) and writes ``atlas.npz`` and
``atlas.json`` next to the models. Finished cells are kept under ``--work``: the same command run
again after an interruption starts at the first missing cell.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from tqdm import tqdm

from cgd.atlas import ATLAS_METHODS, GUIDED_METHODS, AtlasConfig, build_atlas, load_atlas, save_atlas
from cgd.cliutil import Parser, number, run
from cgd.methods import get as get_method
from cgd.data import DATASETS


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.atlas", description="The scale atlas: fixed seeds over a dense grid of scales.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="sample the atlas and write it next to the models")
    c = sub.add_parser("check", help="load the shipped atlas and say whether it matches the models")
    for q in (b, c):
        q.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
        q.add_argument("--root", default=None, help="checkpoint folder (default: checkpoints/ or $CGD_CHECKPOINTS)")
    b.add_argument("--n", default="8", help="seeds per class, method and scale")
    b.add_argument("--steps", default="25")
    b.add_argument("--seed", default="0")
    b.add_argument("--trajectory-seeds", default="2", help="seeds that keep x0_hat along the steps")
    b.add_argument("--trajectory-every", default="2", help="keep x0_hat after every this many steps")
    b.add_argument("--methods", default=None,
                   help=f"comma-separated, of {', '.join(ATLAS_METHODS)} (default: the guided methods, and "
                        "those needing a weak U-Net when the dataset ships one)")
    b.add_argument("--work", default="runs/atlas", help="finished cells are kept here (resume)")
    b.add_argument("--threads", default=None, help="torch threads (default: torch's choice)")
    b.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    return run(_build if args.command == "build" else _check, args)


def _folder(args) -> Path:
    from cgd.models import checkpoint_root

    return (Path(args.root) if args.root else checkpoint_root()) / args.dataset


def _check(args) -> int:
    atlas = load_atlas(_folder(args))
    rec = atlas.record
    print(f"{_folder(args) / 'atlas.npz'}: ok, {rec['bytes'] / 1e6:.1f} MB, made by `{rec['command']}` "
          f"in {rec['build_seconds']:.0f} s on {rec['device']}")
    return 0


def _build(args) -> int:
    import torch

    from cgd.device import pick_device
    from cgd.models import load_image_models

    from cgd.models import FILES

    if args.methods is not None:
        methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    else:
        weak = (_folder(args) / FILES["weak"]).is_file()
        methods = GUIDED_METHODS + (tuple(m for m in ATLAS_METHODS if "weak" in get_method(m).needs) if weak else ())
    cfg = AtlasConfig(dataset=args.dataset, methods=methods,
                      n=number(args.n, "n", int), steps=number(args.steps, "steps", int),
                      seed=number(args.seed, "seed", int),
                      trajectory_seeds=number(args.trajectory_seeds, "trajectory seeds", int),
                      trajectory_every=number(args.trajectory_every, "trajectory stride", int)).checked()
    if args.threads is not None:
        torch.set_num_threads(number(args.threads, "threads", int))
    folder = _folder(args)
    device = pick_device(args.device)
    models = load_image_models(args.dataset, root=folder.parent, device=device)
    if models.classifier is None or models.judge is None:
        raise ValueError(f"the atlas needs the classifier and the judge in {folder}")
    t0 = time.perf_counter()
    bar = tqdm(total=len(cfg.methods) * models.num_classes * cfg.steps, unit="step", desc=f"atlas {args.dataset}")

    def progress(what, done, total):
        bar.set_postfix_str(what, refresh=False)
        bar.update(done - bar.n)

    arrays = build_atlas(models, cfg, folder, work_dir=Path(args.work), progress=progress)
    bar.close()
    command = "python -m cgd.atlas " + " ".join(shlex.quote(a) for a in (argv_of(args)))
    rec = save_atlas(arrays, cfg, folder, command=command, device=str(device))
    print(f"wrote {folder / 'atlas.npz'} ({rec['bytes'] / 1e6:.1f} MB): {rec['build_seconds']:.0f} s of sampling, "
          f"{time.perf_counter() - t0:.0f} s in this run")
    return 0


def argv_of(args) -> list:
    """The build's settings as a command line (recorded, so the same command rebuilds it)."""
    out = ["build", "--dataset", args.dataset, "--n", args.n, "--steps", args.steps, "--seed", args.seed,
           "--trajectory-seeds", args.trajectory_seeds, "--trajectory-every", args.trajectory_every]
    if args.methods is not None:
        out += ["--methods", args.methods]
    return out


if __name__ == "__main__":
    sys.exit(main())
