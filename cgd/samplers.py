"""Reverse-process samplers: DDPM ancestral, DDIM and DPM-Solver++(2M), one signature for all.

``sampler(model_fn, x, grid, *, generator=None, callback=None, **options) -> x_0``

* ``model_fn(x_t, t) -> eps_hat`` (or a :class:`ModelOutput`), with
  ``x_t: [B, ...]`` and ``t: [B] long`` *training* timesteps.
* ``x``: the starting noise x_T, ``[B, ...]`` (e.g. ``[B, C, H, W]`` in [-1, 1]
  space, or ``[B, 2]`` for the 2D toy world).
* ``grid``: a :class:`cgd.schedule.SamplingGrid`; ``i`` indexes it, ``t = grid.timesteps[i]``.
* ``generator``: every random draw goes through it (same seed, same samples).
* ``noise_sampler(x) -> z``: draws a step's noise like ``x`` (default: ``randn`` through
  ``generator``); k-diffusion's hook, here used to share the noise between batched copies.
* ``callback(info)``: called after every step with a dict holding
  ``i, t, x_t, x0_hat, eps_hat, mu, var, shift, x_next``; ``mu`` is the
  *unguided* mean of the step, ``var`` its variance Sigma and ``shift`` how far
  guidance moved the mean (zero without guidance).

Guidance that only changes eps (classifier guidance in eps form, CFG) wraps
``model_fn`` (see :mod:`cgd.guidance`); the mean-shift form of classifier
guidance needs Sigma and is the ``mean_shift`` hook of :func:`sample_ddpm`.
"""

from __future__ import annotations

import math

from typing import Callable, Optional

import torch

from cgd.outputs import ModelOutput, as_output  # noqa: F401 - ModelOutput re-exported

from cgd.errors import NonFiniteError
from cgd.schedule import SamplingGrid, coef, eps_to_x0, log_snr, posterior_mean_coefs, x0_to_eps
from cgd.schedule import threshold_x0  # noqa: F401 - re-exported: it lives in cgd.schedule

__all__ = ["ModelOutput", "sample_ddpm", "sample_ddim", "sample_dpmpp_2m", "langevin_corrector", "threshold_x0"]


_as_output = as_output


def _noise_like(x: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def _check_finite(x: torch.Tensor, i: int, t: int) -> None:
    if not bool(torch.isfinite(x).all()):
        raise NonFiniteError(
            f"sampling produced non-finite values at step i={i} (t={t}); "
            "lower the guidance scale or use more steps"
        )


def _timestep_batch(t: int, x: torch.Tensor) -> torch.Tensor:
    """``t: [B] long``, one training step for the whole batch (a stride-0 view: nothing to scan)."""
    return torch.tensor(int(t), dtype=torch.long, device=x.device).expand(x.shape[0])


@torch.no_grad()
def sample_ddpm(
    model_fn: Callable,
    x: torch.Tensor,
    grid: SamplingGrid,
    *,
    generator: Optional[torch.Generator] = None,
    callback: Optional[Callable[[dict], None]] = None,
    mean_shift: Optional[Callable] = None,
    noise_sampler: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    variance: str = "small",
    x0_mode: Optional[str] = None,
    check_every: Optional[int] = None,
    corrector: Optional[Callable] = None,
) -> torch.Tensor:
    """Ancestral sampling of p(x_{t-1} | x_t) = N(mu, Sigma) (DDPM Algorithm 2), on a respaced grid.

    mean_shift(x_t=, t=, mu=, var=, t_next=) -> shift: added to the mean before the noise is drawn,
        x_next ~ N(mu + shift, Sigma) (Dhariwal & Nichol 2021, Algorithm 1, shift = s Sigma g).
    variance: 'small' (beta_tilde), 'large' (beta) or 'learned' (model returns v, IDDPM eq. 15).
    x0_mode: None, 'clip' or 'dynamic' (see :func:`threshold_x0`).
    corrector(x, t, noise_sampler) -> x: applied to each new state at its own level t (not after the
        last step), e.g. :func:`langevin_corrector` (predictor-corrector sampling).
    """
    betas, beta_tilde = grid.betas, grid.posterior_variance
    log_beta_tilde = torch.log(torch.cat([beta_tilde[:-1], beta_tilde[-2:-1]])) if len(grid) > 1 else torch.log(betas)
    if check_every is None:
        check_every = 1 if x.device.type == "cpu" else 10
    noise_sampler = noise_sampler or (lambda like: _noise_like(like, generator))
    x_t = x
    n = len(grid)
    for i in range(n):
        t = int(grid.timesteps[i])
        t_next = int(grid.timesteps[i + 1]) if i + 1 < n else -1
        ab, ab_prev, beta = grid.alpha_bar[i], grid.alpha_bar_prev[i], betas[i]
        t_batch = _timestep_batch(t, x_t)

        # 1. predict the noise and the clean image
        out = _as_output(model_fn(x_t, t_batch))
        x0_hat = threshold_x0(eps_to_x0(x_t, out.eps, ab), x0_mode)

        # 2. posterior mean mu_tilde(x_t, x0_hat) of the respaced process (DDPM eq. 7)
        c_x0, c_xt = posterior_mean_coefs(ab, ab_prev, beta)
        mu = coef(c_x0, x_t) * x0_hat + coef(c_xt, x_t) * x_t

        # 3. the variance Sigma
        if variance == "small":
            var = coef(beta_tilde[i], x_t)
        elif variance == "large":
            var = coef(beta, x_t)
        elif variance == "learned":
            if out.v is None:
                raise ValueError("variance='learned' needs a model that returns v")
            frac = (out.v.to(x_t.dtype) + 1.0) / 2.0
            var = torch.exp(frac * coef(torch.log(beta), x_t) + (1.0 - frac) * coef(log_beta_tilde[i], x_t))
        else:
            raise ValueError(f"unknown variance {variance!r}")

        # 4. unguided mean for reporting; guidance of the eps form already moved mu
        if out.eps_unguided is not None:
            x0_u = threshold_x0(eps_to_x0(x_t, out.eps_unguided, ab), x0_mode)
            mu_unguided = coef(c_x0, x_t) * x0_u + coef(c_xt, x_t) * x_t
        else:
            mu_unguided = mu
        shift = mu - mu_unguided

        # 5. classifier guidance, mean-shift form: mu <- mu + s Sigma g
        if mean_shift is not None:
            shift = shift + mean_shift(x_t=x_t, t=t_batch, mu=mu, var=var, t_next=t_next)

        # 6. draw x_{t-1} ~ N(mu + shift, Sigma); the last step returns the mean
        x_next = mu_unguided + shift
        if i + 1 < n:
            x_next = x_next + var.sqrt() * noise_sampler(x_t)
            if corrector is not None:
                x_next = corrector(x_next, _timestep_batch(t_next, x_next), noise_sampler)
        if (i + 1) % check_every == 0 or i + 1 == n:
            _check_finite(x_next, i, t)
        if callback is not None:
            callback(dict(i=i, t=t, x_t=x_t, x0_hat=x0_hat, eps_hat=out.eps, mu=mu_unguided,
                          var=var, shift=shift, x_next=x_next))
        x_t = x_next
    return x_t


@torch.no_grad()
def sample_ddim(
    model_fn: Callable,
    x: torch.Tensor,
    grid: SamplingGrid,
    *,
    generator: Optional[torch.Generator] = None,
    callback: Optional[Callable[[dict], None]] = None,
    eta: float = 0.0,
    noise_sampler: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    x0_mode: Optional[str] = None,
    check_every: Optional[int] = None,
    corrector: Optional[Callable] = None,
) -> torch.Tensor:
    """DDIM (Song et al. 2021, eq. 12) on a respaced grid; eta = 0 is deterministic, eta = 1 ~ DDPM.

    x_prev = sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev - sigma^2) eps_hat + sigma z,
    sigma = eta sqrt((1 - alpha_bar_prev) / (1 - alpha_bar)) sqrt(1 - alpha_bar / alpha_bar_prev).
    A model output with ``eps_direction`` (:class:`ModelOutput`) re-noises with it in place of eps_hat (CFG++).
    corrector: as in :func:`sample_ddpm`.
    """
    if check_every is None:
        check_every = 1 if x.device.type == "cpu" else 10
    noise_sampler = noise_sampler or (lambda like: _noise_like(like, generator))
    x_t = x
    n = len(grid)
    for i in range(n):
        t = int(grid.timesteps[i])
        ab, ab_prev = grid.alpha_bar[i], grid.alpha_bar_prev[i]
        t_batch = _timestep_batch(t, x_t)

        # 1. predict the noise; re-derive eps from the (possibly thresholded) x0_hat
        out = _as_output(model_fn(x_t, t_batch))
        x0_hat = threshold_x0(eps_to_x0(x_t, out.eps, ab), x0_mode)
        eps_hat = out.eps if x0_mode is None else x0_to_eps(x_t, x0_hat, ab)

        # 2. the step's noise level sigma (eq. 16) and its deterministic part
        sigma = eta * ((1 - ab_prev) / (1 - ab)).sqrt() * (1 - ab / ab_prev).sqrt()
        c_eps = (1 - ab_prev - sigma**2).clamp(min=0.0).sqrt()
        eps_dir = eps_hat if out.eps_direction is None else out.eps_direction  # CFG++: the unconditional eps
        mean = coef(ab_prev.sqrt(), x_t) * x0_hat + coef(c_eps, x_t) * eps_dir

        # 3. the unguided mean, for reporting the guidance shift
        if out.eps_unguided is not None:
            x0_u = threshold_x0(eps_to_x0(x_t, out.eps_unguided, ab), x0_mode)
            eps_u = out.eps_unguided if x0_mode is None else x0_to_eps(x_t, x0_u, ab)
            mu = coef(ab_prev.sqrt(), x_t) * x0_u + coef(c_eps, x_t) * eps_u
        else:
            mu = mean

        # 4. x_prev = mean + sigma z
        x_next = mean
        if eta > 0 and i + 1 < n:
            x_next = x_next + coef(sigma, x_t) * noise_sampler(x_t)
        if corrector is not None and i + 1 < n:
            x_next = corrector(x_next, _timestep_batch(int(grid.timesteps[i + 1]), x_next), noise_sampler)
        if (i + 1) % check_every == 0 or i + 1 == n:
            _check_finite(x_next, i, t)
        if callback is not None:
            callback(dict(i=i, t=t, x_t=x_t, x0_hat=x0_hat, eps_hat=eps_hat, mu=mu,
                          var=coef(sigma**2, x_t), shift=mean - mu, x_next=x_next))
        x_t = x_next
    return x_t


@torch.no_grad()
def sample_dpmpp_2m(
    model_fn: Callable,
    x: torch.Tensor,
    grid: SamplingGrid,
    *,
    generator: Optional[torch.Generator] = None,
    callback: Optional[Callable[[dict], None]] = None,
    noise_sampler: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    x0_mode: Optional[str] = None,
    check_every: Optional[int] = None,
    lower_order_final: bool = True,
    form: str = "data",
) -> torch.Tensor:
    """DPM-Solver++(2M): the multistep second-order solver of the probability-flow ODE in its data-prediction
    form (Lu et al. 2022, "DPM-Solver++", Algorithm 2), on a respaced grid.

    With alpha_i = sqrt(alpha_bar_i), sigma_i = sqrt(1 - alpha_bar_i), lambda_i = log(alpha_i / sigma_i),
    h_i = lambda_{i+1} - lambda_i and D_i the data prediction x0_hat(x_i) (thresholded by ``x0_mode``,
    the paper's recommendation for large guidance scales):

        x_{i+1} = (sigma_{i+1} / sigma_i) x_i - alpha_{i+1} (exp(-h_i) - 1) D,
        D = D_0 at the first step;  D = (1 + 1/(2 r)) D_i - 1/(2 r) D_{i-1},  r = h_{i-1} / h_i, after it.

    The last step goes to alpha_bar = 1, where lambda is infinite: it returns D_i (first order there, as
    the paper's implementation does), the same last step as DDIM. With ``lower_order_final`` the step into
    the grid's last point (t = 0) is first order too (diffusers' option of that name): the grid is uniform
    in t, so in lambda that step is several times the one before it at every step count (10 steps:
    h = 3.6 after 0.77; 160 steps: 1.0 after 0.2) and the extrapolation through it with r = h_prev / h ~ 0.2
    costs more than it gains (on Gaussian data at 20 steps: error 0.38 with it second order, 0.074
    first order, DDIM 0.22; tests/test_dpmpp.py).
    Deterministic: ``generator`` and ``noise_sampler`` are accepted for the common signature and unused.

    ``form="noise"``: the same multistep scheme on the noise prediction instead, DPM-Solver-2M (Lu et al.
    2022a), x_{i+1} = (alpha_{i+1} / alpha_i) x_i - sigma_{i+1} (exp(h_i) - 1) E with E extrapolated from
    eps_hat like D; kept to show what the data-prediction form buys at large guidance scales (the
    guided eps_hat grows with the scale, and its extrapolation with it; ``bench/solvers_2d.py``).
    """
    if form not in ("data", "noise"):
        raise ValueError(f"form must be 'data' or 'noise', got {form!r}")
    if check_every is None:
        check_every = 1 if x.device.type == "cpu" else 10
    x_t = x
    n = len(grid)
    prev = prev_u = h_prev = None  # the previous step's prediction (guided, unguided) and h
    for i in range(n):
        t = int(grid.timesteps[i])
        ab, ab_next = grid.alpha_bar[i], grid.alpha_bar_prev[i]
        out = _as_output(model_fn(x_t, _timestep_batch(t, x_t)))
        x0_hat = threshold_x0(eps_to_x0(x_t, out.eps, ab), x0_mode)
        x0_u = x0_hat if out.eps_unguided is None else threshold_x0(eps_to_x0(x_t, out.eps_unguided, ab), x0_mode)
        eps_hat = out.eps if x0_mode is None else x0_to_eps(x_t, x0_hat, ab)
        if form == "data":
            pred, pred_u = x0_hat, x0_u
        else:
            pred, pred_u = eps_hat, x0_to_eps(x_t, x0_u, ab)
        h = None
        if i + 1 == n:  # to alpha_bar = 1: x_0 = x0_hat (first order)
            x_next, mu = x0_hat, x0_u
        else:
            h = 0.5 * (log_snr(ab_next) - log_snr(ab))
            if form == "data":
                c_x, c_d = ((1 - ab_next) / (1 - ab)).sqrt(), -ab_next.sqrt() * torch.expm1(-h)
            else:
                c_x, c_d = (ab_next / ab).sqrt(), -(1 - ab_next).sqrt() * torch.expm1(h)
            d, d_u = pred, pred_u
            if prev is not None and not (lower_order_final and i + 2 == n):
                r = h_prev / h
                d = coef(1 + 0.5 / r, x_t) * pred - coef(0.5 / r, x_t) * prev
                d_u = coef(1 + 0.5 / r, x_t) * pred_u - coef(0.5 / r, x_t) * prev_u
            x_next = coef(c_x, x_t) * x_t + coef(c_d, x_t) * d
            mu = coef(c_x, x_t) * x_t + coef(c_d, x_t) * d_u
        prev, prev_u, h_prev = pred, pred_u, h
        if (i + 1) % check_every == 0 or i + 1 == n:
            _check_finite(x_next, i, t)
        if callback is not None:
            callback(dict(i=i, t=t, x_t=x_t, x0_hat=x0_hat, eps_hat=eps_hat, mu=mu,
                          var=torch.zeros((), dtype=x_t.dtype), shift=x_next - mu, x_next=x_next))
        x_t = x_next
    return x_t


def langevin_corrector(model_fn: Callable, alpha_bar: torch.Tensor, steps: int, size: float) -> Callable:
    """``corrector(x, t, noise_sampler)``: ``steps`` unadjusted Langevin steps at the level of ``t``.

    The target is the density whose score model_fn's eps gives at that level, score = -eps / sigma_t
    with sigma_t^2 = 1 - alpha_bar_t (Song et al. 2021, predictor-corrector; for guidance Bradley &
    Nakkiran 2024: with the guided eps the target is p_t(x) p_t(y|x)^k). With step delta = size * sigma_t^2
    on the score: x <- x - size * sigma_t * eps_hat + sqrt(2 size) * sigma_t * z.
    alpha_bar: the schedule's ``[T]`` table, indexed by training timestep; x: [B, ...]; t: [B] long.
    """
    if steps < 0 or not 0.0 < size <= 1.0:
        raise ValueError("corrector steps must be >= 0 and its size in (0, 1]")

    def corrector(x, t, noise_sampler):
        sigma = coef((1.0 - alpha_bar[t.cpu()]).sqrt(), x)
        for _ in range(steps):
            eps_hat = _as_output(model_fn(x, t)).eps
            x = x - size * sigma * eps_hat + math.sqrt(2.0 * size) * sigma * noise_sampler(x)
        return x

    return corrector
