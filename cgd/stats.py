"""Two-sample statistics used to compare sample clouds (tests and pages)."""

from __future__ import annotations

import torch

__all__ = ["energy_distance"]


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Squared energy distance (Szekely & Rizzo 2013) between samples x: [n, d] and y: [m, d].

    D^2 = 2 E|X - Y| - E|X - X'| - E|Y - Y'| (V-statistic form, float64); zero iff the laws agree.
    """
    x, y = x.double().reshape(len(x), -1), y.double().reshape(len(y), -1)
    return 2 * _mean_dist(x, y) - _mean_dist(x, x) - _mean_dist(y, y)


def _mean_dist(a: torch.Tensor, b: torch.Tensor, chunk: int = 4096) -> float:
    """E|A - B| over all pairs, in row chunks so memory stays at chunk x len(b)."""
    total = 0.0
    for start in range(0, len(a), chunk):
        total += float(torch.cdist(a[start:start + chunk], b).sum())
    return total / (len(a) * len(b))
