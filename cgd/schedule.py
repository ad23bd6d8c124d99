"""Noise schedules, the forward process and its posterior, built in float64.

Notation follows Ho et al. (2020) and Nichol & Dhariwal (2021):

* ``t`` is a *training* timestep in ``0 .. T-1`` (``t = 0`` is the least noisy).
* ``beta_t`` is the variance added at step t, ``alpha_t = 1 - beta_t`` and
  ``alpha_bar_t = prod_{s <= t} alpha_s``.
* forward process      q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)
* log-SNR              lambda_t = log(alpha_bar_t / (1 - alpha_bar_t))
* posterior            q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde_t I)
  with beta_tilde_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t).

``i`` indexes a *sampling grid* (:class:`SamplingGrid`), a decreasing subset
of training timesteps; networks and classifiers are always called with the
grid's original training ``t``, never with ``i``.

All tables are float64 tensors; :func:`coef` casts a table entry to the dtype
and device of the state and reshapes it to broadcast against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch

from cgd.errors import InputError

__all__ = [
    "NoiseSchedule",
    "SamplingGrid",
    "coef",
    "linear_betas",
    "cosine_betas",
    "make_schedule",
    "eps_to_x0",
    "x0_to_eps",
    "eps_to_score",
    "score_to_eps",
    "threshold_x0",
    "flow_coords",
    "eps_to_velocity",
    "velocity_to_eps",
]

MAX_STEPS = 100_000


def linear_betas(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """DDPM's linear schedule, rescaled so that any T gives the same curve as T = 1000.

    Returns ``betas: [T] float64``.
    """
    scale = 1000.0 / T
    return torch.linspace(scale * beta_start, scale * beta_end, T, dtype=torch.float64)


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Improved-DDPM cosine schedule: alpha_bar(t) = cos^2(((t/T + s)/(1 + s)) pi/2) (eq. 17).

    Returns ``betas: [T] float64`` clipped at ``max_beta`` to avoid a singular last step.
    """
    steps = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return betas.clamp(max=max_beta)


@dataclass(frozen=True)
class NoiseSchedule:
    """A discrete diffusion with ``T`` training steps; every table is ``[T] float64``."""

    betas: torch.Tensor
    kind: str = "custom"

    def __post_init__(self):
        b = self.betas
        if b.ndim != 1 or b.dtype != torch.float64:
            raise InputError("betas must be a 1-D float64 tensor")
        if not bool(((b > 0) & (b < 1)).all()):
            raise InputError("every beta must lie in (0, 1)")

    # -- tables ---------------------------------------------------------
    @property
    def T(self) -> int:
        return int(self.betas.shape[0])

    @property
    def alphas(self) -> torch.Tensor:
        return 1.0 - self.betas

    @property
    def alpha_bar(self) -> torch.Tensor:
        return torch.cumprod(self.alphas, dim=0)

    @property
    def alpha_bar_prev(self) -> torch.Tensor:
        """alpha_bar_{t-1}, with alpha_bar_{-1} = 1 (x_0 is noise-free)."""
        return torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])

    @property
    def log_snr(self) -> torch.Tensor:
        """lambda_t = log(alpha_bar_t / (1 - alpha_bar_t))."""
        return log_snr(self.alpha_bar)

    @property
    def posterior_variance(self) -> torch.Tensor:
        """beta_tilde_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) (DDPM eq. 7)."""
        return self.betas * (1.0 - self.alpha_bar_prev) / (1.0 - self.alpha_bar)

    # -- forward process ------------------------------------------------
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Sample q(x_t | x_0) (DDPM eq. 4).

        x0: [B, ...] data; t: [B] long training timesteps; noise: like x0.
        Returns x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise.
        """
        ab = self.alpha_bar[t.cpu()]
        return coef(ab.sqrt(), x0) * x0 + coef((1.0 - ab).sqrt(), x0) * noise

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor):
        """Mean and variance of q(x_{t-1} | x_t, x_0) (DDPM eqs. 6-7).

        Returns ``(mu_tilde [B, ...], beta_tilde [B] float64)``.
        """
        tc = t.cpu()
        c0, ct = posterior_mean_coefs(self.alpha_bar[tc], self.alpha_bar_prev[tc], self.betas[tc])
        return coef(c0, x0) * x0 + coef(ct, x_t) * x_t, self.posterior_variance[tc]

    # -- sampling grids -------------------------------------------------
    def grid(self, steps: int | None = None) -> "SamplingGrid":
        """The sampling grid of ``steps`` evenly spaced training timesteps (all T if None)."""
        return SamplingGrid.respaced(self, self.T if steps is None else steps)


def make_schedule(kind: str = "linear", T: int = 1000) -> NoiseSchedule:
    """Build a named schedule ('linear' or 'cosine') with T training steps."""
    T = check_steps(T, name="T")
    if kind == "linear":
        return NoiseSchedule(linear_betas(T), kind="linear")
    if kind == "cosine":
        return NoiseSchedule(cosine_betas(T), kind="cosine")
    raise InputError(f"unknown schedule {kind!r}; choose 'linear' or 'cosine'")


def check_steps(steps, *, name: str = "steps", maximum: int = MAX_STEPS) -> int:
    """Validate a step count: a whole number in 1 .. maximum."""
    try:
        f = float(steps)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a whole number, got {steps!r}") from None
    if not math.isfinite(f) or f != int(f):
        raise InputError(f"{name} must be a whole number, got {steps!r}")
    n = int(f)
    if not 1 <= n <= maximum:
        raise InputError(f"{name} must be between 1 and {maximum}, got {n}")
    return n


@dataclass(frozen=True)
class SamplingGrid:
    """A decreasing grid of training timesteps and the respaced process on it.

    For grid index ``i`` the state moves from training step ``timesteps[i]`` to
    ``timesteps[i+1]`` (or to x_0 after the last entry). The respaced process is
    the one of Nichol & Dhariwal (2021, sec. 4): its betas are
    ``1 - alpha_bar[t_i] / alpha_bar[t_{i+1}]``, so it has the same marginals
    q(x_t | x_0) as the training process at every grid point.
    All tables are ``[N] float64``; ``timesteps`` is ``[N] long``.
    """

    timesteps: torch.Tensor
    alpha_bar: torch.Tensor
    alpha_bar_prev: torch.Tensor

    @classmethod
    def from_timesteps(cls, schedule: NoiseSchedule, timesteps) -> "SamplingGrid":
        ts = sorted({int(t) for t in timesteps}, reverse=True)
        if not ts or ts[-1] < 0 or ts[0] >= schedule.T:
            raise InputError(f"grid timesteps must lie in 0..{schedule.T - 1}")
        t = torch.tensor(ts, dtype=torch.long)
        ab = schedule.alpha_bar[t]
        ab_prev = torch.cat([ab[1:], torch.ones(1, dtype=torch.float64)])
        return cls(timesteps=t, alpha_bar=ab, alpha_bar_prev=ab_prev)

    @classmethod
    def respaced(cls, schedule: NoiseSchedule, steps: int) -> "SamplingGrid":
        """``steps`` evenly spaced timesteps from T-1 down to 0 (both included when steps > 1)."""
        steps = check_steps(steps, maximum=schedule.T)
        if steps == 1:
            return cls.from_timesteps(schedule, [schedule.T - 1])
        pos = torch.linspace(0, schedule.T - 1, steps, dtype=torch.float64).round().long()
        return cls.from_timesteps(schedule, pos.tolist())

    def __len__(self) -> int:
        return int(self.timesteps.shape[0])

    @property
    def betas(self) -> torch.Tensor:
        """Respaced beta_i = 1 - alpha_bar_i / alpha_bar_prev_i."""
        return 1.0 - self.alpha_bar / self.alpha_bar_prev

    @property
    def posterior_variance(self) -> torch.Tensor:
        """Respaced beta_tilde_i = beta_i (1 - alpha_bar_prev_i) / (1 - alpha_bar_i)."""
        return self.betas * (1.0 - self.alpha_bar_prev) / (1.0 - self.alpha_bar)


def log_snr(alpha_bar) -> torch.Tensor:
    """lambda = log(alpha_bar / (1 - alpha_bar)), float64 (DPM-Solver's lambda_t = log(alpha_t / sigma_t) is half of it)."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return torch.log(ab) - torch.log1p(-ab)


def coef(values, x: torch.Tensor) -> torch.Tensor:
    """Cast a scalar or ``[B]`` float64 table entry to ``x``'s dtype/device, shaped to broadcast."""
    v = torch.as_tensor(values, dtype=torch.float64)
    v = v.to(device=x.device, dtype=x.dtype if x.is_floating_point() else torch.float32)
    if v.ndim == 0:
        return v
    return v.reshape(v.shape[0], *([1] * (x.ndim - 1)))


def posterior_mean_coefs(alpha_bar, alpha_bar_prev, beta):
    """(c_x0, c_xt) of the posterior mean mu_tilde = c_x0 x_0 + c_xt x_t of q(x_{t-1} | x_t, x_0) (DDPM eq. 7).

    c_x0 = beta sqrt(alpha_bar_prev) / (1 - alpha_bar), c_xt = (1 - alpha_bar_prev) sqrt(1 - beta) / (1 - alpha_bar);
    on a respaced grid beta is the grid's beta_i = 1 - alpha_bar_i / alpha_bar_prev_i. float64 tables in, out.
    """
    return (beta * alpha_bar_prev.sqrt() / (1.0 - alpha_bar),
            (1.0 - alpha_bar_prev) * (1.0 - beta).sqrt() / (1.0 - alpha_bar))


# -- conversions between parametrisations (DDPM eq. 4 rearranged, Song et al. 2021) --------
def eps_to_x0(x_t, eps, alpha_bar):
    """x0_hat = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return (x_t - coef((1 - ab).sqrt(), x_t) * eps) / coef(ab.sqrt(), x_t)


def x0_to_eps(x_t, x0, alpha_bar):
    """eps = (x_t - sqrt(alpha_bar) x0) / sqrt(1 - alpha_bar)."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return (x_t - coef(ab.sqrt(), x_t) * x0) / coef((1 - ab).sqrt(), x_t)


def eps_to_score(eps, alpha_bar, like=None):
    """grad_x log p_t(x) = -eps / sqrt(1 - alpha_bar)."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return -eps / coef((1 - ab).sqrt(), eps if like is None else like)


def score_to_eps(score, alpha_bar):
    """eps = -sqrt(1 - alpha_bar) * score."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return -coef((1 - ab).sqrt(), score) * score


def threshold_x0(x0_hat: torch.Tensor, mode: Optional[str] = None, *, percentile: float = 0.995) -> torch.Tensor:
    """Keep the predicted x_0 in the data range.

    mode None: unchanged; 'clip': clamp to [-1, 1];
    'dynamic': Imagen's dynamic thresholding (Saharia et al. 2022, sec. 2.3): per sample,
    s = max(1, percentile of |x0_hat|); x0_hat = clamp(x0_hat, -s, s) / s.
    """
    if mode is None or mode == "none":
        return x0_hat
    if mode == "clip":
        return x0_hat.clamp(-1.0, 1.0)
    if mode == "dynamic":
        flat = x0_hat.reshape(x0_hat.shape[0], -1).abs().float()
        s = torch.quantile(flat, percentile, dim=1).clamp(min=1.0).to(x0_hat.dtype)
        s = s.reshape(-1, *([1] * (x0_hat.ndim - 1)))
        return torch.maximum(torch.minimum(x0_hat, s), -s) / s
    raise ValueError(f"unknown x0 threshold mode {mode!r}")


# -- the flow-matching (rectified-flow) view of the same process ---------------------------
# x_t = alpha x_0 + sigma eps with alpha = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar). Divided by alpha + sigma,
# z = x_t / (alpha + sigma) = (1 - tau) x_0 + tau eps with tau = sigma / (alpha + sigma): the straight path of
# flow matching (Lipman et al. 2023, Liu et al. 2023), whose velocity dz/dtau = eps - x_0. So an eps model is
# exactly a velocity model: v = eps - x0_hat, and back eps = z + (1 - tau) v (x0_hat = z - tau v).
def flow_coords(x_t, alpha_bar):
    """``(z, tau)``: z = x_t / (alpha + sigma), tau = sigma / (alpha + sigma), shaped like x_t's batch."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    a, s = ab.sqrt(), (1 - ab).sqrt()
    return x_t / coef(a + s, x_t), coef(s / (a + s), x_t)


def eps_to_velocity(x_t, eps, alpha_bar):
    """v = eps - x0_hat: the flow-matching velocity of an eps prediction (see :func:`flow_coords`)."""
    return eps - eps_to_x0(x_t, eps, alpha_bar)


def velocity_to_eps(x_t, v, alpha_bar):
    """eps = z + (1 - tau) v, the inverse of :func:`eps_to_velocity` (z, tau from :func:`flow_coords`)."""
    z, tau = flow_coords(x_t, alpha_bar)
    return z + (1 - tau) * v
