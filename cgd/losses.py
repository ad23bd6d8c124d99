"""The improved-DDPM hybrid loss for a learned variance (Nichol & Dhariwal 2021, sec. 3.1).

L_hybrid = L_simple + lambda * L_vlb, lambda = 0.001, where L_vlb = L_0 + ... + L_{T-1} (their eq. 16).
Training samples one t per image, and T * L_t is the unbiased one-sample estimate of L_vlb, so the
per-sample loss is L_simple + lambda * T * L_t (:func:`hybrid_vlb_weight`; 1.0 at T = 1000, which is
guided-diffusion's ``mse + vb``). The network outputs eps and v; its variance interpolates in the log
domain, Sigma = exp(frac log beta_t + (1 - frac) log beta_tilde_t), frac = (v + 1) / 2 (their eq. 15),
with v the network's raw output (no squashing: frac may leave [0, 1], as in guided-diffusion). L_vlb
trains only Sigma: the mean enters with eps stopped, and x0_hat is not clipped (as in the reference).

* t > 0: L_t = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)), a KL of two diagonal Gaussians;
* t = 0: L_0 = -log p(x_0 | x_1), the Gaussian discretised to the 256 pixel bins of [-1, 1].
Both in bits per dimension.
"""

from __future__ import annotations

import math

import torch

from cgd.schedule import NoiseSchedule, coef, eps_to_x0

__all__ = ["normal_kl", "discretized_gaussian_log_likelihood", "vlb_term", "LAMBDA_VLB", "hybrid_vlb_weight"]

LAMBDA_VLB = 1e-3


def hybrid_vlb_weight(T: int) -> float:
    """The weight of one sampled L_t in the hybrid loss: lambda * T (L_vlb is a sum over T terms)."""
    return LAMBDA_VLB * T


def normal_kl(mean1, logvar1, mean2, logvar2) -> torch.Tensor:
    """KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)), elementwise, in nats."""
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def _std_normal_cdf(x):
    return 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def discretized_gaussian_log_likelihood(x, mean, log_scale) -> torch.Tensor:
    """log P(x) of data in [-1, 1] on 256 bins of width 2/255 under N(mean, e^{2 log_scale}); edges open."""
    centered = x - mean
    inv_std = torch.exp(-log_scale)
    cdf_plus = _std_normal_cdf(inv_std * (centered + 1.0 / 255.0))
    cdf_min = _std_normal_cdf(inv_std * (centered - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    log_delta = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    return torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, log_delta))


def vlb_term(schedule: NoiseSchedule, x0, x_t, t, eps, v) -> torch.Tensor:
    """Per-sample L_vlb ``[B]`` in bits/dim, with eps detached (the term trains only v).

    x0, x_t, eps, v: ``[B, C, H, W]``; t: ``[B] long``.
    """
    tc = t.cpu()
    betas = schedule.betas.to(x_t)
    beta_tilde = schedule.posterior_variance.to(x_t)
    # beta_tilde_0 = 0: use beta_tilde_1 for its log (IDDPM's clipped log variance)
    log_beta_tilde = torch.log(torch.cat([beta_tilde[1:2], beta_tilde[1:]]))
    frac = (v + 1.0) / 2.0
    log_var = frac * coef(torch.log(betas)[tc], x_t) + (1.0 - frac) * coef(log_beta_tilde[tc], x_t)
    ab = schedule.alpha_bar[tc].to(x_t)
    x0_hat = eps_to_x0(x_t, eps.detach(), ab)
    mean_pred, _ = schedule.q_posterior(x0_hat, x_t, t)
    mean_true, var_true = schedule.q_posterior(x0, x_t, t)
    log_var_true = coef(log_beta_tilde[tc], x_t)
    kl = normal_kl(mean_true, log_var_true, mean_pred, log_var).flatten(1).mean(1) / math.log(2.0)
    nll = -discretized_gaussian_log_likelihood(x0, mean_pred, 0.5 * log_var).flatten(1).mean(1) / math.log(2.0)
    return torch.where(t.to(kl.device) == 0, nll, kl)
