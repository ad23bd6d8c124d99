"""What the pages need to know about a method, read from the registry (:mod:`cgd.methods`), the one place it is defined."""

from __future__ import annotations

from cgd import methods as _registry

__all__ = ["equation", "zero_means", "label", "short", "has_tilt", "guided", "takes_label", "needs", "mean_shift",
           "anchor", "axis_exponent", "default_sampler", "SAMPLER_NAMES", "SAMPLER_HELP", "samplers",
           "unconditional_at_zero", "tilt_text", "menu", "opens_on", "cg_on", "contrasts"]

menu = _registry.menu  # the methods a page's menu offers
opens_on = _registry.opens_on  # the one it opens on
cg_on = _registry.cg_on  # classifier guidance of the unconditional model as a sampler ("ddpm", "ddim") runs it
contrasts = _registry.contrasts  # (against, method) pairs set side by side at the same scale


def equation(name: str) -> tuple:
    """``(LaTeX, words)``: the method's equation and what runs."""
    m = _registry.get(name)
    return m.equation, m.about


def zero_means(name: str) -> str:
    """What scale 0 is, in words ("the unconditional model (DDPM)")."""
    return _registry.get(name).zero_means


def label(name: str) -> str:
    """The method's name in menus and legends ("CG-DDPM (mean shift sΣg)")."""
    return _registry.get(name).label


def short(name: str) -> str:
    """The method's name in titles ("CG-DDPM")."""
    return _registry.get(name).short


def has_tilt(name: str) -> bool:
    """Whether its guided score is that of p_t(x) p_t(y|x)^k for some k (autoguidance, APG, CFG++, CFG-Zero*: no)."""
    return _registry.get(name).tilt is not None


def guided(name: str) -> bool:
    """Whether it has a scale (every method but the unconditional and the conditional model)."""
    return _registry.get(name).guided


def takes_label(name: str) -> bool:
    """Whether a class is asked of it (every method but the unconditional model)."""
    m = _registry.get(name)
    return m.guided or m.needs_label


def needs(name: str, what: str) -> bool:
    """Whether it needs a network beyond the U-Net: "classifier" or "weak"."""
    return what in _registry.get(name).needs


def mean_shift(name: str) -> bool:
    """Whether it guides by moving the DDPM step's mean by s Σ g (CG-DDPM, conditional + CG), not through ε."""
    return _registry.get(name).mean_shift


def anchor(name: str) -> str | None:
    """The unguided method its scale 0 is ("uncond", "cond"); None: scale 0 is no unguided model."""
    return _registry.get(name).anchor


def axis_exponent(name: str, scale: float) -> float:
    """Where the charts' common k axis puts it at a scale: its tilt exponent k, or for autoguidance, which has
    none, CFG's k = 1 + w of the same w."""
    return _registry.get(name).axis_exponent(scale)


def default_sampler(name: str) -> str:
    return _registry.get(name).default_sampler


SAMPLER_NAMES = {"ddpm": "DDPM", "ddim": "DDIM", "dpmpp-2m": "DPM-Solver++(2M)"}


SAMPLER_HELP = ("DPM-Solver++(2M) (Lu et al. 2022) solves the same guided probability-flow ODE as DDIM to second "
                "order, in its data-prediction form (x̂₀ clipped on images). On the exact 2D mixture (preset "
                "overlapping, class 0; `python bench/solvers_2d.py`) it lands 0.017 from the 1000-step solution at "
                "s = 1 and 20 steps, DDIM 0.104; at s = 8 and 10 steps it lands 0.31 away, DDIM 0.20: the second "
                "order pays at small scales and can lose at large ones.")


def samplers(name: str) -> tuple:
    """The samplers the method runs on, its default first."""
    m = _registry.get(name)
    return (m.default_sampler,) + tuple(s for s in m.samplers if s != m.default_sampler)


def unconditional_at_zero(name: str) -> bool:
    """Whether scale 0 is the unconditional model, so that guidance alone decides the class."""
    anchor = _registry.get(name).anchor
    return anchor is not None and not takes_label(anchor)


def tilt_text(name: str) -> str:
    """k as a formula of the knob: "s", "1 + s", "1 + w"."""
    return _registry.get(name).tilt_text
