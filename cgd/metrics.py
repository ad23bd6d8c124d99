"""Sample-quality metrics: arrays in, floats out.

Features and class probabilities come from the judge (``cgd.nn.judge``), a classifier of clean
images that never guides sampling; it stands in for Inception on 28x28 data.

* :func:`fid` — Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017):
  ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^{1/2})``.
* :func:`inception_score` — ``exp E_x KL(p(y|x) || p(y))`` (Salimans et al. 2016).
* :func:`precision_recall` — k-NN manifold estimates (Kynkäänniemi et al. 2019), k = 3.
* :func:`judge_accuracy` — share of samples the judge assigns to the asked class.
* :func:`background_speckle` — mean intensity of the background far from any stroke (issue #15's
  measure of the salt-and-pepper noise that strong classifier guidance can leave).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

__all__ = ["gaussian_stats", "frechet_distance", "fid", "inception_score", "precision_recall", "judge_accuracy",
           "class_shares", "background_speckle"]


def gaussian_stats(features: np.ndarray) -> tuple:
    """``(mu [D], sigma [D, D])`` in float64 of features ``[N, D]``."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"need features [N >= 2, D], got shape {list(f.shape)}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2); guarded against singular products."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError("the two sets of statistics have different dimensions")
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():  # singular product: nudge both covariances
        off = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + off) @ (s2 + off))
    if np.iscomplexobj(covmean):
        if np.abs(covmean.imag).max() > 1e-3 * max(1.0, np.abs(covmean.real).max()):
            raise ValueError(f"sqrtm gave a large imaginary part ({np.abs(covmean.imag).max():.3g})")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def inception_score(probs: np.ndarray, eps: float = 1e-12) -> float:
    """IS of class probabilities ``[N, C]``: 1 for identical predictions, C for confident, balanced ones."""
    p = np.asarray(probs, dtype=np.float64)
    p_y = p.mean(0, keepdims=True)
    kl = (p * (np.log(p + eps) - np.log(p_y + eps))).sum(1)
    return float(np.exp(kl.mean()))


def _kth_radius(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    out = []
    for i in range(0, len(x), chunk):
        d = torch.cdist(x[i:i + chunk], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(out)


def _covered(query: torch.Tensor, ref: torch.Tensor, radii: torch.Tensor, chunk: int) -> torch.Tensor:
    hits = []
    for i in range(0, len(query), chunk):
        d = torch.cdist(query[i:i + chunk], ref)
        hits.append((d <= radii[None, :]).any(1))
    return torch.cat(hits)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3, chunk: int = 1024) -> tuple:
    """``(precision, recall)``: share of fake samples inside the real k-NN manifold, and vice versa."""
    r = torch.as_tensor(np.asarray(real), dtype=torch.float64)
    f = torch.as_tensor(np.asarray(fake), dtype=torch.float64)
    if len(r) <= k or len(f) <= k:
        raise ValueError(f"precision/recall needs more than k={k} samples in each set")
    precision = float(_covered(f, r, _kth_radius(r, k, chunk), chunk).double().mean())
    recall = float(_covered(r, f, _kth_radius(f, k, chunk), chunk).double().mean())
    return precision, recall


def judge_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    p = np.asarray(probs)
    return float((p.argmax(1) == np.asarray(labels)).mean())


def class_shares(probs: np.ndarray) -> np.ndarray:
    """The share of the N rows of ``probs`` ([N, C]) whose most probable class is each of the C classes ([C])."""
    p = np.asarray(probs)
    return np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)


def background_speckle(images, *, stroke: float = 0.5, margin: float = 3.0) -> float:
    """Mean intensity of the pixels more than ``margin`` px (Euclidean) from any stroke pixel.

    images: ``[N, 1, H, W]`` or ``[N, H, W]`` in [-1, 1] (the samplers' range); intensity is
    ``(x + 1) / 2`` clipped to [0, 1] (as the image is shown), and a stroke pixel is one with
    intensity >= ``stroke``. Real MNIST test digits score 0.000: their background is exactly black.
    An image with no stroke at all is all background. Returns the mean over every such pixel of
    every image (0.0 if there is none).
    """
    import scipy.ndimage

    x = np.asarray(images.detach().cpu() if torch.is_tensor(images) else images, dtype=np.float64)
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"background_speckle needs grey images [N, 1, H, W], got shape {list(x.shape)}")
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"background_speckle needs images [N, H, W], got shape {list(x.shape)}")
    intensity = np.clip((x + 1.0) / 2.0, 0.0, 1.0)  # as the image is shown
    total, count = 0.0, 0
    for img in intensity:
        ink = img >= stroke
        if ink.any():
            far = scipy.ndimage.distance_transform_edt(~ink) > margin
        else:
            far = np.ones_like(ink)
        total += float(img[far].sum())
        count += int(far.sum())
    return total / count if count else 0.0
