"""Sampling CLI for the image models.

    python -m cgd.sample --dataset mnist --method cg-ddim --label 3 --scale 4 --steps 50 --n 16 \\
        --seed 0 --out grid.png --out-npy samples.npy
    python -m cgd.sample --method apg --scale 4 --param eta=0 --param r=10 --out grid.png
    python -m cgd.sample --method cfg --scale 2 --guidance-schedule cosine --out grid.png

Models load weights-only from ``--checkpoint-dir`` (default ``checkpoints/DATASET``):
``unet.safetensors`` and what the method needs (:mod:`cgd.methods`): ``classifier.safetensors`` for
classifier guidance, ``unet_weak.safetensors`` for autoguidance.
Without ``--scale`` each method uses the dataset's recommended scale (``cgd.models.recommended_scale``),
or its own default where none was measured. Same seed, same images.
``--out-npy`` writes uint8 ``[n, H, W]`` (gray) or ``[n, H, W, 3]`` (color).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cgd import methods as registry
from cgd.cliutil import Parser, add_method_options, method_fields
from cgd.cliutil import number as _number
from cgd.cliutil import run
from cgd.data import DATASETS
from cgd.device import pick_device
from cgd.errors import CGDError
from cgd.imaging import image_grid, to_uint8  # noqa: F401 - image_grid re-exported (the library's, not this CLI's)
from cgd.models import load_image_models, recommended_scale, sample_images
from cgd.pipeline import SAMPLERS, SampleRequest


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.sample", description="Guided sampling of images.")
    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    p.add_argument("--method", default=registry.DEFAULT, choices=registry.NAMES)
    p.add_argument("--label", default="0", help="class index, or 'none' (unguided p(x))")
    p.add_argument("--scale", default=None, help="guidance scale (CG: s, CFG-type: w, CFG++: λ); default per method")
    p.add_argument("--steps", default="50")
    p.add_argument("--eta", default="0.0")
    p.add_argument("--sampler", default=None, choices=SAMPLERS, help="override the method's sampler")
    p.add_argument("--interval", nargs=2, default=None, metavar=("LO", "HI"),
                   help="guide only at training timesteps LO <= t <= HI (limited-interval guidance)")
    add_method_options(p)
    p.add_argument("--n", default="16")
    p.add_argument("--seed", default="0")
    p.add_argument("--checkpoint", default=None, help="U-Net weights (default CHECKPOINT_DIR/unet.safetensors)")
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--weak", default=None, metavar="PATH",
                   help="autoguidance's weak U-Net (default CHECKPOINT_DIR/unet_weak.safetensors)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", default=None, help="grid PNG")
    p.add_argument("--out-npy", default=None)
    args = p.parse_args(argv)
    return run(_run, args)


def _run(args) -> int:
    device = pick_device(args.device)
    method = registry.get(args.method)
    label = None if args.label.strip().lower() == "none" else _number(args.label, "label", int)
    scale = recommended_scale(args.dataset, method.name) if args.scale is None else _number(args.scale, "scale")
    interval = None if args.interval is None else tuple(_number(v, "interval", int) for v in args.interval)
    info = DATASETS[args.dataset]
    request = SampleRequest(method=method.name, label=label, scale=scale, steps=_number(args.steps, "steps", int),
                            n=_number(args.n, "n", int), seed=_number(args.seed, "seed", int),
                            eta=_number(args.eta, "eta"), sampler=args.sampler, x0_mode="clip", interval=interval,
                            **method_fields(args))
    request.validated(len(info.classes), 1000)  # the class and the steps, before any model is loaded
    if request.n > 4096:
        raise CGDError(f"n must be at most 4096 per run, got {request.n}")
    for out in (args.out, args.out_npy):
        if out and not Path(out).parent.exists():
            raise CGDError(f"output folder {Path(out).parent} does not exist")
    weak_path = Path(args.weak) if args.weak else None
    if weak_path is not None and not weak_path.is_file():
        raise CGDError(f"weak U-Net {weak_path} not found")
    models = load_image_models(args.dataset, device=device, need=("unet",) + method.needs,
                               unet_path=Path(args.checkpoint) if args.checkpoint else None,
                               folder=Path(args.checkpoint_dir) if args.checkpoint_dir else None, weak_path=weak_path)
    knob = registry.scale_symbol(method.name)
    with tqdm(total=request.steps, desc=f"{request.method} {knob}={request.scale:g}", unit="step") as bar:
        x = sample_images(models, request, callback=lambda d: bar.update(1))
    images = to_uint8(x)
    if args.out_npy:
        np.save(args.out_npy, images)
    if args.out:
        import matplotlib.pyplot as plt

        plt.imsave(args.out, image_grid(images), cmap="gray" if images.ndim == 3 else None, vmin=0, vmax=255)
    print(f"sampled {request.n} images ({request.method}, label {label}, {knob} = {request.scale:g}, "
          f"{request.steps} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
