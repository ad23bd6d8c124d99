"""Images as arrays: samples in [-1, 1] to uint8, and tiles of them (the CLIs, the atlas and the pages share these)."""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["to_uint8", "image_grid"]


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
