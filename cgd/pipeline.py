"""One entry point that turns (method, label, scale) into a sampler call.

Methods (the names used by the CLIs and pages):

==========  ==========================================  ========
method      what runs                                   sampler
==========  ==========================================  ========
uncond      net(x, t, null)                             ddpm/ddim
cond        net(x, t, y)                                ddpm/ddim
cg-ddpm     unconditional net + mean shift s Sigma g    ddpm
cg-ddim     unconditional net + eps form                ddim
cfg         (1 + w) net(x, t, y) - w net(x, t, null)    ddpm/ddim
cond+cg     conditional net + mean shift s Sigma g      ddpm
==========  ==========================================  ========

``label=None`` (or scale 0 for a classifier-guided method) samples p(x) unguided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import torch

from cgd.errors import InputError
from cgd.guidance import (autoguidance_model_fn, cfg_model_fn, check_interval, check_labels, check_scale,
                          classifier_guided_eps, conditional_model_fn, is_zero_scale, make_mean_shift)
from cgd.samplers import langevin_corrector, sample_ddim, sample_ddpm, sample_dpmpp_2m
from cgd.schedule import NoiseSchedule, check_steps

__all__ = ["METHODS", "SAMPLERS", "EXTRA_METHODS", "SAMPLER_VERSIONS", "SampleRequest", "guided_sample", "sample_together",
           "batch_key", "by_scale", "tilt_exponent", "scale_symbol"]

METHODS = ("uncond", "cond", "cg-ddpm", "cg-ddim", "cfg", "cond+cg")
SAMPLERS = ("ddpm", "ddim", "dpmpp-2m")
# The version of each method's sampling arithmetic: raise it when a change alters the images a seed
# gives, so that stored images (the scale atlas) made by the old arithmetic are known to be stale.
# cg-ddim 2: the unguided x0_hat is thresholded before guiding, not the guided one (2026-11-23).
SAMPLER_VERSIONS = {"uncond": 1, "cond": 1, "cg-ddpm": 1, "cg-ddim": 2, "cfg": 1, "cond+cg": 1, "autoguidance": 1}
# methods that need more than the U-Net and the classifier: autoguidance needs a weak model too
EXTRA_METHODS = ("autoguidance",)


def scale_symbol(method: str) -> str:
    """The knob's name: ``w`` for classifier-free guidance, ``s`` for every classifier-guided method."""
    return "w" if method in ("cfg", "autoguidance") else "s"


def tilt_exponent(method: str, scale: float) -> float:
    """k such that the method's guided score at every noise level is the score of p_t(x) p_t(y|x)^k.

    cg-ddpm / cg-ddim: the unconditional score plus s times the classifier's, so k = s.
    cfg: (1+w) eps(x, y) - w eps(x) is the score of p_t(x|y)^(1+w) p_t(x)^(-w) = p_t(x) p_t(y|x)^(1+w).
    cond+cg: the conditional score plus s times the classifier's, so k = 1 + s.
    uncond: k = 0; cond: k = 1. (This is the score at each level; the sampler does *not* draw
    p(x) p(y|x)^k of the data at k != 1: the 2D page shows the difference.)
    """
    if method == "autoguidance":
        raise InputError("autoguidance tilts by p_good(x|y)/p_bad(x|y), not by a power of p(y|x)")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return {"uncond": 0.0, "cond": 1.0, "cg-ddpm": scale, "cg-ddim": scale, "cfg": 1.0 + scale,
            "cond+cg": 1.0 + scale}[method]
MAX_BATCH = 100_000


@dataclass(frozen=True)
class SampleRequest:
    """Everything that decides a guided sampling run (hashable: usable as a cache key)."""

    method: str = "cg-ddim"
    label: Optional[int] = 0
    scale: float = 1.0
    steps: int = 50
    n: int = 16
    seed: int = 0
    eta: float = 0.0
    sampler: Optional[str] = None  # 'ddpm' / 'ddim' / 'dpmpp-2m'; None: the method's default
    gradient_at: str = "x_t"
    x0_mode: Optional[str] = None
    variance: str = "small"
    interval: Optional[tuple] = None  # (t_lo, t_hi): guide only there (None: every step)
    corrector_steps: int = 0  # Langevin corrector steps after each step (0: the plain sampler)
    corrector_size: float = 0.1  # Langevin step delta = size * (1 - alpha_bar_t) on the score
    scales: Optional[tuple] = None  # several scales in one batch with common random numbers; replaces scale

    def at_scales(self, scales) -> "SampleRequest":
        """This request run once per scale of ``scales`` in one batch (see :func:`guided_sample`)."""
        return replace(self, scales=tuple(scales))

    def validated(self, num_classes: int, T: int) -> "SampleRequest":
        """Return a copy with every field checked; raises InputError with a one-line message."""
        if self.method not in METHODS + EXTRA_METHODS:
            raise InputError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS + EXTRA_METHODS)}")
        knob = "w" if scale_symbol(self.method) == "w" else "scale"
        scales = None
        if self.scales is not None:  # a multi-scale run: scale is not used, so it is not kept either
            try:
                scales = tuple(check_scale(s, name=knob) for s in self.scales)
            except TypeError:
                raise InputError(f"scales must be a list of numbers, got {self.scales!r}") from None
            if len(set(scales)) != len(scales):
                raise InputError(f"scales must not repeat, got {', '.join(f'{s:g}' for s in scales)}")
        scale = None if scales is not None else check_scale(self.scale, name=knob)
        steps = check_steps(self.steps, maximum=T)
        n = check_steps(self.n, name="n", maximum=MAX_BATCH)
        if scales is not None and not 1 <= len(scales) <= MAX_BATCH // n:
            raise InputError(f"between 1 and {MAX_BATCH // n} scales fit a batch of {n}, got {len(scales)}")
        try:
            seed = int(self.seed)
        except (TypeError, ValueError):
            raise InputError(f"seed must be a whole number, got {self.seed!r}") from None
        if not 0 <= seed < 2**63:
            raise InputError(f"seed must be between 0 and 2^63-1, got {self.seed}")
        eta = check_scale(self.eta, name="eta", maximum=1.0)
        label = self.label
        if label is not None:
            label = int(check_labels(label, num_classes, 1)[0])
        if self.method in ("cond", "cfg", "cond+cg", "autoguidance") and label is None:
            raise InputError(f"method {self.method!r} needs a class label")
        sampler = self.sampler or default_sampler(self.method)
        if sampler not in SAMPLERS:
            raise InputError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if self.method in ("cg-ddpm", "cond+cg") and sampler != "ddpm":
            raise InputError(f"method {self.method!r} is the mean-shift form and needs the ddpm sampler "
                             "(cg-ddim is classifier guidance for ddim and dpmpp-2m)")
        if self.method == "cg-ddim" and sampler == "ddpm":
            raise InputError("method 'cg-ddim' runs on the ddim or dpmpp-2m sampler")
        if sampler == "dpmpp-2m" and self.eta != 0:
            raise InputError("dpmpp-2m solves the probability-flow ODE: it takes no eta (use ddim for eta > 0)")
        if sampler == "dpmpp-2m" and self.corrector_steps:
            raise InputError("dpmpp-2m takes no corrector steps (use ddpm or ddim with a corrector)")
        if self.gradient_at not in ("x_t", "mu"):
            raise InputError(f"gradient point must be 'x_t' or 'mu', got {self.gradient_at!r}")
        interval = check_interval(self.interval, T)
        try:
            k = int(self.corrector_steps)
            if k != self.corrector_steps:
                raise ValueError
        except (TypeError, ValueError):
            raise InputError(f"corrector steps must be a whole number, got {self.corrector_steps!r}") from None
        if not 0 <= k <= 100:
            raise InputError(f"corrector steps must be between 0 and 100, got {k}")
        size = check_scale(self.corrector_size, name="corrector size", maximum=1.0)
        if size == 0.0:
            raise InputError("corrector size must be above 0")
        return SampleRequest(self.method, label, scale, steps, n, seed, eta, sampler,
                             self.gradient_at, self.x0_mode, self.variance, interval, k, size, scales)


def batch_key(request: SampleRequest):
    """Requests with equal keys can share one batch (:func:`sample_together`); None: this one runs alone.

    Everything but the class, the scale, the seed and the number of images must agree. A multi-scale
    request already is a batch of its own.
    """
    r = request
    if r.scales is not None:
        return None
    return (r.method, r.sampler or default_sampler(r.method), r.steps, r.eta, r.gradient_at, r.x0_mode, r.variance,
            r.interval, r.corrector_steps, r.corrector_size, r.label is None)


def sample_together(net: Callable, classifier: Optional[Callable], schedule: NoiseSchedule, requests, *, shape: tuple,
                    num_classes: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                    callbacks=None, weak_net: Optional[Callable] = None) -> list:
    """Run requests with one :func:`batch_key` as one batch; returns each one's ``x_0 [n_r, *shape]``.

    Each request keeps its own randomness: x_T and every step's noise for its rows come from its own
    ``torch.Generator(seed)``, drawn as a run of that request alone draws them. Classes and scales are
    per row. So a request's rows are the run it would get alone, and bit for bit so when the networks'
    output for a row does not depend on the other rows of the batch (on a CPU: evaluate them in
    fixed-size chunks, :func:`cgd.compute.fixed_batch`).
    callbacks: one per request (or None), each called after every step with the step's dict cut to its rows.
    """
    rs = [r.validated(num_classes, schedule.T) for r in requests]
    keys = {batch_key(r) for r in rs}
    if None in keys or len(keys) != 1:
        raise InputError("only single-scale requests with the same method, sampler, steps and options share a batch")
    device = torch.device(device)
    gens = [torch.Generator(device=device).manual_seed(r.seed) for r in rs]
    x_T = torch.cat([torch.randn((r.n, *shape), generator=g, device=device, dtype=dtype) for r, g in zip(rs, gens)])

    def noise_sampler(like):
        return torch.cat([torch.randn((r.n, *shape), generator=g, device=device, dtype=like.dtype)
                          for r, g in zip(rs, gens)])

    null = torch.tensor(num_classes, dtype=torch.long, device=device).expand(x_T.shape[0])
    y = null if rs[0].label is None else torch.cat(
        [torch.full((r.n,), r.label, dtype=torch.long, device=device) for r in rs])
    # per row, also when every request asks the same scale: one code path, whatever the company
    scale = torch.cat([torch.full((r.n,), r.scale, dtype=torch.float64, device=device) for r in rs])
    bounds = [0]
    for r in rs:
        bounds.append(bounds[-1] + r.n)

    def split(d):  # each request's callback sees its own rows of the step's dict
        for c, lo, hi in zip(callbacks, bounds, bounds[1:]):
            if c is not None:
                c({k: (v[lo:hi] if torch.is_tensor(v) and v.ndim > 0 and v.shape[0] == bounds[-1] else v)
                   for k, v in d.items()})

    callback = split if callbacks is not None and any(c is not None for c in callbacks) else None
    x0 = _run(net, classifier, schedule, rs[0], x_T=x_T, y=y, null=null, scale=scale, generator=None,
              noise_sampler=noise_sampler, callback=callback, num_classes=num_classes, weak_net=weak_net)
    return [x0[lo:hi] for lo, hi in zip(bounds, bounds[1:])]


def by_scale(x: torch.Tensor, request: SampleRequest) -> dict:
    """``{scale: rows}`` of a multi-scale run's output ``[len(scales) * n, ...]`` (``{scale: x}`` for one scale).

    Keyed by the request's own validated floats, so a caller looks a scale up by the value it asked for.
    """
    if request.scales is None:
        return {request.scale: x}
    n = request.n
    return {s: x[k * n:(k + 1) * n] for k, s in enumerate(request.scales)}


def default_sampler(method: str) -> str:
    return "ddim" if method == "cg-ddim" else "ddpm"


def guided_sample(
    net: Callable,
    classifier: Optional[Callable],
    schedule: NoiseSchedule,
    request: SampleRequest,
    *,
    shape: tuple,
    num_classes: int,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    callback: Optional[Callable[[dict], None]] = None,
    x_T: Optional[torch.Tensor] = None,
    labels: Optional[torch.Tensor] = None,
    weak_net: Optional[Callable] = None,
) -> torch.Tensor:
    """Sample ``request.n`` points of ``shape`` (per sample) with the requested guidance.

    net(x_t, t, y) -> eps with null label ``num_classes``; classifier(x_t, t) -> logits.
    x_T: optional start ``[n, *shape]`` (default: drawn from the seed).
    labels: optional ``[n] long``, one class per sample (evaluation draws them at random); it
    replaces ``request.label``, which must then be set (any class) for the guided methods.
    ``request.scales``: run the request once per scale, as one batch of ``len(scales) * n`` with common
    random numbers: x_T and every step's noise are drawn for ``n`` samples and repeated, so rows
    ``k*n .. (k+1)*n - 1`` are the run at ``scales[k]`` (what a separate run of that scale with the same
    seed draws, up to float rounding); x_T and labels are repeated. :func:`by_scale` splits the result.
    weak_net: the weak model of ``autoguidance`` (same signature as net).
    Returns ``x_0: [n, *shape]`` (``[len(scales) * n, *shape]`` with ``scales``). All randomness comes
    from ``torch.Generator(seed)`` on ``device``.
    """
    r = request.validated(num_classes, schedule.T)
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(r.seed)
    copies, scale = 1, r.scale
    if r.scales is not None:
        copies = len(r.scales)
        scale = torch.tensor(r.scales, dtype=torch.float64, device=device).repeat_interleave(r.n)

    def tiled(z):  # one draw for n samples, the same for every copy
        return z.repeat(copies, *([1] * (z.ndim - 1))) if copies > 1 else z

    if x_T is None:
        x_T = torch.randn((r.n, *shape), generator=gen, device=device, dtype=dtype)
    x_T = tiled(x_T)

    def shared_noise(like):
        return tiled(torch.randn((r.n, *shape), generator=gen, device=device, dtype=like.dtype))

    noise_sampler = shared_noise if copies > 1 else None

    def one_label(c):  # [copies * n] long, a stride-0 view: the models need not scan it
        return torch.tensor(c, dtype=torch.long, device=device).expand(copies * r.n)

    null = one_label(num_classes)
    y = null if r.label is None else one_label(r.label)
    if labels is not None and r.label is not None:
        y = tiled(check_labels(labels, num_classes, r.n, device))
    return _run(net, classifier, schedule, r, x_T=x_T, y=y, null=null, scale=scale, generator=gen,
                noise_sampler=noise_sampler, callback=callback, num_classes=num_classes, weak_net=weak_net)


def _run(net, classifier, schedule, r: SampleRequest, *, x_T, y, null, scale, generator, noise_sampler, callback,
         num_classes: int, weak_net=None) -> torch.Tensor:
    """The sampler run of a validated request on a prepared batch (x_T, labels y, scale: float or [B])."""
    gen = generator
    grid = schedule.grid(r.steps)

    guided = r.label is not None and not (r.method in ("cg-ddpm", "cg-ddim") and is_zero_scale(scale))
    if r.method in ("cg-ddpm", "cg-ddim", "cond+cg") and guided and classifier is None:
        raise InputError(f"method {r.method!r} needs a classifier")

    mean_shift = None
    guides_after_clip = (r.method == "cg-ddim" and guided and r.x0_mode not in (None, "none")
                         and r.sampler == "ddim")
    x0_mode = None if guides_after_clip else r.x0_mode  # guided cg-ddim thresholds inside its guidance
    score_fn = None  # what the corrector follows, when it is not model_fn
    if r.method == "uncond" or not guided:
        model_fn = conditional_model_fn(net, null)
    elif r.method == "cond":
        model_fn = conditional_model_fn(net, y)
    elif r.method == "cfg":
        model_fn = cfg_model_fn(net, y, scale, num_classes, interval=r.interval)
    elif r.method == "autoguidance":
        if weak_net is None:
            raise InputError("method 'autoguidance' needs a weak model")
        model_fn = autoguidance_model_fn(net, weak_net, y, scale, interval=r.interval)
    elif r.method == "cg-ddim":  # guided-diffusion's order: threshold the unguided x0_hat, then guide
        # (dpmpp-2m thresholds the guided data prediction instead, as Lu et al. recommend)
        model_fn = classifier_guided_eps(conditional_model_fn(net, null), classifier, y, scale, schedule,
                                         interval=r.interval, x0_mode=r.x0_mode if guides_after_clip else None)
        # the corrector's target is the guided score itself, with nothing thresholded in it
        score_fn = classifier_guided_eps(conditional_model_fn(net, null), classifier, y, scale, schedule,
                                         interval=r.interval)
    else:  # cg-ddpm, cond+cg: the mean-shift form
        base = null if r.method == "cg-ddpm" else y
        model_fn = conditional_model_fn(net, base)
        mean_shift = make_mean_shift(classifier, y, scale, at=r.gradient_at, interval=r.interval)

    corrector = None
    if r.corrector_steps:
        if score_fn is None:  # the corrector needs the guided eps: the mean-shift form has it as an eps form
            score_fn = model_fn if mean_shift is None else classifier_guided_eps(model_fn, classifier, y, scale,
                                                                                 schedule, interval=r.interval)
        corrector = langevin_corrector(score_fn, schedule.alpha_bar, r.corrector_steps, r.corrector_size)
    if r.sampler == "ddpm":
        return sample_ddpm(model_fn, x_T, grid, generator=gen, callback=callback, mean_shift=mean_shift,
                           noise_sampler=noise_sampler, variance=r.variance, x0_mode=x0_mode,
                           corrector=corrector)
    if r.sampler == "dpmpp-2m":
        return sample_dpmpp_2m(model_fn, x_T, grid, callback=callback, x0_mode=x0_mode)
    x0 = sample_ddim(model_fn, x_T, grid, generator=gen, callback=callback, eta=r.eta,
                     noise_sampler=noise_sampler, x0_mode=x0_mode, corrector=corrector)
    if guides_after_clip:
        x0 = x0.clamp(-1.0, 1.0)  # the last step's guided x0_hat was left free; the image is kept in range
    return x0
