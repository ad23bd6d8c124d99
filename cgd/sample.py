"""Sampling CLI for the image models.

    python -m cgd.sample --dataset mnist --method cg-ddim --label 3 --scale 4 --steps 50 --n 16 \\
        --seed 0 --out grid.png --out-npy samples.npy

Models load weights-only from ``--checkpoint-dir`` (default ``checkpoints/DATASET``):
``unet.safetensors`` and, for classifier-guided methods, ``classifier.safetensors``.
Without ``--scale`` each method uses the dataset's recommended scale (``cgd.models.recommended_scale``).
Same seed, same images.
``--out-npy`` writes uint8 ``[n, H, W]`` (gray) or ``[n, H, W, 3]`` (color).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from cgd.cliutil import Parser
from cgd.cliutil import number as _number
from cgd.cliutil import run
from cgd.data import DATASETS
from cgd.device import pick_device
from cgd.errors import CGDError
from cgd.models import CLASSIFIER_METHODS, load_image_models, recommended_scale, sample_images
from cgd.pipeline import METHODS, SAMPLERS, SampleRequest


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[n, C, H, W] in [-1, 1] -> uint8 [n, H, W] (C = 1) or [n, H, W, 3]."""
    u8 = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    return u8[:, 0] if u8.shape[1] == 1 else u8.transpose(0, 2, 3, 1)


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile uint8 images [n, H, W(, 3)] into one grid image with a dark border."""
    n, h, w = images.shape[:3]
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + images.shape[3:]
    grid = np.zeros(shape, dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[k]
    return grid


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.sample", description="Guided sampling of images.")
    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    p.add_argument("--method", default="cg-ddim", choices=METHODS)
    p.add_argument("--label", default="0", help="class index, or 'none' (unguided p(x))")
    p.add_argument("--scale", default=None, help="guidance scale (CFG: w); default per method")
    p.add_argument("--steps", default="50")
    p.add_argument("--eta", default="0.0")
    p.add_argument("--sampler", default=None, choices=SAMPLERS, help="override the method's sampler")
    p.add_argument("--n", default="16")
    p.add_argument("--seed", default="0")
    p.add_argument("--checkpoint", default=None, help="U-Net weights (default CHECKPOINT_DIR/unet.safetensors)")
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", default=None, help="grid PNG")
    p.add_argument("--out-npy", default=None)
    args = p.parse_args(argv)
    return run(_run, args)


def _run(args) -> int:
    device = pick_device(args.device)
    label = None if args.label.strip().lower() == "none" else _number(args.label, "label", int)
    scale = recommended_scale(args.dataset, args.method) if args.scale is None else _number(args.scale, "scale")
    info = DATASETS[args.dataset]
    request = SampleRequest(method=args.method, label=label, scale=scale, steps=_number(args.steps, "steps", int),
                            n=_number(args.n, "n", int), seed=_number(args.seed, "seed", int),
                            eta=_number(args.eta, "eta"), sampler=args.sampler, x0_mode="clip")
    request = request.validated(len(info.classes), 1000)
    if request.n > 4096:
        raise CGDError(f"n must be at most 4096 per run, got {request.n}")
    for out in (args.out, args.out_npy):
        if out and not Path(out).parent.exists():
            raise CGDError(f"output folder {Path(out).parent} does not exist")
    need = ("unet", "classifier") if args.method in CLASSIFIER_METHODS else ("unet",)
    models = load_image_models(args.dataset, device=device, need=need,
                               unet_path=Path(args.checkpoint) if args.checkpoint else None,
                               folder=Path(args.checkpoint_dir) if args.checkpoint_dir else None)
    request = request.validated(models.num_classes, models.schedule.T)
    with tqdm(total=request.steps, desc=f"{request.method} s={request.scale:g}", unit="step") as bar:
        x = sample_images(models, request, callback=lambda d: bar.update(1))
    images = to_uint8(x)
    if args.out_npy:
        np.save(args.out_npy, images)
    if args.out:
        import matplotlib.pyplot as plt

        plt.imsave(args.out, image_grid(images), cmap="gray" if images.ndim == 3 else None, vmin=0, vmax=255)
    print(f"sampled {request.n} images ({request.method}, label {label}, scale {request.scale:g}, {request.steps} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
