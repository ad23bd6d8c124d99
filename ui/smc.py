"""The 2D page's answer to "how could we ever sample p(x) p(y|x)^k?": five samplers side by side (cached).

:func:`cgd.toy.oracle.compare_tilted` runs the guided sampler, the same with Langevin corrector steps, SMC with
exact and with Feynman-Kac weights, and rejection sampling at one k; the figures here draw what it returns.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cgd.palette import SAMPLER_COLORS
from cgd.toy.oracle import compare_tilted
from ui.figures import BLACK, GREY, TILTED_DENSITY, _contour, _panels, _tilt_name, _xy, layout
from ui.shared import shared_cache
from ui.toy import SCHEDULE, densities, mixture_of

__all__ = ["STEPS", "N", "comparison", "samples_fig", "trace_fig", "table", "summary"]

# the section's own settings (its numbers are computed at these, whatever the sidebar says)
STEPS, N = 100, 1000
# rejection sampling gives up beyond this many draws of p(x) on the page (the CLI allows 50 million)
PAGE_PROPOSALS = 2_000_000


# SMC's two paths (cgd.toy.smc.PATHS), as the section's choice names them
PATH_NAMES = {"tempered": "tempered: k reached at the data", "guided": "guided: k at every noise level"}


@shared_cache(16)
def comparison(mixture_json: str, label: int, k: float, seed: int, path: str = "tempered"):
    """:func:`cgd.toy.oracle.compare_tilted` at the section's settings (exact models), SMC on ``path``."""
    return compare_tilted(mixture_of(mixture_json), int(label), float(k), steps=STEPS, n=N, seed=int(seed),
                          schedule=SCHEDULE, max_proposals=PAGE_PROPOSALS, smc_path=path)


SHORT = {"sampler": "guided sampler", "corrector": "+ Langevin corrector", "smc-exact": "SMC, exact weights",
         "smc-fk": "SMC, Feynman–Kac", "rejection": "rejection (exact)"}


# panel titles in two short lines: five panels side by side stay legible at 150% browser zoom
TITLES = {"sampler": "guided<br>sampler", "corrector": "+ Langevin<br>corrector", "smc-exact": "SMC,<br>exact weights",
          "smc-fk": "SMC,<br>Feynman–Kac", "rejection": "rejection<br>(exact)"}


def _box(dens) -> tuple:
    """A square around where the tilted density has mass (the plotting box of the whole page is wider)."""
    xs, z = dens.xs, dens.tilted
    rows, cols = np.nonzero(z > z.max() * 1e-4)
    lo = float(min(xs[rows.min()], xs[cols.min()])) - 0.5
    hi = float(max(xs[rows.max()], xs[cols.max()])) + 0.5
    return lo, hi


@shared_cache(16)
def samples_fig(mixture_json: str, label: int, k: float, seed: int, path: str = "tempered") -> go.Figure:
    """One square panel per sampler, side by side: its samples (the sampler's colour) over the exact tilted
    density (red, dashed)."""
    comp = comparison(mixture_json, label, k, seed, path)
    dens = densities(mixture_json, int(label), float(k))
    lo, hi = _box(dens)
    count, gap = len(comp.rows), 0.04
    width = (1.0 - gap * (count - 1)) / count
    lay = layout(height=350, legend=dict(orientation="h", x=0, xanchor="left", y=-0.25, yanchor="top"),
                 margin=dict(l=50, r=10, t=55, b=40))
    data, notes = [], []
    for j, row in enumerate(comp.rows):
        sx = "" if j == 0 else str(j + 1)
        x0 = j * (width + gap)
        lay[f"xaxis{sx}"] = dict(domain=[x0, x0 + width], range=[lo, hi], anchor=f"y{sx}", title=dict(text="x₁"),
                                 showgrid=True, gridcolor="#e5e5e5", linecolor="#444", mirror=True, zeroline=False,
                                 constrain="domain")
        lay[f"yaxis{sx}"] = dict(range=[lo, hi], anchor=f"x{sx}", scaleanchor=f"x{sx}", scaleratio=1,
                                 title=dict(text="x₂" if j == 0 else ""), showticklabels=j == 0, showgrid=True,
                                 gridcolor="#e5e5e5", linecolor="#444", mirror=True, zeroline=False, constrain="domain")
        contour = _contour(dens.xs, dens.tilted, TILTED_DENSITY, f"exact {_tilt_name(int(label), float(k))}",
                           dash="dash")
        contour.update(xaxis=f"x{sx}", yaxis=f"y{sx}", showlegend=j == 0, legendgroup="tilted")
        data.append(contour)
        color = SAMPLER_COLORS.get(row.key, BLACK)
        data.append(go.Scatter(**_xy(row.samples.numpy()), mode="markers", name=SHORT.get(row.key, row.name),
                               xaxis=f"x{sx}", yaxis=f"y{sx}", showlegend=False,
                               marker=dict(size=3, color=color, opacity=0.5)))
        # anchored to the panel's own (square-constrained) box, so the name stays on top of its panel
        notes.append(dict(text=f"<b>{TITLES.get(row.key, row.name)}</b>", x=0.5, xref=f"x{sx} domain",
                          xanchor="center", y=1.0, yref=f"y{sx} domain", yanchor="bottom", yshift=6, showarrow=False,
                          font=dict(size=12, color=color)))
    lay["annotations"] = notes
    return go.Figure(data=data, layout=lay)


@shared_cache(16)
def trace_fig(mixture_json: str, label: int, k: float, seed: int, path: str = "tempered") -> go.Figure:
    """ESS and surviving ancestors over the steps, for SMC with exact and with Feynman-Kac weights."""
    comp = comparison(mixture_json, label, k, seed, path)
    data = []
    for row in comp.rows:
        if not row.ess:
            continue
        color = SAMPLER_COLORS[row.key]
        steps = np.arange(len(row.ess))
        data.append(go.Scatter(x=steps, y=np.asarray(row.ess), mode="lines", name=row.name, legendgroup=row.key,
                               line=dict(color=color, width=2.5)))
        data.append(go.Scatter(x=steps, y=np.asarray(row.ancestors) / comp.n, mode="lines", name=row.name,
                               legendgroup=row.key, showlegend=False, line=dict(color=color, width=2.5),
                               xaxis="x2", yaxis="y2"))
    last = max(len(r.ess) for r in comp.rows) - 1  # the diffusion's steps, then any tempering steps
    data.append(go.Scatter(x=[0, last], y=[0.5, 0.5], mode="lines", name="resampling threshold (ESS = n/2)",
                           line=dict(color=GREY, dash="dot", width=2)))
    tempering = max(r.temper_levels for r in comp.rows)
    lay = _panels(2, ["ESS / n", "ancestors left / n"],
                  f"step (of {comp.steps}; the last reaches the data)" if not tempering else
                  f"step ({comp.steps} + {tempering} at the data)")
    lay["yaxis"].update(range=[0, 1.05], tickformat=".0%")
    lay["yaxis2"].update(range=[0, 1.05], tickformat=".0%")
    # the legend under the panels: beside them it took 290 px, which at 150% zoom left the panels 80 px wide
    lay["legend"] = dict(orientation="h", x=0, xanchor="left", y=-0.3, yanchor="top")
    lay["margin"] = dict(l=60, r=20, t=30, b=110)
    lay["height"] = 400
    return go.Figure(data=data, layout=lay)


def table(mixture_json: str, label: int, k: float, seed: int, path: str = "tempered") -> dict:
    """The section's table: one column per measurement, one row per sampler."""
    comp = comparison(mixture_json, label, k, seed, path)
    out = {"sampler": [SHORT.get(r.key, r.name) for r in comp.rows],
           "D² to exact": [f"{r.to_tilted:.2g}" for r in comp.rows],
           "÷ expected floor": [f"{r.to_tilted / comp.floor_expected:.1f}×" for r in comp.rows]}
    if comp.far_exact is not None:
        out[f"far share (exact {comp.far_exact:.1%})"] = [f"{r.far_share:.1%}" for r in comp.rows]
    out["evaluations / sample"] = [f"{r.evals_per_sample:.0f}" + (" *" if r.key == "rejection" else "")
                                   for r in comp.rows]
    out["resamplings"] = [str(r.resamples) if r.ess else "–" for r in comp.rows]
    out["ancestors left"] = [f"{r.ancestors[-1] / comp.n:.0%}" if r.ess else "–" for r in comp.rows]
    out["acceptance"] = [f"{r.acceptance:.0%}" if r.acceptance is not None else "–" for r in comp.rows]
    return out


def summary(mixture_json: str, label: int, k: float, seed: int, path: str = "tempered") -> str:
    """The section's caption: every number in it computed from the run it describes."""
    comp = comparison(mixture_json, label, k, seed, path)
    rows = {r.key: r for r in comp.rows}
    ratio = {key: r.to_tilted / comp.floor_expected for key, r in rows.items()}
    rej = rows["rejection"]
    tempering = max(r.temper_levels for r in comp.rows)
    start = "p(x|y), k = 1" if comp.k >= 1 else "p(x), k = 0"
    which = (f"SMC on the tempered path: the diffusion of {start} (one diffusion's marginals: flat Feynman–Kac "
            f"weights), then k reached at the data in {tempering} tempering step{'s' if tempering != 1 else ''} "
            f"(weights p(y|x)^Δk, MALA moves). " if comp.smc_path == "tempered" and tempering else
            "SMC on the guided path: the tilted densities p_t(x)·p_t(y|x)^k at every noise level. "
            if comp.smc_path == "guided" else f"SMC: the diffusion of {start}, no tempering needed. ")
    text = which + (f"**Here** (k = {comp.k:g}, n = {comp.n}, {comp.steps} steps, seed {comp.seed}): $D^2$ to exact samples "
            f"of the tilted density, as a multiple of its expectation for exact samples ({comp.floor_expected:.2g}): "
            f"guided sampler {ratio['sampler']:.1f}×, with the corrector {ratio['corrector']:.1f}×, SMC with exact "
            f"weights {ratio['smc-exact']:.1f}×, with Feynman–Kac weights {ratio['smc-fk']:.1f}×, rejection "
            f"{ratio['rejection']:.1f}× (rejection's samples are exact: its number is what a perfect sampler scores "
            f"against this one reference set; one pair of exact sets gave {comp.noise_floor / comp.floor_expected:.1f}×).")
    if comp.far_exact is not None:
        text += (f" Share in the far component: exact {comp.far_exact:.1%}; guided sampler "
                 f"{rows['sampler'].far_share:.1%}, SMC {rows['smc-exact'].far_share:.1%} (exact weights) and "
                 f"{rows['smc-fk'].far_share:.1%} (Feynman–Kac), rejection {rej.far_share:.1%}.")
    text += (f" Rejection kept {rej.acceptance:.1%} of its draws of p(x) (exact rate $Z_k$ = "
             f"{comp.rejection_rate_exact:.1%}). * Draws of p(x) per kept sample × {comp.steps} steps: what the "
             f"proposals would cost if p(x) were drawn by the same sampler (here they are drawn exactly). Evaluations: "
             f"guided-score evaluations (an ε-network and a classifier gradient, or two ε passes for CFG); SMC's MALA "
             f"moves count theirs, Feynman–Kac's line integrals two more per move.")
    return text
