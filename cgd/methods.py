"""The method registry: the one place a guidance method is defined.

Each :class:`Method` holds everything the code needs to know about one method: its name and label, its
knob (``s`` for classifier guidance, ``w`` for classifier-free guidance and its relatives, ``λ`` for CFG++),
its tilt exponent k(scale) where one exists (and where the charts' k axis puts it where none does), the
networks it needs, how it builds its model function (and whether it guides by a mean shift), its default
sampler and the samplers it allows, its equation and citation, what scale 0 means, and the version of its
sampling arithmetic. CLIs, pages, the atlas, the evaluation and the
2D world read these entries; none of them spells a method's name. Adding a method is one entry here, its
guidance function in :mod:`cgd.guidance`, and its tests.

The tilt exponent k: at every noise level the guided score is the score of p_t(x) p_t(y|x)^k for the
methods that have one (CG k = s, cond+CG k = 1 + s, CFG k = 1 + w). Autoguidance tilts by p_good/p_bad,
and APG, CFG++ and CFG-Zero* change the update itself: they have no k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

from cgd.errors import InputError
from cgd.guidance import (MAX_SCALE, apg_model_fn, autoguidance_model_fn, cfg_model_fn, cfg_zero_star_model_fn,
                          cfgpp_model_fn, classifier_guided_eps, conditional_model_fn, is_zero_scale,
                          make_mean_shift)

__all__ = ["Param", "Context", "Built", "Method", "REGISTRY", "NAMES", "DEFAULT", "DEFAULT_SWEPT", "MENUS", "OPENS_ON", "get", "menu", "opens_on",
           "cg_on", "unconditional", "contrasts", "names", "guided_names", "needing",
           "check_options", "parse_options", "tilt_exponent", "held_against", "scale_symbol"]


@dataclass(frozen=True)
class Param:
    """A method's own option (beyond the scale): name, default, and the range it must lie in."""

    name: str
    default: float
    lo: float
    hi: float
    doc: str
    lo_open: bool = False  # lo itself is refused (r > 0)
    hi_open: bool = False
    whole: bool = False  # a whole number (steps)

    def check(self, method: str, value) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{method} option {self.name} must be a number, got {value!r}") from None
        if math.isnan(v) or (self.whole and (not math.isfinite(v) or v != int(v))):
            raise InputError(f"{method} option {self.name} must be a {'whole ' if self.whole else ''}number, "
                             f"got {value!r}")
        low_bad = v <= self.lo if self.lo_open else v < self.lo
        high_bad = v >= self.hi if self.hi_open else v > self.hi
        if low_bad or high_bad:
            lo, hi = ("(" if self.lo_open else "["), (")" if self.hi_open else "]")
            raise InputError(f"{method} option {self.name} ({self.doc}) must lie in {lo}{self.lo:g}, {self.hi:g}{hi}, "
                             f"got {v:g}")
        return int(v) if self.whole else v


@dataclass(frozen=True)
class Context:
    """What a method's ``build`` gets: the networks, the batch's labels and scale, and the validated request."""

    net: Callable
    classifier: Optional[Callable]
    weak_net: Optional[Callable]
    schedule: object  # cgd.schedule.NoiseSchedule
    grid: object  # the run's cgd.schedule.SamplingGrid
    y: object  # [B] long labels
    null: object  # [B] long null labels
    scale: object  # float, or [B] float64 (one per row)
    num_classes: int
    request: object  # the validated cgd.pipeline.SampleRequest
    ramp: Optional[Callable] = None  # w(t) = w ramp(t) (cgd.guidance.guidance_ramp); None: constant

    def option(self, name: str):
        return self.request.option(name)

    def needs(self, what: str, method: str):
        net = {"classifier": self.classifier, "weak": self.weak_net}[what]
        if net is None:
            raise InputError(f"method {method!r} needs a {'classifier' if what == 'classifier' else 'weak model'}")
        return net


@dataclass(frozen=True)
class Built:
    """A method's sampler inputs: the model function, the mean-shift hook of DDPM (or None), the eps-form whose
    score the Langevin corrector follows (None: the model function), and whether guidance thresholds inside
    the model function (the sampler then leaves x0_hat free and the result is clamped at the end)."""

    model_fn: Callable
    mean_shift: Optional[Callable] = None
    score_fn: Optional[Callable] = None
    guides_after_clip: bool = False


@dataclass(frozen=True, eq=False)
class Method:
    name: str
    label: str  # in legends and menus
    short: str  # in titles
    knob: Optional[str]  # "s", "w", "λ"; None: no scale
    build: Callable[[Context], Built]
    equation: str  # LaTeX
    about: str  # one or two sentences: what runs
    citation: str
    zero_means: str  # what scale 0 is
    version: int  # of the sampling arithmetic: raise it when a change alters the images a seed gives
    color: str  # one colour per method on every figure (cgd.palette)
    tilt: Optional[Callable[[float], float]] = None  # k(scale); None: no power of p(y|x)
    tilt_text: str = ""  # k as a formula of the knob ("s", "1 + w")
    no_tilt: str = ""  # why there is no k (one line)
    axis_k: Optional[Callable[[float], float]] = None  # no tilt: where the charts' common k axis puts it anyway
    mean_shift: bool = False  # guides by moving the DDPM step's mean by s Σ g (Algorithm 1), not through ε
    needs: tuple = ()  # networks beyond the eps-network: "classifier", "weak"
    needs_label: bool = True  # False: label None samples p(x) unguided
    default_sampler: str = "ddpm"
    samplers: tuple = ("ddpm", "ddim", "dpmpp-2m")
    sampler_note: str = ""  # why some sampler is refused
    anchor: Optional[str] = None  # the unguided method that equals scale 0 (same labels and noise)
    max_scale: float = MAX_SCALE
    default_scale: float = 1.0
    params: tuple = ()  # Param, the method's own options
    schedules: bool = False  # takes a rising guidance schedule w(t) (cgd.guidance.guidance_ramp)
    corrector: bool = True  # its guided eps is a score: the Langevin corrector applies
    recommended: dict = field(default_factory=dict)  # dataset -> the scale the rule of cgd.results.choose_scale picked
    atlas_scales: Optional[tuple] = None  # the scale atlas's grid (None: not in the atlas)
    paper_row: Optional[tuple] = None  # (conditional model, classifier guidance) row of Dhariwal & Nichol Table 4
    quality_rank: Optional[int] = None  # its place among cgd.quality's guided records (None: not measured there)
    menus: tuple = ()  # the pages' menus that offer it (see MENUS)
    contrast_with: Optional[str] = None  # the method the pages set it beside at the same scale

    @property
    def knob_name(self) -> str:
        """How messages name the knob: "scale" for CG, "w", "λ"."""
        return "scale" if self.knob in ("s", None) else self.knob

    @property
    def guided(self) -> bool:
        return self.knob is not None

    def exponent(self, scale: float) -> float:
        """k(scale); raises InputError (one line) for a method without one."""
        if self.tilt is None:
            raise InputError(self.no_tilt or f"{self.name} has no tilt exponent")
        return float(self.tilt(float(scale)))

    def axis_exponent(self, scale: float) -> float:
        """Where the charts' common k axis puts it: its tilt exponent, or ``axis_k`` for a method without one."""
        return self.exponent(scale) if self.axis_k is None else float(self.axis_k(float(scale)))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise InputError(f"method {self.name!r} has no option {name!r}"
                         + (f"; its options: {', '.join(p.name for p in self.params)}" if self.params
                            else "; it takes none"))


# -- how each method builds its model function ------------------------------------------------------------------
def _unconditional(ctx: Context) -> Built:
    return Built(conditional_model_fn(ctx.net, ctx.null))


def _conditional(ctx: Context) -> Built:
    return Built(conditional_model_fn(ctx.net, ctx.y))


def _mean_shift(on_conditional: bool, name: str):
    """Classifier guidance as the DDPM mean shift s Sigma g (Algorithm 1), on the (un)conditional model."""

    def build(ctx: Context) -> Built:
        if not on_conditional and is_zero_scale(ctx.scale):
            return _unconditional(ctx)  # s = 0: the unconditional model, no classifier at all
        clf = ctx.needs("classifier", name)
        r = ctx.request
        model_fn = conditional_model_fn(ctx.net, ctx.y if on_conditional else ctx.null)
        shift = make_mean_shift(clf, ctx.y, ctx.scale, at=r.gradient_at, interval=r.interval)
        # the corrector needs the guided eps: the mean-shift form has it as an eps form
        score = classifier_guided_eps(model_fn, clf, ctx.y, ctx.scale, ctx.schedule, interval=r.interval)
        return Built(model_fn, mean_shift=shift, score_fn=score)

    return build


def _cg_eps(ctx: Context) -> Built:
    """Classifier guidance in the eps form (Algorithm 2). guided-diffusion's order on DDIM: threshold the unguided
    x0_hat, then guide (dpmpp-2m thresholds the guided data prediction instead, as Lu et al. recommend)."""
    if is_zero_scale(ctx.scale):
        return _unconditional(ctx)
    clf = ctx.needs("classifier", "cg-ddim")
    r = ctx.request
    after_clip = r.x0_mode not in (None, "none") and r.sampler == "ddim"
    uncond = conditional_model_fn(ctx.net, ctx.null)
    model_fn = classifier_guided_eps(uncond, clf, ctx.y, ctx.scale, ctx.schedule, interval=r.interval,
                                     x0_mode=r.x0_mode if after_clip else None)
    # the corrector's target is the guided score itself, with nothing thresholded in it
    score = classifier_guided_eps(uncond, clf, ctx.y, ctx.scale, ctx.schedule, interval=r.interval)
    return Built(model_fn, score_fn=score, guides_after_clip=after_clip)


def _cfg(ctx: Context) -> Built:
    return Built(cfg_model_fn(ctx.net, ctx.y, ctx.scale, ctx.num_classes, interval=ctx.request.interval,
                              ramp=ctx.ramp))


def _autoguidance(ctx: Context) -> Built:
    weak = ctx.needs("weak", "autoguidance")
    return Built(autoguidance_model_fn(ctx.net, weak, ctx.y, ctx.scale, interval=ctx.request.interval,
                                       ramp=ctx.ramp))


def _apg(ctx: Context) -> Built:
    return Built(apg_model_fn(ctx.net, ctx.y, ctx.scale, ctx.num_classes, ctx.schedule, eta=ctx.option("eta"),
                              r=ctx.option("r"), momentum=ctx.option("momentum"), interval=ctx.request.interval,
                              ramp=ctx.ramp))


def _cfgpp(ctx: Context) -> Built:
    return Built(cfgpp_model_fn(ctx.net, ctx.y, ctx.scale, ctx.num_classes, interval=ctx.request.interval))


def _cfg_zero_star(ctx: Context) -> Built:
    k = int(ctx.option("zero_init_steps"))
    zero_ts = [int(t) for t in ctx.grid.timesteps[:k]]
    return Built(cfg_zero_star_model_fn(ctx.net, ctx.y, ctx.scale, ctx.num_classes, ctx.schedule, zero_ts=zero_ts,
                                        interval=ctx.request.interval, ramp=ctx.ramp))


# recommended: per dataset, the swept scale with the lowest judge-FID among those at which the judge reads the asked
# class at least JUDGE_FLOOR of the time (cgd.results.choose_scale; n = 500, 25 steps, seed 0, results/DATASET_sweep.json).
# MNIST, 12000-step U-Net, floor 97%: cg-ddpm s = 4 (97.8%, FID 0.99), cg-ddim s = 4 (97.6%, 1.24), cfg w = 0.5
# (99.8%, 1.40), cond+cg s = 1 (99.6%, 1.26), autoguidance w = 0.5 (97.8%, 0.79); the 3000-step U-Net had needed
# s = 10 and s = 8. Fashion-MNIST, 12000-step U-Net, floor 86.98% (its judge's test accuracy): cg-ddpm s = 4
# (93.4%, 1.35), cg-ddim s = 4 (93.6%, 1.41), cfg w = 0.5 (95.4%, 1.45), cond+cg s = 1 (95.2%, 1.39),
# autoguidance w = 1 (88.4%, 0.39). A method with no sweep on a dataset has no entry there.
# atlas_scales: from 0 past every dataset's recommended scale, close together where the samples change most.
_SMALL = (0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 8)

REGISTRY = (
    Method("uncond", "unconditional", "unconditional", None, _unconditional,
           r"x_{t-1} \sim \mathcal N\big(\mu_\theta(x_t),\ \Sigma\big)",
           "The unconditional model (the U-Net with the null label): no class, no guidance.",
           "Ho, Jain & Abbeel 2020", "the unconditional model", 1, "#7f7f7f",
           tilt=lambda s: 0.0, tilt_text="0", needs_label=False, paper_row=(False, False),
           menus=("images", "measure")),
    Method("cond", "conditional", "conditional", None, _conditional,
           r"x_{t-1} \sim \mathcal N\big(\mu_\theta(x_t, y),\ \Sigma\big)",
           "The conditional model: the U-Net told the class y, no guidance.",
           "Ho & Salimans 2022 (one network, label dropout)", "the conditional model", 1, "#e377c2",
           tilt=lambda s: 1.0, tilt_text="1", paper_row=(True, False), quality_rank=4,
           menus=("images", "measure")),
    Method("cg-ddpm", "CG-DDPM (mean shift sΣg)", "CG-DDPM", "s", _mean_shift(False, "cg-ddpm"),
           r"x_{t-1} \sim \mathcal N\big(\mu_\theta(x_t) + s\,\Sigma\,\nabla_{x}\log p_\phi(y\mid x_t),\ \Sigma\big)",
           "Classifier guidance (Dhariwal & Nichol, Algorithm 1): the unconditional model's step, its mean moved by "
           "s·Σ times the noisy classifier's gradient.",
           "Dhariwal & Nichol 2021, Algorithm 1", "the unconditional model (DDPM)", 1, "#9467bd",
           tilt=lambda s: s, tilt_text="s", mean_shift=True, needs=("classifier",), needs_label=False,
           samplers=("ddpm",),
           sampler_note="is the mean-shift form and needs the ddpm sampler (cg-ddim is classifier guidance for "
                        "ddim and dpmpp-2m)",
           anchor="uncond", recommended={"mnist": 4.0, "fashion-mnist": 4.0},
           atlas_scales=(0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 25, 30),
           paper_row=(False, True), quality_rank=2, menus=("2d", "images", "measure", "trade-off")),
    Method("cg-ddim", "CG-DDIM (ε form)", "CG-DDIM", "s", _cg_eps,
           r"\hat\varepsilon = \varepsilon_\theta(x_t) - s\sqrt{1-\bar\alpha_t}\,\nabla_{x_t}\log p_\phi(y\mid x_t)",
           "Classifier guidance in the ε form (Algorithm 2), for the deterministic DDIM sampler (η = 0).",
           "Dhariwal & Nichol 2021, Algorithm 2", "the unconditional model (DDIM)", 2, "#ff7f0e",
           # version 2: the unguided x0_hat is thresholded before guiding, not the guided one (2026-11-23)
           tilt=lambda s: s, tilt_text="s", needs=("classifier",), needs_label=False, default_sampler="ddim",
           samplers=("ddim", "dpmpp-2m"), sampler_note="runs on the ddim or dpmpp-2m sampler", anchor="uncond",
           recommended={"mnist": 4.0, "fashion-mnist": 4.0},
           atlas_scales=(0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40), quality_rank=0,
           menus=("2d", "images", "measure")),
    Method("cfg", "CFG (w)", "CFG", "w", _cfg,
           r"\tilde\varepsilon = (1+w)\,\varepsilon_\theta(x_t, y) - w\,\varepsilon_\theta(x_t)",
           "Classifier-free guidance (Ho & Salimans): one network, with and without the label; no classifier.",
           "Ho & Salimans 2022, eq. 6", "the conditional model", 1, "#2ca02c",
           tilt=lambda w: 1.0 + w, tilt_text="1 + w", anchor="cond", schedules=True,
           recommended={"mnist": 0.5, "fashion-mnist": 0.5}, atlas_scales=_SMALL, quality_rank=1,
           menus=("2d", "images", "measure", "trade-off")),
    Method("cond+cg", "conditional + CG", "conditional + CG", "s", _mean_shift(True, "cond+cg"),
           r"x_{t-1} \sim \mathcal N\big(\mu_\theta(x_t, y) + s\,\Sigma\,\nabla_{x}\log p_\phi(y\mid x_t),\ \Sigma\big)",
           "The conditional model plus classifier guidance: the paper's best ImageNet setting.",
           "Dhariwal & Nichol 2021, Table 4", "the conditional model", 1, "#8c564b",
           tilt=lambda s: 1.0 + s, tilt_text="1 + s", mean_shift=True, needs=("classifier",),
           samplers=("ddpm",),
           sampler_note="is the mean-shift form and needs the ddpm sampler (cg-ddim is classifier guidance for "
                        "ddim and dpmpp-2m)",
           anchor="cond", recommended={"mnist": 1.0, "fashion-mnist": 1.0},
           atlas_scales=(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12),
           paper_row=(True, True), quality_rank=3, menus=("2d", "images", "measure", "trade-off")),
    Method("autoguidance", "autoguidance (w)", "autoguidance", "w", _autoguidance,
           r"\tilde\varepsilon = \varepsilon_{\mathrm{weak}}(x_t, y) + (1+w)\,\big(\varepsilon_\theta(x_t, y) "
           r"- \varepsilon_{\mathrm{weak}}(x_t, y)\big)",
           "Autoguidance (Karras et al. 2024): the conditional model guided away from a *weaker* model of the same "
           "task (here the same U-Net earlier in its training), not from the unconditional model; no classifier. "
           r"Its guided score is that of $p(x\mid y)^{1+w} / p_{\mathrm{weak}}(x\mid y)^{w}$: no power of "
           r"$p(y\mid x)$, so there is no tilt exponent.",
           "Karras et al. 2024, eq. 2", "the conditional model", 1, "#17becf",
           no_tilt="autoguidance tilts by p_good(x|y)/p_bad(x|y), not by a power of p(y|x)",
           axis_k=lambda w: 1.0 + w,  # it weighs its guided network by 1 + w as CFG does: CFG's k of the same w
           needs=("weak",),
           anchor="cond", schedules=True, recommended={"mnist": 0.5, "fashion-mnist": 1.0}, atlas_scales=_SMALL,
           quality_rank=5, menus=("images",), contrast_with="cfg"),
    Method("apg", "APG (w, projected)", "APG", "w", _apg,
           r"\tilde x_0 = \hat x_0(x_t, y) + w\,\big(\Delta_\perp + \eta\,\Delta_\parallel\big),\quad "
           r"\Delta = \min\!\big(1, \tfrac{r}{\|\Delta'\|}\big)\,\Delta',\ "
           r"\Delta' = \hat x_0(x_t, y) - \hat x_0(x_t) + \beta\,\Delta_{\mathrm{prev}}",
           "Adaptive projected guidance: CFG's update in the x̂₀ form, split into the part parallel to the "
           "conditional x̂₀ (weighted by η) and the part orthogonal to it, its norm clipped at r, with optional "
           "momentum β. At η = 1, r = ∞, β = 0 it is CFG.",
           "Sadat, Hilliges & Weber 2024 (ICLR 2025), Algorithm 1", "the conditional model", 1, "#e6ab02",
           no_tilt="APG rescales and projects CFG's update, so its score is no power of p(y|x)", anchor="cond",
           schedules=True, corrector=False,
           params=(Param("eta", 0.0, 0.0, 1.0, "η, the weight of the part parallel to x̂₀(x_t, y)"),
                   Param("r", math.inf, 0.0, math.inf, "the norm the update is clipped at", lo_open=True),
                   Param("momentum", 0.0, -1.0, 1.0, "β, the momentum of the update", lo_open=True, hi_open=True))),
    Method("cfg++", "CFG++ (λ)", "CFG++", "λ", _cfgpp,
           r"\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\lambda}{\sqrt{\bar\alpha_t}},\ "
           r"x_{t-1} = \sqrt{\bar\alpha_{t-1}}\,\hat x_0 + \sqrt{1-\bar\alpha_{t-1}}\,\varepsilon_\theta(x_t),\ "
           r"\varepsilon_\lambda = \varepsilon_\theta(x_t) + \lambda\big(\varepsilon_\theta(x_t, y) - "
           r"\varepsilon_\theta(x_t)\big)",
           "CFG++: the guided ε (weight λ in [0, 1]) enters x̂₀ only; the DDIM step goes back to the next noise "
           "level with the unconditional ε.",
           "Chung, Kim, Park, Nam & Ye 2024, Algorithm 1", "the unconditional model (DDIM)", 1, "#393b79",
           no_tilt="CFG++ re-noises with the unconditional ε, so its step follows no single score", max_scale=1.0,
           default_scale=0.6, default_sampler="ddim", samplers=("ddim",),
           sampler_note="is a DDIM step (x̂₀ guided, re-noised unconditionally): it runs on the ddim sampler",
           corrector=False),
    Method("cfg-zero-star", "CFG-Zero* (w)", "CFG-Zero*", "w", _cfg_zero_star,
           r"\tilde v = s^\ast v_\varnothing + (1+w)\,\big(v_y - s^\ast v_\varnothing\big),\quad "
           r"s^\ast = \frac{\langle v_y, v_\varnothing\rangle}{\|v_\varnothing\|^2},\quad v = \varepsilon - \hat x_0",
           "CFG-Zero*: CFG on the flow-matching velocity v = ε − x̂₀ (exact for this model: z = x_t/(α+σ), "
           "τ = σ/(α+σ)), with the unconditional velocity scaled by the optimised s*, and the velocity zeroed "
           "at the first steps.",
           "Fan, Zheng, Li, Liu, Xu, Wang & Huang 2025, eq. 8 and zero-init", "the conditional model, its first "
           "steps zeroed", 1, "#e7298a",
           no_tilt="CFG-Zero* scales the unconditional velocity by s* per sample, so its score is no power of p(y|x)",
           default_sampler="ddim", samplers=("ddim", "dpmpp-2m"),
           sampler_note="is defined for the probability-flow ODE: it runs on the ddim or dpmpp-2m sampler",
           schedules=True, corrector=False,
           params=(Param("zero_init_steps", 1, 0, 1000, "the first steps whose velocity is zeroed", whole=True),)),
)

_BY_NAME = {m.name: m for m in REGISTRY}
NAMES = tuple(_BY_NAME)
DEFAULT = "cg-ddim"  # the sampling CLIs' method when none is given
DEFAULT_SWEPT = "cg-ddpm"  # cgd.evaluate's, the paper's Table 4 method

# The pages' menus, each listing the methods whose entry names it (in the registry's order), and the method each
# opens on: "2d" the 2D page's Method, "images" the image page's, "measure" the Fidelity page's live measurement,
# "trade-off" the methods the Fidelity page and the Lesson draw their trade-off curves for first.
MENUS = ("2d", "images", "measure", "trade-off")
OPENS_ON = {"2d": "cg-ddpm", "images": "cg-ddim", "measure": "cg-ddpm"}


def names() -> tuple:
    return NAMES


def get(name: str) -> Method:
    """The registry entry of a method; an unknown name raises InputError (one line, with the choices)."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown method {name!r}; choose one of {', '.join(NAMES)}") from None


def menu(page: str) -> tuple:
    """The methods a page's menu offers (one of :data:`MENUS`), in the registry's order."""
    if page not in MENUS:
        raise InputError(f"unknown menu {page!r}; choose one of {', '.join(MENUS)}")
    return tuple(m.name for m in REGISTRY if page in m.menus)


def opens_on(page: str) -> str:
    """The method a page's menu opens on."""
    return OPENS_ON[page]


def cg_on(sampler: str) -> str:
    """Classifier guidance of the unconditional model (k = s) as its sampler runs it: the mean shift on "ddpm"
    (Algorithm 1), the eps form on "ddim" (Algorithm 2)."""
    for m in REGISTRY:
        if "classifier" in m.needs and not m.needs_label and m.default_sampler == sampler:
            return m.name
    raise InputError(f"no classifier guidance runs on {sampler!r}")


def unconditional() -> str:
    """The unguided model of p(x): no label, no scale."""
    return next(m.name for m in REGISTRY if not m.guided and not m.needs_label)


def contrasts() -> tuple:
    """``(against, method)`` pairs the pages set side by side at the same scale (autoguidance beside CFG)."""
    return tuple((m.contrast_with, m.name) for m in REGISTRY if m.contrast_with)


def guided_names() -> tuple:
    """The methods with a scale (every method but the unguided models)."""
    return tuple(m.name for m in REGISTRY if m.guided)


def needing(what: str) -> tuple:
    """The methods that need a network beyond the eps-network: "classifier" or "weak"."""
    return tuple(m.name for m in REGISTRY if what in m.needs)


def scale_symbol(method: str) -> str:
    """The knob's name: ``w`` for classifier-free guidance and its relatives, ``λ`` for CFG++, ``s`` for classifier
    guidance (and the unguided models)."""
    return get(method).knob or "s"


def tilt_exponent(method: str, scale: float) -> float:
    """k such that the method's guided score at every noise level is the score of p_t(x) p_t(y|x)^k.

    cg-ddpm / cg-ddim: the unconditional score plus s times the classifier's, so k = s.
    cfg: (1+w) eps(x, y) - w eps(x) is the score of p_t(x|y)^(1+w) p_t(x)^(-w) = p_t(x) p_t(y|x)^(1+w).
    cond+cg: the conditional score plus s times the classifier's, so k = 1 + s.
    uncond: k = 0; cond: k = 1. (This is the score at each level; the sampler does *not* draw
    p(x) p(y|x)^k of the data at k != 1: the 2D page shows the difference.)
    A method without one (autoguidance, APG, CFG++, CFG-Zero*) raises InputError with the reason.
    """
    return get(method).exponent(scale)


def held_against(method: str, scale: float) -> float:
    """k of the density p(x) p(y|x)^k a method's samples are held against: its tilt, or p(x|y) (k = 1) without one."""
    m = get(method)
    return 1.0 if m.tilt is None else m.exponent(scale)


def check_options(method: str, options) -> tuple:
    """A method's options as a sorted tuple of ``(name, value)`` pairs, each checked against its range."""
    m = get(method)
    if not options:
        return ()
    items = options.items() if isinstance(options, dict) else options
    try:
        pairs = [(str(k), v) for k, v in items]
    except (TypeError, ValueError):
        raise InputError(f"options must be name=value pairs, got {options!r}") from None
    if len({k for k, _ in pairs}) != len(pairs):
        raise InputError(f"an option is given twice: {', '.join(k for k, _ in pairs)}")
    return tuple(sorted((k, m.param(k).check(m.name, v)) for k, v in pairs))


def parse_options(texts) -> dict:
    """``["eta=0", "r=15"]`` (the CLIs' repeated ``--param NAME=VALUE``) -> ``{"eta": "0", "r": "15"}``."""
    out = {}
    for text in texts or ():
        name, sep, value = str(text).partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"--param must be NAME=VALUE, got {text!r}")
        out[name.strip()] = value.strip()
    return out
