"""One entry point that turns a request (method, label, scales, ...) into a sampler call.

What a method is lives in the registry, :mod:`cgd.methods`: its knob, its networks, how it builds its
model function, its samplers. Here: :class:`SampleRequest`, valid when built (every check that does not
depend on the models runs in its constructor, once; :meth:`SampleRequest.validated` adds the checks
against the models' classes and diffusion length), and :func:`guided_sample`, which runs it.

``label=None`` (or scale 0 for a classifier-guided method) samples p(x) unguided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import torch

from cgd import methods as registry
from cgd.errors import InputError
from cgd.guidance import GUIDANCE_SCHEDULES, check_interval, check_labels, check_scale, guidance_ramp
from cgd.methods import Built, Context, scale_symbol, tilt_exponent
from cgd.samplers import langevin_corrector, sample_ddim, sample_ddpm, sample_dpmpp_2m
from cgd.schedule import MAX_STEPS, NoiseSchedule, check_steps

__all__ = ["METHODS", "SAMPLERS", "EXTRA_METHODS", "SAMPLER_VERSIONS", "SampleRequest", "guided_sample", "sample_together",
           "batch_key", "by_scale", "method_context", "build_method", "tilt_exponent", "scale_symbol"]

# methods that need more than the eps-network and the classifier (autoguidance: a weak model) are EXTRA_METHODS
EXTRA_METHODS = registry.needing("weak")
METHODS = tuple(name for name in registry.NAMES if name not in EXTRA_METHODS)
SAMPLERS = ("ddpm", "ddim", "dpmpp-2m")
# The version of each method's sampling arithmetic (cgd.methods.Method.version): a change that alters the images
# a seed gives raises it, so that stored images (the scale atlas) and records made by the old arithmetic are stale.
SAMPLER_VERSIONS = {m.name: m.version for m in registry.REGISTRY}
MAX_BATCH = 100_000
X0_MODES = (None, "none", "clip", "dynamic")
_UNSET = object()  # SampleRequest(scale=...) not given
VARIANCES = ("small", "large", "learned")


@dataclass(frozen=True, init=False)
class SampleRequest:
    """Everything that decides a guided sampling run, checked when built (hashable: usable as a cache key).

    ``scales``: one run per scale, in one batch with common random numbers (a one-scale request is the plain
    run); ``scale=x`` is shorthand for ``scales=(x,)`` and, given, replaces ``scales``, so
    ``replace(request, scale=x)`` is the request at x. ``options``: the method's own options
    (:class:`cgd.methods.Param`), as ``{name: value}`` or pairs. A bad field raises InputError (one line).
    """

    method: str
    label: Optional[int]
    scales: tuple
    steps: int
    n: int
    seed: int
    eta: float
    sampler: Optional[str]  # 'ddpm' / 'ddim' / 'dpmpp-2m'; None: the method's default
    gradient_at: str
    x0_mode: Optional[str]
    variance: str
    interval: Optional[tuple]  # (t_lo, t_hi): guide only there (None: every step)
    corrector_steps: int  # Langevin corrector steps after each step (0: the plain sampler)
    corrector_size: float  # Langevin step delta = size * (1 - alpha_bar_t) on the score
    guidance_schedule: str  # 'constant', or w(t) rising as the noise falls: 'linear', 'cosine'
    options: tuple  # sorted (name, value) pairs of the method's own options

    def __init__(self, method: str = registry.DEFAULT, label: Optional[int] = 0, scale=_UNSET, steps: int = 50, n: int = 16,
                 seed: int = 0, eta: float = 0.0, sampler: Optional[str] = None, gradient_at: str = "x_t",
                 x0_mode: Optional[str] = None, variance: str = "small", interval=None, corrector_steps: int = 0,
                 corrector_size: float = 0.1, scales=None, guidance_schedule: str = "constant", options=()):
        m = registry.get(method)
        steps = check_steps(steps, maximum=MAX_STEPS)
        n = check_steps(n, name="n", maximum=MAX_BATCH)
        scales = _check_scales(m, (scale,) if scale is not _UNSET else (1.0,) if scales is None else scales, n)
        try:
            seed_ = int(seed)
        except (TypeError, ValueError):
            raise InputError(f"seed must be a whole number, got {seed!r}") from None
        if not 0 <= seed_ < 2**63:
            raise InputError(f"seed must be between 0 and 2^63-1, got {seed}")
        eta = check_scale(eta, name="eta", maximum=1.0)
        if label is not None:
            label = int(check_labels(label, 2**62, 1)[0])  # whole and >= 0; the models' classes: validated()
        if m.needs_label and label is None:
            raise InputError(f"method {m.name!r} needs a class label")
        chosen = sampler or m.default_sampler
        if chosen not in SAMPLERS:
            raise InputError(f"unknown sampler {chosen!r}; choose one of {', '.join(SAMPLERS)}")
        if chosen not in m.samplers:
            raise InputError(f"method {m.name!r} {m.sampler_note}")
        if chosen == "dpmpp-2m" and eta != 0:
            raise InputError("dpmpp-2m solves the probability-flow ODE: it takes no eta (use ddim for eta > 0)")
        if gradient_at not in ("x_t", "mu"):
            raise InputError(f"gradient point must be 'x_t' or 'mu', got {gradient_at!r}")
        if x0_mode not in X0_MODES:
            raise InputError(f"x0 mode must be one of none, clip, dynamic, got {x0_mode!r}")
        if variance not in VARIANCES:
            raise InputError(f"variance must be one of {', '.join(VARIANCES)}, got {variance!r}")
        interval = check_interval(interval, MAX_STEPS)  # its ends against the diffusion's T: validated()
        try:
            k = int(corrector_steps)
            if k != corrector_steps:
                raise ValueError
        except (TypeError, ValueError):
            raise InputError(f"corrector steps must be a whole number, got {corrector_steps!r}") from None
        if not 0 <= k <= 100:
            raise InputError(f"corrector steps must be between 0 and 100, got {k}")
        if k and chosen == "dpmpp-2m":
            raise InputError("dpmpp-2m takes no corrector steps (use ddpm or ddim with a corrector)")
        if k and not m.corrector:
            raise InputError(f"method {m.name!r} takes no corrector steps: its guided ε is not the score of one "
                             "density (use cg-ddpm, cg-ddim, cfg or cond+cg with a corrector)")
        size = check_scale(corrector_size, name="corrector size", maximum=1.0)
        if size == 0.0:
            raise InputError("corrector size must be above 0")
        if guidance_schedule not in GUIDANCE_SCHEDULES:
            raise InputError(f"unknown guidance schedule {guidance_schedule!r}; choose one of "
                             f"{', '.join(GUIDANCE_SCHEDULES)}")
        if guidance_schedule != "constant" and not m.schedules:
            raise InputError(f"method {m.name!r} takes no guidance schedule (the CFG-type methods do: "
                             f"{', '.join(x.name for x in registry.REGISTRY if x.schedules)})")
        options = registry.check_options(m.name, options)
        for name_, value in (("method", m.name), ("label", label), ("scales", scales), ("steps", steps), ("n", n),
                             ("seed", seed_), ("eta", eta), ("sampler", sampler), ("gradient_at", gradient_at),
                             ("x0_mode", x0_mode), ("variance", variance), ("interval", interval),
                             ("corrector_steps", k), ("corrector_size", size), ("guidance_schedule", guidance_schedule),
                             ("options", options)):
            object.__setattr__(self, name_, value)

    @property
    def scale(self) -> float:
        """The scale of a one-scale request (a multi-scale one has several: read ``scales``)."""
        if len(self.scales) != 1:
            raise ValueError(f"this request runs {len(self.scales)} scales; read .scales or split with by_scale")
        return self.scales[0]

    def option(self, name: str):
        """The value of one of the method's own options (its default when not given)."""
        return dict(self.options).get(name, registry.get(self.method).param(name).default)

    def at_scales(self, scales) -> "SampleRequest":
        """This request run once per scale of ``scales`` in one batch (see :func:`guided_sample`)."""
        return replace(self, scales=tuple(scales))

    def validated(self, num_classes: int, T: int) -> "SampleRequest":
        """This request checked against the models (its class among their ``num_classes``, its steps and interval
        within the diffusion's ``T``), with the method's default sampler filled in; InputError (one line) if not.

        Everything else was checked when the request was built: the scales are not checked again.
        """
        label = self.label if self.label is None else int(check_labels(self.label, num_classes, 1)[0])
        check_steps(self.steps, maximum=T)
        check_interval(self.interval, T)
        sampler = self.sampler or registry.get(self.method).default_sampler
        if sampler == self.sampler:
            return self
        out = object.__new__(SampleRequest)
        out.__dict__.update(self.__dict__, label=label, sampler=sampler)
        return out


def _check_scales(m, scales, n: int) -> tuple:
    """The request's scales as floats, each in the method's range, none repeated, all fitting one batch."""
    try:
        scales = tuple(check_scale(s, name=m.knob_name, maximum=m.max_scale) for s in scales)
    except TypeError:
        raise InputError(f"scales must be a list of numbers, got {scales!r}") from None
    if len(set(scales)) != len(scales):
        raise InputError(f"scales must not repeat, got {', '.join(f'{s:g}' for s in scales)}")
    if not 1 <= len(scales) <= MAX_BATCH // n:
        raise InputError(f"between 1 and {MAX_BATCH // n} scales fit a batch of {n}, got {len(scales)}")
    return scales


def batch_key(request: SampleRequest):
    """Requests with equal keys can share one batch (:func:`sample_together`); None: this one runs alone.

    Everything but the class, the scale, the seed and the number of images must agree. A multi-scale
    request already is a batch of its own.
    """
    r = request
    if len(r.scales) != 1:
        return None
    return (r.method, r.sampler or default_sampler(r.method), r.steps, r.eta, r.gradient_at, r.x0_mode, r.variance,
            r.interval, r.corrector_steps, r.corrector_size, r.guidance_schedule, r.options, r.label is None)


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
    grid = schedule.grid(rs[0].steps)
    build, ctx = method_context(net, classifier, schedule, rs[0], grid=grid, y=y, null=null, scale=scale,
                                num_classes=num_classes, weak_net=weak_net)
    x0 = _sample(build(ctx), schedule, rs[0], grid, x_T=x_T, generator=None, noise_sampler=noise_sampler,
                 callback=callback)
    return [x0[lo:hi] for lo, hi in zip(bounds, bounds[1:])]


def by_scale(x: torch.Tensor, request: SampleRequest) -> dict:
    """``{scale: rows}`` of a run's output ``[len(scales) * n, ...]`` (``{scale: x}`` for one scale).

    Keyed by the request's own validated floats, so a caller looks a scale up by the value it asked for.
    """
    n = request.n
    return {s: x[k * n:(k + 1) * n] for k, s in enumerate(request.scales)}


def default_sampler(method: str) -> str:
    return registry.get(method).default_sampler


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
    Several ``request.scales``: run the request once per scale, as one batch of ``len(scales) * n`` with common
    random numbers: x_T and every step's noise are drawn for ``n`` samples and repeated, so rows
    ``k*n .. (k+1)*n - 1`` are the run at ``scales[k]`` (what a separate run of that scale with the same
    seed draws, up to float rounding); x_T and labels are repeated. :func:`by_scale` splits the result.
    weak_net: the weak model of ``autoguidance`` (same signature as net).
    Returns ``x_0: [len(scales) * n, *shape]``. All randomness comes from ``torch.Generator(seed)`` on ``device``.
    """
    r = request.validated(num_classes, schedule.T)
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(r.seed)
    copies = len(r.scales)
    scale = r.scales[0] if copies == 1 else torch.tensor(r.scales, dtype=torch.float64,
                                                        device=device).repeat_interleave(r.n)

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
    grid = schedule.grid(r.steps)
    build, ctx = method_context(net, classifier, schedule, r, grid=grid, y=y, null=null, scale=scale,
                                num_classes=num_classes, weak_net=weak_net)
    return _sample(build(ctx), schedule, r, grid, x_T=x_T, generator=gen, noise_sampler=noise_sampler,
                   callback=callback)


def method_context(net, classifier, schedule, r: SampleRequest, *, grid, y, null, scale, num_classes: int,
                   weak_net=None) -> tuple:
    """``(build, ctx)``: the registry's builder of a validated request's method (:attr:`cgd.methods.Method.build`;
    label None: the unconditional model's, whatever the method) and the batch it builds for (labels y, null
    labels, scale: float or ``[B]``). The caller calls ``build(ctx)``: from the request to the guidance function
    the scale passes through no other call."""
    method = registry.get(registry.unconditional() if r.label is None else r.method)
    ctx = Context(net, classifier, weak_net, schedule, grid, y, null, scale, num_classes, r,
                  ramp=guidance_ramp(r.guidance_schedule, schedule.T))
    return method.build, ctx


def build_method(net, classifier, schedule, r: SampleRequest, **batch) -> Built:
    """The model function of a validated request's method on a batch: ``build(ctx)`` of :func:`method_context`."""
    build, ctx = method_context(net, classifier, schedule, r, **batch)
    return build(ctx)


def _sample(built: Built, schedule, r: SampleRequest, grid, *, x_T, generator, noise_sampler, callback) -> torch.Tensor:
    """The sampler run of a validated request with its method's built model function (the scale is inside it)."""
    model_fn, x0_mode = built.model_fn, None if built.guides_after_clip else r.x0_mode
    corrector = None
    if r.corrector_steps:
        corrector = langevin_corrector(built.score_fn or model_fn, schedule.alpha_bar, r.corrector_steps,
                                       r.corrector_size)
    if r.sampler == "ddpm":
        return sample_ddpm(model_fn, x_T, grid, generator=generator, callback=callback, mean_shift=built.mean_shift,
                           noise_sampler=noise_sampler, variance=r.variance, x0_mode=x0_mode, corrector=corrector)
    if r.sampler == "dpmpp-2m":
        return sample_dpmpp_2m(model_fn, x_T, grid, callback=callback, x0_mode=x0_mode)
    x0 = sample_ddim(model_fn, x_T, grid, generator=generator, callback=callback, eta=r.eta,
                     noise_sampler=noise_sampler, x0_mode=x0_mode, corrector=corrector)
    if built.guides_after_clip:
        x0 = x0.clamp(-1.0, 1.0)  # the last step's guided x0_hat was left free; the image is kept in range
    return x0
