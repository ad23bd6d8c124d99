"""Cached figures of the scale explorer (1D, exact; shared by every session)."""

from __future__ import annotations

import numpy as np

from cgd.toy.sampling import default_schedule
from cgd.toy.scale1d import density_sd, power_of_gaussian, sharpen, taylor_check, tempered_conditional
from ui import figures
from ui.shared import shared_cache

XS = np.linspace(-4, 4, 801)


@shared_cache(64)
def sharpen_fig(s: float):
    curves = sharpen(XS, 1, [0.0, 1.0, s])
    # the tilted curve first, p(x|y) dashed over it: at s = 1 the two coincide and both stay visible
    return figures.lines_figure(
        XS, {"p(x)  (s = 0)": curves[0.0][1], f"p(x) p(y=1|x)^{s:g}": curves[s][1],
             "p(x | y=1)  (s = 1)": curves[1.0][1]},
        xtitle="x", ytitle="density", dash={"p(x)  (s = 0)": "dot", "p(x | y=1)  (s = 1)": "dash"},
        colors={"p(x)  (s = 0)": figures.GREY, "p(x | y=1)  (s = 1)": figures.COND_DENSITY,
                f"p(x) p(y=1|x)^{s:g}": figures.TILTED_DENSITY})


@shared_cache(64)
def powers_fig(powers: tuple):
    return figures.lines_figure(XS, {f"N(0,1)^{p:g} ∝ N(0, {1 / p:.3g})": power_of_gaussian(XS, p) for p in powers},
                                xtitle="x", ytitle="density")


@shared_cache(64)
def temperature(s: float) -> tuple:
    """``(figure, sd of p(x|y), sd of the tilted density, sd of p(x|y) at temperature 1/s)``."""
    cond = sharpen(XS, 1, [1.0])[1.0][1]
    tilted = sharpen(XS, 1, [s])[s][1]
    cold = tempered_conditional(XS, 1, s)
    sds = density_sd(XS, cond), density_sd(XS, tilted), density_sd(XS, cold)
    names = (f"p(x | y=1), sd {sds[0]:.2f}", f"guidance: p(x) p(y=1|x)^{s:g}, sd {sds[1]:.2f}",
             f"temperature 1/{s:g}: p(x | y=1)^{s:g}, sd {sds[2]:.2f}")
    fig = figures.lines_figure(XS, dict(zip(names, (cond, tilted, cold))), xtitle="x", ytitle="density",
                               dash={names[2]: "dash"},
                               colors={names[0]: figures.COND_DENSITY, names[1]: figures.TILTED_DENSITY,
                                       names[2]: figures.BLACK})
    return (fig, *sds)


@shared_cache(64)
def half_widths(s: float) -> tuple:
    """``(near, far)``: the half-width at half height of p(x) p(y=1|x)^s on the side of its mode that faces the
    other class (x below the mode) and on the far side (above it), read off a grid of 0.0001 with the crossings
    interpolated linearly."""
    xs = np.linspace(-4, 4, 80001)
    d = sharpen(xs, 1, [s])[s][1]
    k = int(np.argmax(d))
    half = d[k] / 2
    lo = int(np.nonzero(d[:k] < half)[0].max())  # d[lo] < half <= d[lo + 1]
    hi = k + int(np.nonzero(d[k:] < half)[0].min())  # d[hi - 1] >= half > d[hi]
    x_lo = np.interp(half, [d[lo], d[lo + 1]], [xs[lo], xs[lo + 1]])
    x_hi = np.interp(half, [d[hi], d[hi - 1]], [xs[hi], xs[hi - 1]])
    return float(xs[k] - x_lo), float(x_hi - xs[k])


@shared_cache(64)
def taylor(x_from: float, scale: float, steps: int) -> tuple:
    """The Gaussian-shift check at five steps of the grid: ``((step, figure), ...)``."""
    idx = sorted({0, steps // 4, steps // 2, (3 * steps) // 4, steps - 2})
    rows = taylor_check(x_from, 1, scale, default_schedule(), steps, idx)
    return tuple((r, figures.lines_figure(r.xs, {"exact": r.exact, "Gaussian shift": r.approx}, xtitle="x_t",
                                           ytitle="density", height=300, dash={"Gaussian shift": "dash"},
                                           colors={"exact": figures.BLACK, "Gaussian shift": figures.RED},
                                           title=f"t = {r.t} → {r.t_next}", legend=False))
                 for r in rows)
