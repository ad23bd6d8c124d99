"""Feynman-Kac SMC with networks: the particles are the batch, the weights come from the scores alone.

The 2D world's :mod:`cgd.toy.smc` derives the weight that makes a guided sampler's particles stand for
pi_t(x) ∝ p_t(x) p_t(y|x)^k at every level (Skreta et al., ICML 2025, "Feynman-Kac Correctors in Diffusion"):

    d log w = k (k - 1) / 2 * beta(t) * |grad_x log p_t(y|x)|^2 ds,

and checks it there against exact densities. This module runs the same weights with learned networks, where
no density is known, so there are no MALA moves: guided DDPM steps, weights, and resampling when the effective
sample size falls. Here g = grad log p_t(y|x) comes from what the method's guided step already computes:
the guided eps is eps_anchor - sqrt(1 - alpha_bar) (k - k_anchor) g, with eps_anchor the method's unguided
prediction at scale 0 (the unconditional model for CG, k_anchor = 0; the conditional model for CFG and
conditional + CG, k_anchor = 1), so

    |g|^2 = |eps_hat - eps_anchor|^2 / ((k - k_anchor)^2 (1 - alpha_bar_t))      (no extra network pass).

Over grid step i, Lambda_i = log(alpha_bar_prev_i / alpha_bar_i) integrates beta(t), and the trapezoid rule gives
log w += k (k - 1) / 4 * Lambda_i * (|g_i|^2 + |g_{i+1}|^2); each |g_i|^2 enters the step before it and the step
after it as soon as it is known. The last step's end term (at alpha_bar = 1, where no network is trained) is left
out. The proposal is the guided eps-form DDPM step with the variance beta_i (as in the 2D SMC: beta_tilde is too
narrow at the last steps of a short grid), x0_hat thresholded as the request says. The same loop with
``resample=False`` is the plain sampler with the same proposal, so a comparison isolates the weights.

Each class is its own population: the particles are sorted by label and every class resamples on its own
(systematic resampling, :func:`cgd.toy.smc.systematic_resample`) when its ESS share falls below the threshold,
and once more at the end to equal weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from cgd import methods as registry
from cgd.errors import InputError
from cgd.outputs import as_output
from cgd.pipeline import SampleRequest, build_method
from cgd.schedule import NoiseSchedule, eps_to_x0, posterior_mean_coefs, threshold_x0
from cgd.toy.smc import ess, systematic_resample

__all__ = ["FKRun", "fk_smc", "grad_sq_from_eps"]


@dataclass(frozen=True)
class FKRun:
    x: torch.Tensor  # [n, *shape] the particles at t = 0 (equal weights)
    labels: torch.Tensor  # [n] long, sorted: the class of each particle
    ess: tuple  # at each step, before any resampling: the mean over classes of ESS / class size
    resampled: tuple  # at each step: how many classes resampled
    ancestors: float  # mean over classes of (distinct ancestors among the final particles) / class size
    k: float


def grad_sq_from_eps(eps_hat: torch.Tensor, eps_anchor: torch.Tensor, k: float, k_anchor: float,
                     alpha_bar: float) -> torch.Tensor:
    """|grad log p_t(y|x)|^2 per particle ``[B]`` float64 from the guided and the anchor's eps ``[B, ...]``."""
    d = (eps_hat - eps_anchor).double().flatten(1)
    return (d * d).sum(1) / ((k - k_anchor) ** 2 * (1.0 - float(alpha_bar)))


@torch.no_grad()
def fk_smc(net: Callable, classifier: Optional[Callable], schedule: NoiseSchedule, request: SampleRequest, *,
           shape: tuple, num_classes: int, labels: torch.Tensor, device="cpu", dtype=torch.float32,
           ess_threshold: float = 0.5, resample: bool = True, weak_net: Optional[Callable] = None,
           on_step: Optional[Callable[[int], None]] = None) -> FKRun:
    """``request.n`` particles of p(x) p(y|x)^k, y = ``labels`` ([n] long), k the method's tilt at request.scale.

    ``resample=False``: the same proposal with no weights (the plain sampler it corrects).
    """
    r = request.validated(num_classes, schedule.T)
    method = registry.get(r.method)
    k = method.exponent(r.scale)  # InputError (one line) for a method without a tilt
    k_anchor = registry.get(method.anchor).exponent(0.0) if method.anchor else 0.0
    if k == k_anchor:
        raise InputError(f"SMC needs a guided scale: at {method.knob} = {r.scale:g} {r.method} has no weights")
    if not 0.0 < ess_threshold <= 1.0:
        raise InputError(f"ess_threshold must lie in (0, 1], got {ess_threshold}")
    labels = torch.as_tensor(labels, dtype=torch.long).cpu()
    if labels.shape != (r.n,) or int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise InputError(f"labels must be {r.n} classes in 0..{num_classes - 1}")
    labels, _ = torch.sort(labels, stable=True)
    groups = [torch.nonzero(labels == c).flatten() for c in labels.unique()]
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(r.seed)
    pick = torch.Generator().manual_seed(r.seed + 1)  # the resampling's uniforms
    x = torch.randn((r.n, *shape), generator=gen, device=device, dtype=dtype)
    y, null = labels.to(device), torch.full((r.n,), num_classes, dtype=torch.long, device=device)
    grid = schedule.grid(r.steps)
    built = build_method(net, classifier, schedule, r, grid=grid, y=y, null=null, scale=r.scale,
                         num_classes=num_classes, weak_net=weak_net)
    fn = built.score_fn or built.model_fn  # the guided eps (the mean-shift methods' eps form)
    lam = torch.log(grid.alpha_bar_prev / grid.alpha_bar)  # [N] the integral of beta over each step
    logw = torch.zeros(r.n, dtype=torch.float64)
    ancestor = torch.arange(r.n)
    shares, counts = [], []
    for i in range(len(grid)):
        ab, ab_prev = grid.alpha_bar[i], grid.alpha_bar_prev[i]  # 0-d float64
        t = torch.full((r.n,), int(grid.timesteps[i]), dtype=torch.long, device=device)
        out = as_output(fn(x, t))  # the guidance functions take their own gradients
        eps_hat = out.eps
        g_sq = grad_sq_from_eps(eps_hat, out.eps_unguided, k, k_anchor, ab).cpu()
        logw += 0.25 * k * (k - 1.0) * ((float(lam[i - 1]) if i else 0.0) + float(lam[i])) * g_sq
        share = [ess(logw[g]) / len(g) for g in groups]  # each class's ESS share, once
        shares.append(sum(share) / len(groups))
        done = 0
        if resample:
            for g, g_share in zip(groups, share):
                if g_share < ess_threshold:
                    idx = g[systematic_resample(logw[g], pick)]
                    x[g], eps_hat[g], ancestor[g], logw[g] = x[idx], eps_hat[idx], ancestor[idx], 0.0
                    done += 1
        counts.append(done)
        beta = 1.0 - ab / ab_prev
        x0_hat = threshold_x0(eps_to_x0(x, eps_hat, float(ab)), r.x0_mode)
        c_x0, c_xt = posterior_mean_coefs(ab, ab_prev, beta)
        x = float(c_x0) * x0_hat + float(c_xt) * x
        if i + 1 < len(grid):
            x = x + math.sqrt(float(beta)) * torch.randn(x.shape, generator=gen, device=device, dtype=dtype)
        if on_step is not None:
            on_step(i)
    if resample:
        for g in groups:
            idx = g[systematic_resample(logw[g], pick)]
            x[g], ancestor[g] = x[idx], ancestor[idx]
    kept = sum(int(torch.unique(ancestor[g]).numel()) / len(g) for g in groups) / len(groups)
    return FKRun(x.detach(), labels, tuple(shares), tuple(counts), kept, k)
