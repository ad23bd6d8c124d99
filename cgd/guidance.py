"""Guidance as wrappers of the model function, and the mean-shift hook.

Networks have the interface ``net(x_t, t, y) -> eps`` (or ``(eps, v)``), where
``y: [B] long`` is a class label and the *null label* ``num_classes`` means
"no label" (classifier-free guidance trains one network for both).
Classifiers have ``classifier(x_t, t) -> logits [B, num_classes]``.

* :func:`classifier_grad`: g = grad_x log p(y | x, t), via ``torch.autograd.grad``
  on a detached copy of the input, so shared weights are never written.
* :func:`make_mean_shift`: Dhariwal & Nichol (2021) Algorithm 1, the hook
  ``shift = s Sigma g`` for :func:`cgd.samplers.sample_ddpm`; the gradient point is
  a named option: ``at='x_t'`` (guided-diffusion's code, classifier gets the current
  t) or ``at='mu'`` (the paper's derivation, classifier gets the next grid t).
* :func:`classifier_guided_eps`: Algorithm 2, eps_hat = eps - s sqrt(1 - alpha_bar_t) g.
* :func:`cfg_model_fn`: Ho & Salimans (2022) eq. 6, eps_tilde = (1 + w) eps(z, c) - w eps(z).
  Many codebases call ``gamma = 1 + w`` the "guidance scale": gamma = 1 (w = 0) is the plain
  conditional model, and Stable Diffusion's default 7.5 is w = 6.5. Here the knob is w.
* :func:`guidance_ramp`: w(t) rising as the noise falls (linear or cosine, Wang et al. 2024).
* :func:`apg_model_fn`, :func:`cfgpp_model_fn`, :func:`cfg_zero_star_model_fn`: the CFG variants of
  2024-25 (APG, CFG++, CFG-Zero*), each with its formula and paper in its docstring.

Scales (s, w, lambda) arrive checked: :class:`cgd.pipeline.SampleRequest` validates them once, where a
request is built (:func:`check_scale`, against the method's range); the builders here take them as they are,
a float or a ``[B]`` float64 tensor (one per row).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from cgd.errors import InputError
from cgd.outputs import ModelOutput
from cgd.outputs import as_output as _as_output
from cgd.schedule import (NoiseSchedule, coef, eps_to_velocity, eps_to_x0, flow_coords, threshold_x0,
                          velocity_to_eps, x0_to_eps)

__all__ = [
    "MAX_SCALE",
    "check_scale",
    "is_zero_scale",
    "check_labels",
    "classifier_grad",
    "make_mean_shift",
    "conditional_model_fn",
    "classifier_guided_eps",
    "cfg_model_fn",
    "autoguidance_model_fn",
    "GUIDANCE_SCHEDULES",
    "guidance_ramp",
    "apg_update",
    "apg_combine",
    "apg_model_fn",
    "cfgpp_model_fn",
    "cfgpp_equivalent_w",
    "zero_star_scale",
    "zero_star_combine",
    "cfg_zero_star_model_fn",
]

MAX_SCALE = 1000.0


def check_scale(scale, *, name: str = "scale", maximum: float = MAX_SCALE):
    """A guidance scale must be a finite number in [0, maximum].

    A 1-D tensor is one scale per sample (a batch of copies of one run at several scales); it is
    checked element by element and returned as a float64 tensor, a number as a float.
    """
    if torch.is_tensor(scale) and scale.ndim == 1 and not scale.is_complex():
        s = scale.detach().double()
        bad = ~torch.isfinite(s) | (s < 0.0) | (s > maximum)
        if bool(bad.any()):
            check_scale(float(s[bad][0]), name=name, maximum=maximum)  # raises the one-line message
        return s
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {scale!r}") from None
    if not math.isfinite(s):
        raise InputError(f"{name} must be finite, got {scale!r}")
    if not 0.0 <= s <= maximum:
        raise InputError(f"{name} must be between 0 and {maximum:g}, got {s:g}")
    return s


def is_zero_scale(scale) -> bool:
    """True when a checked scale (float or per-sample tensor) is 0 everywhere: no guidance at all."""
    return bool((scale == 0.0).all()) if torch.is_tensor(scale) else scale == 0.0


def check_interval(interval, T: int):
    """``None`` (guide at every step) or ``(t_lo, t_hi)``: guide only at training timesteps t_lo <= t <= t_hi.

    Both ends are whole numbers in 0..T-1; t_lo > t_hi is the empty window (no guidance at all).
    """
    if interval is None:
        return None
    try:
        lo, hi = (int(v) for v in interval)
        if any(float(v) != int(v) for v in interval):
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"interval must be two whole timesteps LO HI, got {interval!r}") from None
    if not (0 <= lo <= T - 1 and 0 <= hi <= T - 1):
        raise InputError(f"interval ends must lie in 0..{T - 1}, got {lo} {hi}")
    return lo, hi


def guides_at(interval, t: torch.Tensor) -> bool:
    """Whether guidance acts at the step of ``t`` (one timestep for the whole batch, as the samplers pass)."""
    if interval is None:
        return True
    step = int(t.reshape(-1)[0])
    return interval[0] <= step <= interval[1]


def _scale_like(scale, x: torch.Tensor):
    """A checked scale ready to multiply ``x: [B, ...]``: the float, or the ``[B]`` tensor as ``[B, 1, ...]``."""
    if torch.is_tensor(scale):
        return scale.to(device=x.device, dtype=x.dtype).reshape(-1, *([1] * (x.ndim - 1)))
    return scale


def check_labels(y, num_classes: int, batch: int, device=None, *, allow_null: bool = False) -> torch.Tensor:
    """Turn an int or a sequence/tensor of labels into ``[batch] long``, refusing out-of-range ones.

    With ``allow_null`` the null label ``num_classes`` (unconditional) is accepted too.
    """
    top = num_classes if allow_null else num_classes - 1
    try:
        y_t = torch.as_tensor(y)
    except (TypeError, ValueError):
        raise InputError(f"class label must be a whole number, got {y!r}") from None
    if y_t.is_floating_point():
        if not bool(torch.isfinite(y_t).all()) or not bool((y_t == y_t.round()).all()):
            raise InputError(f"class label must be a whole number, got {y!r}")
    elif y_t.dtype == torch.bool or y_t.is_complex():
        raise InputError(f"class label must be a whole number, got {y!r}")
    y_t = y_t.long().reshape(-1)
    if y_t.numel() == 1:
        y_t = y_t.expand(batch)
    if y_t.numel() != batch:
        raise InputError(f"got {y_t.numel()} labels for a batch of {batch}")
    bad = (y_t < 0) | (y_t > top)
    if bool(bad.any()):
        raise InputError(f"class label {int(y_t[bad][0])} is outside 0..{num_classes - 1}")
    return y_t.to(device) if device is not None else y_t


def classifier_grad(classifier: Callable, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """g = grad_x log p(y | x, t) for each sample, shape like x.

    Uses ``torch.autograd.grad`` on a detached leaf copy of x: no ``.backward()``, no
    ``.grad`` written on the (possibly shared) classifier weights. A classifier with a
    closed-form ``log_prob_grad(x, t, y)`` (the exact mixture's) is asked for it instead.
    """
    closed_form = getattr(classifier, "log_prob_grad", None)
    if closed_form is not None:  # e.g. the exact mixture classifier: no graph at all
        return closed_form(x, t, y).to(x.dtype)
    with torch.enable_grad():
        x_in = x.detach().requires_grad_(True)
        logits = classifier(x_in, t)
        log_p = torch.log_softmax(logits if logits.dtype == torch.float64 else logits.float(), dim=-1)
        selected = log_p.gather(1, y.reshape(-1, 1)).sum()
        (g,) = torch.autograd.grad(selected, x_in)
    return g.to(x.dtype)


def make_mean_shift(classifier: Callable, y: torch.Tensor, scale: float | torch.Tensor, *, at: str = "x_t",
                    interval=None) -> Callable:
    """The mean-shift hook shift = s Sigma g for :func:`cgd.samplers.sample_ddpm` (Algorithm 1).

    scale: a number, or ``[B]`` float, one per sample (see :func:`check_scale`).

    at='x_t': g = grad log p(y | x_t, t) at the current state and step (guided-diffusion's code).
    at='mu':  g = grad log p(y | x, t_next) at x = mu, the point the first-order Taylor expansion
              of the derivation is taken around; the classifier gets the next grid point's
              training step (0 for the final step).
    interval: ``(t_lo, t_hi)`` or None: outside it the shift is zero (Kynkäänniemi et al. 2024).
    """
    if at not in ("x_t", "mu"):
        raise InputError(f"gradient point must be 'x_t' or 'mu', got {at!r}")

    def mean_shift(*, x_t, t, mu, var, t_next):
        if is_zero_scale(scale) or not guides_at(interval, t):
            return torch.zeros_like(mu)
        if at == "x_t":
            g = classifier_grad(classifier, x_t, t, y)
        else:
            t_mu = torch.full_like(t, max(int(t_next), 0))
            g = classifier_grad(classifier, mu, t_mu, y)
        return _scale_like(scale, g) * var * g

    return mean_shift


def conditional_model_fn(net: Callable, y: torch.Tensor) -> Callable:
    """model_fn(x_t, t) = net(x_t, t, y); pass the null label for the unconditional model."""

    def model_fn(x_t, t):
        return net(x_t, t, y)

    return model_fn


def classifier_guided_eps(model_fn: Callable, classifier: Callable, y: torch.Tensor, scale: float | torch.Tensor,
                          schedule: NoiseSchedule, *, interval=None, x0_mode: Optional[str] = None) -> Callable:
    """eps form of classifier guidance (Algorithm 2): eps_hat = eps - s sqrt(1 - alpha_bar_t) g.

    The score of the tilted density p(x_t) p(y | x_t)^s is grad log p(x_t) + s g, and
    eps = -sqrt(1 - alpha_bar_t) * score, hence the formula. Works with DDIM and DDPM.
    interval: ``(t_lo, t_hi)`` or None: outside it eps_hat = eps.
    x0_mode: keep the *unguided* prediction in the data range before guiding (:func:`threshold_x0` on
    its x0_hat, eps re-derived from it), as guided-diffusion's ``condition_score`` does; the sampler
    then runs with no thresholding, so the guided x0_hat may leave [-1, 1]. Thresholding the guided
    x0_hat instead cuts every push of g below -1 on a black background and keeps every push above
    it: the classifier gradient's pixel noise, about zero-mean, becomes a bright speckle
    (``docs/results.md``, "Where the speckle came from").
    """
    alpha_bar = schedule.alpha_bar
    sqrt_one_minus_ab = (1.0 - alpha_bar).sqrt()

    def guided(x_t, t):
        out = _as_output(model_fn(x_t, t))
        eps = out.eps
        if x0_mode not in (None, "none"):
            ab = alpha_bar[t.cpu()]
            eps = x0_to_eps(x_t, threshold_x0(eps_to_x0(x_t, eps, ab), x0_mode), ab)
        if is_zero_scale(scale) or not guides_at(interval, t):
            return ModelOutput(eps, out.v, eps)
        g = classifier_grad(classifier, x_t, t, y)
        eps_hat = eps - _scale_like(scale, x_t) * coef(sqrt_one_minus_ab[t.cpu()], x_t) * g
        return ModelOutput(eps_hat, out.v, eps)

    return guided


def cfg_model_fn(net: Callable, y: torch.Tensor, w: float | torch.Tensor, null_label: int, *,
                 interval=None, ramp: Optional[Callable] = None) -> Callable:
    """Classifier-free guidance: eps_tilde = (1 + w) eps(z, c) - w eps(z, null) (Ho & Salimans eq. 6).

    The conditional and unconditional passes run as one batch of 2B. w = 0 is the conditional
    model; ``eps_unguided`` reports the conditional prediction. interval: ``(t_lo, t_hi)`` or None:
    outside it the conditional model alone (w = 0). ramp: w(t) = w ramp(t) (:func:`guidance_ramp`).
    """

    def guided(x_t, t):
        if is_zero_scale(w) or not guides_at(interval, t):
            out = _as_output(net(x_t, t, y))
            return ModelOutput(out.eps, out.v, out.eps)
        eps_c, eps_u, v = _both(net, x_t, t, y, null_label)
        w_ = _scale_like(_ramped(w, ramp, t), eps_c)
        return ModelOutput((1.0 + w_) * eps_c - w_ * eps_u, v, eps_c)

    return guided


def _both(net: Callable, x_t, t, y, null_label: int) -> tuple:
    """``(eps(x_t, y), eps(x_t, null), v of the conditional pass)``: both passes as one batch of 2B."""
    null = torch.full_like(y, null_label)
    both = _as_output(net(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([y, null])))
    eps_c, eps_u = both.eps.chunk(2)
    return eps_c, eps_u, None if both.v is None else both.v.chunk(2)[0]


# Rising guidance schedules: w(t) = w ramp(t), ramp growing as the noise falls (t: training step, T - 1 pure noise).
# Both average 1 over the steps, so the mean weight is w (Wang et al. 2024, "Analysis of Classifier-Free Guidance
# Weight Schedulers", TMLR: linear and cosine increasing schedules).
GUIDANCE_SCHEDULES = ("constant", "linear", "cosine")


def guidance_ramp(kind: str, T: int) -> Optional[Callable]:
    """ramp(t) for w(t) = w ramp(t); None for 'constant'.

    linear: ramp = 2 (1 - t / T); cosine: ramp = 1 + cos(pi t / T). Both rise from ~0 at t = T - 1 to 2 at t = 0.
    """
    if kind == "constant":
        return None
    if kind == "linear":
        return lambda t: 2.0 * (1.0 - _step_of(t) / T)
    if kind == "cosine":
        return lambda t: 1.0 + math.cos(math.pi * _step_of(t) / T)
    raise InputError(f"unknown guidance schedule {kind!r}; choose one of {', '.join(GUIDANCE_SCHEDULES)}")


def _step_of(t: torch.Tensor) -> int:
    return int(t.reshape(-1)[0])


def _ramped(w, ramp, t):
    """w at the step of t: w itself, or w ramp(t)."""
    return w if ramp is None else w * ramp(t)


def autoguidance_model_fn(net: Callable, weak_net: Callable, y: torch.Tensor, w: float | torch.Tensor, *,
                          interval=None, ramp: Optional[Callable] = None) -> Callable:
    """Autoguidance (Karras et al. 2024): eps = eps_bad + (1 + w) (eps_good - eps_bad), both given y.

    ``weak_net`` is a worse model of the same task (a smaller or shorter-trained network; in 2D the
    exact score of the mixture with inflated covariances). Written with CFG's w, so w = 0 is the
    good model alone; Karras et al.'s guidance weight is 1 + w. The guided score is that of
    p_good(x|y)^(1+w) / p_bad(x|y)^w: it sharpens where the weak model is too broad, with no
    classifier and no p(y|x) in it. interval and ramp as in :func:`cfg_model_fn`.
    """

    def guided(x_t, t):
        good = _as_output(net(x_t, t, y))
        if is_zero_scale(w) or not guides_at(interval, t):
            return ModelOutput(good.eps, good.v, good.eps)
        bad = _as_output(weak_net(x_t, t, y))
        w_ = _scale_like(_ramped(w, ramp, t), good.eps)
        return ModelOutput(bad.eps + (1.0 + w_) * (good.eps - bad.eps), good.v, good.eps)

    return guided


def apg_update(diff: torch.Tensor, pred_cond: torch.Tensor, *, eta: float = 0.0, r: float = math.inf) -> torch.Tensor:
    """APG's update (Sadat et al. 2024, Algorithm 1): Delta clipped to norm r, then Delta_perp + eta Delta_par.

    diff: Delta = D(x, c) - D(x) (after momentum); pred_cond: D(x, c), the direction Delta_par is taken along.
    Norms and projections per sample, over all of a sample's coordinates; the projection in float64.
    r = inf: no clipping; eta = 1: no projection (Delta itself, clipped).
    """
    dims = tuple(range(1, diff.ndim))
    if math.isfinite(r):
        diff = diff * torch.clamp(r / diff.norm(p=2, dim=dims, keepdim=True), max=1.0)  # min(1, r / ||Delta||)
    v0 = diff.double()
    v1 = torch.nn.functional.normalize(pred_cond.double(), dim=dims)
    par = (v0 * v1).sum(dim=dims, keepdim=True) * v1
    return (v0 - par).to(diff.dtype) + eta * par.to(diff.dtype)


def apg_combine(x0_c: torch.Tensor, x0_u: torch.Tensor, w, *, eta: float = 0.0, r: float = math.inf,
                momentum: float = 0.0, previous: Optional[torch.Tensor] = None) -> tuple:
    """One APG step on denoised predictions: ``(x0_c + w (Delta_perp + eta Delta_par), Delta)``.

    Delta = x0_c - x0_u + momentum * previous (previous: the Delta this returned at the step before, None at the
    first), then clipped and projected by :func:`apg_update`. w: a number or ``[B, 1, ...]``.
    """
    diff = x0_c - x0_u
    if momentum and previous is not None:
        diff = diff + momentum * previous
    return x0_c + w * apg_update(diff, x0_c, eta=eta, r=r), diff


def apg_model_fn(net: Callable, y: torch.Tensor, w: float | torch.Tensor, null_label: int, schedule: NoiseSchedule,
                 *, eta: float = 0.0, r: float = math.inf, momentum: float = 0.0, interval=None,
                 ramp: Optional[Callable] = None) -> Callable:
    """Adaptive projected guidance, APG (Sadat, Hilliges & Weber 2024, "Eliminating Oversaturation and Artifacts
    of High Guidance Scales in Diffusion Models", ICLR 2025, Algorithm 1), in the denoised (x0_hat) form:

        Delta = x0_hat(x_t, c) - x0_hat(x_t, null);   Delta <- Delta + beta Delta_prev   (momentum beta; 0: none)
        Delta <- Delta min(1, r / ||Delta||);          Delta = Delta_par + Delta_perp (Delta_par along x0_hat(x_t, c))
        x0_tilde = x0_hat(x_t, c) + w (Delta_perp + eta Delta_par),   eps_tilde from x0_tilde.

    The paper writes the scale as 1 + w (its w = 1 is the conditional model; here w = 0). With eta = 1,
    r = inf and beta = 0 this is CFG; the paper recommends eta = 0 (drop the parallel part, which it finds
    oversaturates). Note diffusers' ``AdaptiveProjectedGuidance`` by default starts from the *unconditional*
    prediction, D(x) + (1 + w)(Delta_perp + eta Delta_par): the same as this at eta = 1 only.
    The momentum keeps state across the steps of one run: build one model function per run.
    """
    alpha_bar = schedule.alpha_bar
    running = []  # the previous step's Delta (momentum)

    def guided(x_t, t):
        if is_zero_scale(w) or not guides_at(interval, t):
            out = _as_output(net(x_t, t, y))
            return ModelOutput(out.eps, out.v, out.eps)
        eps_c, eps_u, v = _both(net, x_t, t, y, null_label)
        ab = alpha_bar[t.cpu()]
        x0_c = eps_to_x0(x_t, eps_c, ab)
        x0, diff = apg_combine(x0_c, eps_to_x0(x_t, eps_u, ab), _scale_like(_ramped(w, ramp, t), x0_c), eta=eta,
                               r=r, momentum=momentum, previous=running[-1] if running else None)
        running[:] = [diff] if momentum else []
        return ModelOutput(x0_to_eps(x_t, x0, ab), v, eps_c)

    return guided


def cfgpp_model_fn(net: Callable, y: torch.Tensor, lam: float | torch.Tensor, null_label: int, *,
                   interval=None) -> Callable:
    """CFG++ (Chung, Kim, Park, Nam & Ye 2024, "CFG++: Manifold-constrained Classifier Free Guidance for Diffusion
    Models", Algorithm 1), for the DDIM step:

        eps_lambda = eps(x_t) + lambda (eps(x_t, c) - eps(x_t)),   lambda in [0, 1];
        x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps_lambda) / sqrt(alpha_bar_t);
        x_{t-1} = sqrt(alpha_bar_{t-1}) x0_hat + sqrt(1 - alpha_bar_{t-1}) eps(x_t)     (re-noised unconditionally).

    The guided eps goes into x0_hat only; ``eps_direction`` carries the unconditional eps the DDIM step
    re-noises with (:func:`cgd.samplers.sample_ddim`). lambda = 0 is the unconditional model. Outside
    ``interval`` the conditional model alone.
    """

    def guided(x_t, t):
        if not guides_at(interval, t):
            out = _as_output(net(x_t, t, y))
            return ModelOutput(out.eps, out.v, out.eps)
        eps_c, eps_u, v = _both(net, x_t, t, y, null_label)
        return ModelOutput(eps_u + _scale_like(lam, eps_c) * (eps_c - eps_u), v, eps_c, eps_u)

    return guided


def cfgpp_equivalent_w(lam: float, alpha_bar: float, alpha_bar_prev: float) -> float:
    """The CFG weight w whose DDIM (eta = 0) step from alpha_bar to alpha_bar_prev is CFG++'s step at lambda.

    CFG++ moves x by -c1 eps_lambda + c2 eps(x) and CFG by (c2 - c1) eps_w, with c1 = sqrt(alpha_bar_prev)
    sqrt(1 - alpha_bar) / sqrt(alpha_bar) and c2 = sqrt(1 - alpha_bar_prev); equal when 1 + w = lambda c1 / (c1 - c2).
    c1 - c2 shrinks with the step, so at a fixed lambda the equivalent w grows with the number of steps:
    CFG++ is not one ODE discretised more finely (docs/results.md, "The guidance zoo").
    """
    c1 = math.sqrt(alpha_bar_prev) * math.sqrt(1 - alpha_bar) / math.sqrt(alpha_bar)
    c2 = math.sqrt(1 - alpha_bar_prev)
    return lam * c1 / (c1 - c2) - 1.0


def zero_star_scale(v_c: torch.Tensor, v_u: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """s* = <v_c, v_u> / ||v_u||^2 per sample (CFG-Zero*, eq. 8), shaped ``[B, 1, ...]``; eps guards ||v_u|| = 0."""
    dims = tuple(range(1, v_c.ndim))
    return (v_c * v_u).sum(dim=dims, keepdim=True) / ((v_u * v_u).sum(dim=dims, keepdim=True) + eps)


def zero_star_combine(v_c: torch.Tensor, v_u: torch.Tensor, w) -> torch.Tensor:
    """v_tilde = s* v_u + (1 + w)(v_c - s* v_u), s* = :func:`zero_star_scale` (w: a number or ``[B, 1, ...]``)."""
    s_star = zero_star_scale(v_c, v_u)
    return s_star * v_u + (1.0 + w) * (v_c - s_star * v_u)


def cfg_zero_star_model_fn(net: Callable, y: torch.Tensor, w: float | torch.Tensor, null_label: int,
                           schedule: NoiseSchedule, *, zero_ts=(), interval=None,
                           ramp: Optional[Callable] = None) -> Callable:
    """CFG-Zero* (Fan, Zheng, Li, Liu, Xu, Wang & Huang 2025, "CFG-Zero*: Improved Classifier-Free Guidance for
    Flow Matching Models"), on the flow-matching velocity of this eps model.

    The conversion is exact (:func:`cgd.schedule.flow_coords`): for x_t = alpha x_0 + sigma eps,
    z = x_t / (alpha + sigma) = (1 - tau) x_0 + tau eps with tau = sigma / (alpha + sigma), the velocity is
    v = eps - x0_hat, and back eps = z + (1 - tau) v. With v_c, v_u the conditional and unconditional velocities:

        s* = <v_c, v_u> / ||v_u||^2   (per sample),     v_tilde = s* v_u + (1 + w) (v_c - s* v_u),

    i.e. CFG with the unconditional velocity first scaled by s* (w = 0: the conditional model). Zero-init:
    at the steps whose training timestep is in ``zero_ts`` (the first K steps of the grid) v_tilde = 0, so
    eps = z and x0_hat = z: the step leaves z where it is. The paper's guidance scale is 1 + w.
    """
    alpha_bar = schedule.alpha_bar
    zero_ts = frozenset(int(v) for v in zero_ts)

    def guided(x_t, t):
        if _step_of(t) in zero_ts:
            out = _as_output(net(x_t, t, y))
            z, _ = flow_coords(x_t, alpha_bar[t.cpu()])
            return ModelOutput(z, out.v, out.eps)
        if is_zero_scale(w) or not guides_at(interval, t):
            out = _as_output(net(x_t, t, y))
            return ModelOutput(out.eps, out.v, out.eps)
        eps_c, eps_u, v = _both(net, x_t, t, y, null_label)
        ab = alpha_bar[t.cpu()]
        v_c, v_u = eps_to_velocity(x_t, eps_c, ab), eps_to_velocity(x_t, eps_u, ab)
        v_tilde = zero_star_combine(v_c, v_u, _scale_like(_ramped(w, ramp, t), v_c))
        return ModelOutput(velocity_to_eps(x_t, v_tilde, ab), v, eps_c)

    return guided

