"""One-dimensional pictures of what the guidance scale does (numpy, float64, all exact).

* :func:`sharpen`: ``p(y|x)^s`` and the tilted density ``p(x) p(y|x)^s`` of a 1D two-class mixture.
* :func:`power_of_gaussian`: ``N(x; 0, 1)^s`` normalised is ``N(0, 1/s)`` (closed form): raising a whole
  density to a power is lowering its temperature to ``T = 1/s``.
* :func:`tempered_conditional` against :func:`sharpen`: guidance raises only the classifier factor to the
  power s, so p(x) p(y|x)^s is *not* p(x|y) at temperature 1/s (:func:`density_sd` measures both).
* :func:`taylor_check`: one guided reverse step done two ways — the exact product
  ``N(x_t; mu, Sigma) p_t(y | x_t)^s`` (normalised numerically) against the Gaussian-shift
  approximation ``N(mu + s Sigma g, Sigma)`` that classifier guidance uses (Dhariwal & Nichol 2021,
  eqs. 3-10: a first-order Taylor expansion of log p(y | x_t) around mu). The approximation is
  good when Sigma is small compared with the curvature scale of log p(y|x), i.e. with many steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from cgd.schedule import NoiseSchedule, eps_to_x0, posterior_mean_coefs, score_to_eps

__all__ = ["Mixture1D", "TWO_CLASSES", "sharpen", "power_of_gaussian", "tempered_conditional", "density_sd",
           "TaylorStep", "taylor_check", "total_variation"]


@dataclass(frozen=True)
class Mixture1D:
    means: tuple
    sds: tuple
    weights: tuple
    labels: tuple

    def _noised(self, alpha_bar: float):
        m = math.sqrt(alpha_bar) * np.asarray(self.means, float)
        v = alpha_bar * np.asarray(self.sds, float) ** 2 + (1.0 - alpha_bar)
        return m, v

    def component_log(self, x, alpha_bar: float = 1.0) -> np.ndarray:
        """log w_k N(x; m_k(t), v_k(t)): ``[len(x), K]``."""
        m, v = self._noised(alpha_bar)
        x = np.asarray(x, float)[:, None]
        w = np.asarray(self.weights, float)
        return np.log(w / w.sum()) - 0.5 * (x - m) ** 2 / v - 0.5 * np.log(2 * math.pi * v)

    def log_px(self, x, alpha_bar: float = 1.0) -> np.ndarray:
        return _lse(self.component_log(x, alpha_bar))

    def log_post(self, x, y: int, alpha_bar: float = 1.0) -> np.ndarray:
        """log p_t(y | x)."""
        lc = self.component_log(x, alpha_bar)
        mask = np.asarray(self.labels) == y
        return _lse(np.where(mask, lc, -np.inf)) - _lse(lc)

    def grad_log_post(self, x, y: int, alpha_bar: float = 1.0) -> np.ndarray:
        """d/dx log p_t(y | x) = E[score | y] - E[score] under the responsibilities."""
        m, v = self._noised(alpha_bar)
        lc = self.component_log(x, alpha_bar)
        comp_score = -(np.asarray(x, float)[:, None] - m) / v
        mask = np.asarray(self.labels) == y
        r_all = _softmax(lc)
        r_y = _softmax(np.where(mask, lc, -np.inf))
        return (r_y * comp_score).sum(1) - (r_all * comp_score).sum(1)

    def score(self, x, alpha_bar: float) -> np.ndarray:
        m, v = self._noised(alpha_bar)
        lc = self.component_log(x, alpha_bar)
        return (_softmax(lc) * (-(np.asarray(x, float)[:, None] - m) / v)).sum(1)


TWO_CLASSES = Mixture1D(means=(-1.0, 1.0), sds=(0.6, 0.6), weights=(1.0, 1.0), labels=(0, 1))


def _lse(a: np.ndarray) -> np.ndarray:
    mx = np.max(a, axis=1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return (mx + np.log(np.exp(a - mx).sum(1, keepdims=True)))[:, 0]


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _normalise(logd: np.ndarray, xs: np.ndarray) -> np.ndarray:
    d = np.exp(logd - logd.max())
    return d / np.trapezoid(d, xs)


def sharpen(xs: np.ndarray, y: int, scales, mixture: Mixture1D = TWO_CLASSES) -> dict:
    """For each s: ``p(y|x)^s`` (unnormalised, in [0, 1]) and the normalised ``p(x) p(y|x)^s``."""
    lp = mixture.log_post(xs, y)
    lx = mixture.log_px(xs)
    return {float(s): (np.exp(s * lp), _normalise(lx + s * lp, xs)) for s in scales}


def power_of_gaussian(xs: np.ndarray, s: float) -> np.ndarray:
    """``N(x; 0, 1)^s`` normalised over the whole line: ``N(0, 1/s)`` in closed form (temperature 1/s); s > 0."""
    if not s > 0:
        raise ValueError("the power s must be positive")
    xs = np.asarray(xs, float)
    return np.sqrt(s / (2 * math.pi)) * np.exp(-0.5 * s * xs**2)


def tempered_conditional(xs: np.ndarray, y: int, s: float, mixture: Mixture1D = TWO_CLASSES) -> np.ndarray:
    """``p(x|y)^s`` normalised (p(x|y) at temperature 1/s), on the grid ``xs``; s > 0."""
    if not s > 0:
        raise ValueError("the power s must be positive")
    return _normalise(s * (mixture.log_px(xs) + mixture.log_post(xs, y)), xs)


def density_sd(xs: np.ndarray, density: np.ndarray) -> float:
    """Standard deviation of a density given on the grid ``xs`` (trapezoid rule)."""
    mass = np.trapezoid(density, xs)
    mean = np.trapezoid(xs * density, xs) / mass
    return float(np.sqrt(np.trapezoid((xs - mean) ** 2 * density, xs) / mass))


def total_variation(p: np.ndarray, q: np.ndarray, xs: np.ndarray) -> float:
    return 0.5 * float(np.trapezoid(np.abs(p - q), xs))


@dataclass(frozen=True)
class TaylorStep:
    i: int  # index on the sampling grid
    t: int  # training timestep of x_{t}
    t_next: int  # the step the move lands on
    mu: float
    var: float
    grad: float  # g = d/dx log p(y | x) at mu, at t_next
    xs: np.ndarray
    exact: np.ndarray  # N(mu, var) p(y | x)^s, normalised
    approx: np.ndarray  # N(mu + s var g, var)
    tv: float


def taylor_check(x_t: float, y: int, scale: float, schedule: NoiseSchedule, steps: int, indices,
                 mixture: Mixture1D = TWO_CLASSES, points: int = 801) -> list:
    """Exact guided transition against the Gaussian-shift approximation at grid steps ``indices``.

    The reverse step from ``x_t`` uses the exact unconditional model of ``mixture`` (DDPM posterior
    mean with x0_hat from the exact score, variance beta_tilde of the respaced grid).
    """
    grid = schedule.grid(steps)
    out = []
    for i in indices:
        i = int(i)
        if not 0 <= i < len(grid) - 1:
            continue
        t, t_next = int(grid.timesteps[i]), int(grid.timesteps[i + 1])
        ab, ab_prev = float(grid.alpha_bar[i]), float(grid.alpha_bar_prev[i])
        x = torch.tensor([x_t], dtype=torch.float64)
        eps = score_to_eps(torch.tensor(mixture.score(np.array([x_t]), ab), dtype=torch.float64), grid.alpha_bar[i])
        x0_hat = eps_to_x0(x, eps, grid.alpha_bar[i])
        c_x0, c_xt = posterior_mean_coefs(grid.alpha_bar[i], grid.alpha_bar_prev[i], grid.betas[i])
        mu = float(c_x0 * x0_hat + c_xt * x)
        var = float(grid.posterior_variance[i])
        sd = math.sqrt(var)
        g = float(mixture.grad_log_post(np.array([mu]), y, ab_prev)[0])
        shifted = mu + scale * var * g
        lo, hi = min(mu, shifted) - 6 * sd, max(mu, shifted) + 6 * sd
        xs = np.linspace(lo, hi, points)
        log_gauss = -0.5 * (xs - mu) ** 2 / var
        exact = _normalise(log_gauss + scale * mixture.log_post(xs, y, ab_prev), xs)
        approx = _normalise(-0.5 * (xs - shifted) ** 2 / var, xs)
        out.append(TaylorStep(i, t, t_next, mu, var, g, xs, exact, approx, total_variation(exact, approx, xs)))
    return out
