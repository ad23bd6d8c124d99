"""The 2D page's "Guidance zoo": every guided method of the registry on the exact oracle, at one matched setting.

The numbers come from :func:`cgd.toy.zoo.guidance_zoo` (cached, shared by every session); the figure, the table and
the "what to notice" are built here from the run shown, and from nothing else.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cgd import methods as registry
from cgd.toy.zoo import Zoo, guidance_zoo
from ui import figures
from ui.shared import shared_cache
from ui.toy import SCHEDULE, mixture_of

__all__ = ["STEPS", "N", "K0", "compute", "figure", "table", "notice", "section"]

# The zoo's own settings (the sidebar's steps and samples do not apply): ten methods, each swept over nine scales
# and run once more at its matched setting.
STEPS, N, K0 = 50, 500, 3.0
DASH = {"constant": "solid", "linear": "dash", "cosine": "dot"}
SYMBOL = {"constant": "circle", "linear": "square", "cosine": "diamond"}


@shared_cache(16)
def compute(mixture_json: str, label: int, seed: int) -> Zoo:
    """The zoo of a mixture and class at the zoo's settings (one object for every session)."""
    return guidance_zoo(mixture_of(mixture_json), label, k0=K0, steps=STEPS, n=N, seed=seed, schedule=SCHEDULE)


def _style(key: str) -> tuple:
    method, _, kind = key.partition("/")
    kind = kind or "constant"
    return figures.METHOD_COLORS.get(method, figures.BLACK), DASH[kind], SYMBOL[kind]


def figure(zoo: Zoo) -> go.Figure:
    """Left: each method's sweep, share of class y against spread, over the exact tilted family (black, dashed).
    Right: at the matched setting, spread against the energy distance to p(x)·p(y|x)^k0 (log), the exact density
    itself at its noise floor (black star)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("Sweeps over the scales", "At the matched setting"))
    exact = next(c for c in zoo.curves if c.key == "exact")
    fig.add_trace(go.Scatter(x=list(exact.share_y), y=list(exact.spread), mode="lines+markers", name=exact.label,
                             line=dict(color=figures.BLACK, dash="dash", width=2), marker=dict(size=5),
                             legendgroup="exact", hovertext=[f"k = {k:g}" for k in exact.scales],
                             hoverinfo="text+x+y"), row=1, col=1)
    for c in zoo.curves:
        if c.key == "exact":
            continue
        color, dash, _ = _style(c.key)
        fig.add_trace(go.Scatter(x=list(c.share_y), y=list(c.spread), mode="lines", name=c.label, showlegend=False,
                                 line=dict(color=color, dash=dash, width=2), legendgroup=c.key,
                                 hovertext=[f"{c.label}, {registry.get(c.key.split('/')[0]).knob} = {s:g}"
                                            for s in c.scales], hoverinfo="text+x+y"), row=1, col=1)
    for r in zoo.rows:
        color, _, symbol = _style(r.key)
        common = dict(mode="markers", legendgroup=r.key, hovertext=[f"{r.label}, {r.knob} = {r.scale:.3g}"],
                      hoverinfo="text+x+y", marker=dict(size=12, color=color, symbol=symbol,
                                                        line=dict(color=figures.BLACK, width=1)))
        fig.add_trace(go.Scatter(x=[r.share_y], y=[r.spread], name=r.label, showlegend=True, **common), row=1, col=1)
        fig.add_trace(go.Scatter(x=[r.spread], y=[r.to_tilted], name=r.label, showlegend=False, **common),
                      row=1, col=2)
    fig.add_trace(go.Scatter(x=[zoo.exact_spread], y=[zoo.noise_floor], mode="markers", name="exact, at its noise floor",
                             marker=dict(size=16, symbol="star", color=figures.BLACK), legendgroup="exact"),
                  row=1, col=2)
    lay = figures.layout(height=600, right=80)  # the right panel's axis on its right side, clear of the left panel
    lay.pop("xaxis"), lay.pop("yaxis")
    # the panel titles above plotly's tool bar; the legend under the x axes' titles, so both panels keep their width
    lay["margin"] = {**lay["margin"], "t": 80, "b": 40}
    lay["legend"] = {**figures.LEGEND_BELOW, "y": -0.16}
    fig.update_layout(**lay)
    fig.update_annotations(font=dict(size=15, color=figures.BLACK), yshift=12)
    axis = dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#444", mirror=True)
    low = min(min(c.share_y) for c in zoo.curves)
    fig.update_xaxes(title_text="share of class y (Bayes class)", row=1, col=1, range=[low - 0.02, 1.01], **axis)
    fig.update_yaxes(title_text="spread (sd of the samples)", row=1, col=1, **axis)
    fig.update_xaxes(title_text="spread (sd of the samples)", row=1, col=2, **axis)
    fig.update_yaxes(title_text=f"D² to p(x)·p(y|x)^{zoo.k0:g} (log)", type="log", row=1, col=2, dtick="D2", side="right",
                     tickformat=".2~g", **axis)
    return fig


def table(zoo: Zoo) -> list:
    """One row per method at its matched setting, for ``st.dataframe``."""
    rows = []
    for r in zoo.rows:
        how = f"k = {zoo.k0:g}" if r.matched_by == "k" else ("share" if r.reached else "largest share (not reached)")
        rows.append({"method": r.label, "set by": how, "scale": f"{r.knob} = {r.scale:.3g}", "sampler": r.sampler,
                     "share of y": round(r.share_y, 3), "spread": round(r.spread, 3),
                     "D² to p(x|y)": float(f"{r.to_conditional:.3g}"),
                     f"D² to p(x)·p(y|x)^{zoo.k0:g}": float(f"{r.to_tilted:.3g}"),
                     "× noise floor": round(r.to_tilted / zoo.noise_floor, 1)})
    return rows


def notice(zoo: Zoo) -> list:
    """The "what to notice" sentences, each computed from this run."""
    rows = list(zoo.rows)
    best = min(rows, key=lambda r: r.to_tilted)
    worst = max(rows, key=lambda r: r.to_tilted)
    narrow = min(rows, key=lambda r: r.spread)
    wide = max(rows, key=lambda r: r.spread)
    out = [f"Every method is set to $k = {zoo.k0:g}$ where it has a tilt exponent, the others to the class share of "
           f"the exact $p(x)\\,p(y\\mid x)^{{{zoo.k0:g}}}$, {zoo.target_share:.1%}; that density's spread is "
           f"{zoo.exact_spread:.2f}.",
           f"Closest to $p(x)\\,p(y\\mid x)^{{{zoo.k0:g}}}$: {best.label} ($D^2 = {best.to_tilted:.2g}$, "
           f"{best.to_tilted / zoo.noise_floor:.1f}× the noise floor of two exact sets); farthest: {worst.label} "
           f"($D^2 = {worst.to_tilted:.2g}$, {worst.to_tilted / zoo.noise_floor:.0f}×).",
           f"Narrowest: {narrow.label} (spread {narrow.spread:.2f}); widest: {wide.label} ({wide.spread:.2f})."]
    by_share = [r for r in rows if r.matched_by == "share" and r.reached]
    if by_share:
        below = [r for r in by_share if r.spread < zoo.exact_spread]
        out.append(f"Of the {len(by_share)} methods set by the share, {len(below)} are narrower than the exact "
                   f"density with that share" + (f" ({', '.join(r.label for r in below)})." if below else "."))
    over = [r for r in rows if r.matched_by == "k" and r.share_y > zoo.target_share]
    if over:
        out.append(f"At $k = {zoo.k0:g}$, {len(over)} of the {sum(r.matched_by == 'k' for r in rows)} methods with a "
                   f"tilt exponent put more of their samples in class y than the exact density does "
                   f"({', '.join(f'{r.label} {r.share_y:.1%}' for r in over)}).")
    missed = [r for r in rows if not r.reached]
    for r in missed:
        out.append(f"{r.label} does not reach that share on its sweep: at most {r.share_y:.1%} ({r.knob} = "
                   f"{r.scale:g}).")
    return out


def section(mixture_json: str, label: int, seed: int) -> None:
    """The zoo section of the 2D page: a toggle, then the figure, the table and what to notice."""
    import streamlit as st

    from ui.common import answer_errors

    st.markdown(f"Every guided method, on the exact models of this mixture, class y = {label}, at one matched "
                f"setting: {STEPS} steps, {N} samples, seed {seed}. Each is swept over its own scale; the black "
                f"dashed curve is the exact $p(x)\\,p(y\\mid x)^k$ for $k$ from 0 to 10.")
    if not st.toggle(f"Run the guidance zoo ({STEPS} steps, {N} samples; computed once per mixture, class and seed, "
                     "and the first time takes about a minute)", value=False, key="show_zoo"):
        return
    with answer_errors(), st.spinner("Sweeping every method…"):
        zoo = compute(mixture_json, label, seed)
    st.plotly_chart(figure(zoo), key="zoo_fig")
    st.dataframe(table(zoo), hide_index=True)
    st.markdown("**What to notice.** " + " ".join(notice(zoo)))
    with st.expander("The methods"):
        for m in registry.REGISTRY:
            if m.guided:
                st.markdown(f"**{m.short}** ({m.citation}). {m.about}")
                st.latex(m.equation)
