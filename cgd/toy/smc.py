"""Sequential Monte Carlo that does sample the tilted density p(x) p(y|x)^k, with exact weights.

The guided sampler follows the score of pi_t(x) = p_t(x) p_t(y|x)^k at every level, but the
pi_t are not the marginals of one diffusion, so it ends away from pi_0 (the 2D page measures
how far). SMC fixes that with importance weights, which the 2D world can compute exactly:

* particles start from N(0, I), weighted by pi_T / N(0, I);
* each step moves them with the guided DDPM step q(x' | x) (the proposal: exact score, the
  classifier gradient at x_t, as :func:`cgd.guidance.make_mean_shift`, variance beta), and multiplies the weight by
  pi_{t'}(x') L(x | x') / (pi_t(x) q(x' | x)), where L is the forward noising kernel of the respaced
  grid, N(x; sqrt(1 - beta_i) x', beta_i I) (Del Moral, Doucet & Jasra 2006: SMC samplers with a
  backward kernel; with k = 1 the proposal is close to L's reversal and the weights stay flat);
* whenever the effective sample size falls below ``ess_threshold * n`` the particles are resampled
  (systematic resampling).

The last level is the grid's last timestep (t = 0, alpha_bar = 1 - beta_1, 1e-2 of noise sd):
the particles, resampled to equal weights, are the answer. With exact densities the only errors
are Monte Carlo ones (finitely many particles; weight degeneracy shows in the ESS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from cgd.schedule import NoiseSchedule, eps_to_x0, posterior_mean_coefs, score_to_eps
from cgd.toy.mixture import Mixture

__all__ = ["log_tilted", "SMCResult", "smc_tilted"]


def log_tilted(mixture: Mixture, x: torch.Tensor, label: int, k: float, alpha_bar) -> torch.Tensor:
    """log p_t(x) + k log p_t(y|x) (unnormalised log pi_t), ``[B]`` float64."""
    joint = mixture.class_log_joint(x, alpha_bar)
    log_px = torch.logsumexp(joint, 1)
    return log_px + k * (joint[:, label] - log_px)


def _log_normal(x: torch.Tensor, mean: torch.Tensor, var) -> torch.Tensor:
    """log N(x; mean, var I) in 2D, ``[B]``."""
    return -0.5 * ((x - mean) ** 2).sum(1) / var - math.log(2 * math.pi * float(var))


def _systematic(logw: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Indices of n particles drawn in proportion to exp(logw) with one uniform (low variance)."""
    n = logw.shape[0]
    w = torch.softmax(logw, 0)
    u = (torch.rand(1, generator=gen, dtype=torch.float64) + torch.arange(n, dtype=torch.float64)) / n
    return torch.searchsorted(torch.cumsum(w, 0), u).clamp(max=n - 1)


def ess(logw: torch.Tensor) -> float:
    """Effective sample size 1 / sum(w^2) of normalised weights."""
    w = torch.softmax(logw, 0)
    return float(1.0 / (w * w).sum())


@dataclass(frozen=True)
class SMCResult:
    samples: torch.Tensor  # [n, 2] float64, equally weighted draws of the last level's target
    ess: tuple  # the effective sample size before each step (and at the end), as a share of n
    resamples: int  # how many times the particles were resampled


def smc_tilted(mixture: Mixture, label: int, k: float, schedule: NoiseSchedule, *, steps: int = 100,
               n: int = 4000, seed: int = 0, ess_threshold: float = 0.5) -> SMCResult:
    """``n`` samples of p(x) p(y|x)^k (y = ``label``) by SMC over ``steps`` levels of the schedule."""
    grid = schedule.grid(steps)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    logw = log_tilted(mixture, x, label, k, grid.alpha_bar[0]) - _log_normal(x, torch.zeros(2, dtype=x.dtype), 1.0)
    shares, resamples = [], 0
    for i in range(len(grid) - 1):
        shares.append(ess(logw) / n)
        if shares[-1] < ess_threshold:
            x = x[_systematic(logw, gen)]
            logw = torch.zeros_like(logw)
            resamples += 1
        ab, ab_next, beta = grid.alpha_bar[i], grid.alpha_bar_prev[i], grid.betas[i]
        # the proposal's variance: beta_i ("large"), not beta_tilde. The true reverse kernel is wider than
        # beta_tilde by c_x0^2 Var[x_0 | x_t]; at the last steps of a short grid beta_tilde is 20x too
        # narrow (measured: the ESS fell to 2%), and a too-narrow proposal is what degenerates weights.
        var = float(beta)
        score = mixture.score(x, ab)
        x0_hat = eps_to_x0(x, score_to_eps(score, ab), ab)
        c_x0, c_xt = posterior_mean_coefs(ab, ab_next, beta)
        g = mixture.score(x, ab, y=label) - score  # grad log p_t(y | x) at x_t
        mean = c_x0 * x0_hat + c_xt * x + k * var * g
        x_next = mean + math.sqrt(var) * torch.randn(n, 2, generator=gen, dtype=torch.float64)
        logw = (logw + log_tilted(mixture, x_next, label, k, ab_next) - log_tilted(mixture, x, label, k, ab)
                + _log_normal(x, (1.0 - beta).sqrt() * x_next, float(beta)) - _log_normal(x_next, mean, var))
        x = x_next
    shares.append(ess(logw) / n)
    return SMCResult(x[_systematic(logw, gen)], tuple(shares), resamples)
