"""What the Training page shows of the small 2D networks while they train, as numbers (no figures here).

* :func:`classifier_grid`: the learned classifier's p_phi(y | x, t) over the plane, beside the exact p_t(y | x)
  of the mixture (at t = 0 the exact class posterior of the data), as TensorFlow Playground draws its boundary.
* :func:`learned_histogram`: a 2D histogram of samples of the learned ε-network (unconditional: null label, DDPM
  ancestral steps), beside the exact p(x) on the same cells: how far the learned density is from the data's.
"""

from __future__ import annotations

import numpy as np
import torch

from cgd.methods import unconditional
from cgd.pipeline import SampleRequest
from cgd.schedule import NoiseSchedule
from cgd.toy.mixture import Mixture
from cgd.toy.sampling import toy_sample
from cgd.toy.views import extent

__all__ = ["classifier_grid", "learned_histogram", "exact_cell_mass", "total_variation"]


def _grid_points(lo: float, hi: float, res: int):
    xs = np.linspace(lo, hi, res)
    gx, gy = np.meshgrid(xs, xs)  # z[row, col] sits at (x = xs[col], y = xs[row]), as cgd.toy.views' grids
    return xs, torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))


@torch.no_grad()
def classifier_grid(classifier, mixture: Mixture, schedule: NoiseSchedule, *, t: int = 0, res: int = 61,
                    box: tuple | None = None) -> dict:
    """``xs [res]``, the learned ``p_phi(y | x, t)`` and the exact ``p_t(y | x)``, each ``[res, res, classes]``.

    The exact posterior: softmax over y of log p_t(x, y) (the mixture noised to ``alpha_bar[t]``).
    """
    lo, hi = box or extent(mixture)
    xs, pts = _grid_points(lo, hi, res)
    t_vec = torch.full((len(pts),), int(t), dtype=torch.long)
    learned = torch.softmax(classifier(pts.float(), t_vec).double(), 1)
    exact = torch.softmax(mixture.class_log_joint(pts, float(schedule.alpha_bar[int(t)])), 1)
    k = mixture.num_classes
    return {"xs": xs, "learned": learned.reshape(res, res, k).numpy(), "exact": exact.reshape(res, res, k).numpy()}


def exact_cell_mass(mixture: Mixture, edges: np.ndarray, sub: int = 4) -> np.ndarray:
    """``[bins, bins]``: the probability p(x) puts in each cell of the square grid ``edges`` (midpoint rule on
    ``sub x sub`` points per cell), normalised over the grid; rows are x2, columns x1 (as the histograms)."""
    bins = len(edges) - 1
    width = edges[1] - edges[0]
    fine = edges[0] + (np.arange(bins * sub) + 0.5) * width / sub
    gx, gy = np.meshgrid(fine, fine)
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
    dens = torch.logsumexp(mixture.class_log_joint(pts, 1.0), 1).exp().numpy().reshape(bins * sub, bins * sub)
    mass = dens.reshape(bins, sub, bins, sub).sum(axis=(1, 3))
    return mass / mass.sum()


@torch.no_grad()
def learned_histogram(eps_net, classifier, mixture: Mixture, schedule: NoiseSchedule, *, n: int = 2000,
                      steps: int = 50, seed: int = 0, bins: int = 40, box: tuple | None = None) -> dict:
    """Samples of the learned unconditional model binned on the plotting box, and the exact p(x) per cell.

    Returns ``edges [bins + 1]``, ``learned [bins, bins]`` and ``exact [bins, bins]`` (both shares of the
    points / of the mass, rows x2, columns x1), and ``tv``, the total-variation distance between the two
    histograms (0: the same; 1: disjoint), and ``tv_exact``, the same for n exact samples of p(x) (drawn with
    ``seed``): the part of ``tv`` that is the sample's own noise.
    """
    lo, hi = box or extent(mixture)
    request = SampleRequest(method=unconditional(), label=None, scale=0.0, steps=steps, n=n, seed=seed)
    x = toy_sample(mixture, request, models=(eps_net, classifier), schedule=schedule).double().numpy()
    edges = np.linspace(lo, hi, bins + 1)
    hist, _, _ = np.histogram2d(x[:, 1], x[:, 0], bins=[edges, edges])  # rows x2, columns x1
    learned = hist / n  # points outside the box count as lost mass
    exact = exact_cell_mass(mixture, edges)
    x_exact, _ = mixture.sample(n, torch.Generator().manual_seed(seed))
    x_exact = x_exact.numpy()
    hist_exact, _, _ = np.histogram2d(x_exact[:, 1], x_exact[:, 0], bins=[edges, edges])
    return {"edges": edges, "learned": learned, "exact": exact, "tv": total_variation(learned, exact),
            "tv_exact": total_variation(hist_exact / n, exact)}


def total_variation(shares: np.ndarray, mass: np.ndarray) -> float:
    """Total-variation distance between a histogram's shares of n points (points outside the cells count as
    mass off the grid) and a distribution's mass on the same cells (summing to 1)."""
    return float(0.5 * np.abs(shares - mass).sum() + 0.5 * (1.0 - shares.sum()))
