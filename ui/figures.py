"""Plotly figures for the pages: arrays in, ``go.Figure`` out, in one style.

The style, in one place (every page's figures go through :func:`layout`):

* legends sit outside the plotting area, to the right of it (never over data or titles);
* every axis in use has a title;
* one colour per method on every page (:data:`METHOD_COLORS`); the 2D densities keep their own
  two colours (p(x|y) blue, the tilted density red, dashed), which no method uses;
* SVG traces only, no WebGL: the 2D page shows a dozen scatter plots, more than the WebGL contexts a
  browser keeps alive (Chromium drops the oldest, and that plot goes blank).
"""

from __future__ import annotations

import base64
from typing import Optional

import numpy as np
import plotly.graph_objects as go

from cgd.methods import cg_on
# one colour per method, the same on every page and in the docs' figures
from cgd.palette import METHOD_COLORS, METHOD_LABELS

__all__ = ["METHOD_COLORS", "METHOD_LABELS", "layout", "samples_figure", "step_figure", "trajectory_figure",
           "sweep_figure", "lines_figure", "method_lines_figure", "method_points_figure", "method_key_html", "sampler_figure", "compare_figure", "corrector_figure", "atlas_judge_figure", "arrow_gain",
           "MAX_ARROW_GAIN"]

BLUE, RED, GREY, BLACK = "#1f77b4", "#d62728", "#7f7f7f", "#222222"
COND_DENSITY, TILTED_DENSITY = BLUE, RED

# a few extra colours for curves that are not methods (loss curves, powers, ...)
SERIES = ["#1f77b4", "#d62728", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2"]

LEGEND = dict(x=1.02, xanchor="left", y=1.0, yanchor="top", bgcolor="rgba(255,255,255,0)",
              font=dict(size=12))
# square plots of the plane keep their width: the legend goes under the x axis title instead
LEGEND_BELOW = dict(orientation="h", x=0, xanchor="left", y=-0.12, yanchor="top", bgcolor="rgba(255,255,255,0)",
                    font=dict(size=12))
FONT = dict(size=14)
# A heat map's colour bar under its square plot (the plot sits at the bottom of its area, the legend goes under
# the bar): in a narrow column (two columns at 150% zoom) a bar beside the plot, with its title, took a third of
# the width from the plot. COLORBAR_RIGHT: beside it, where the figure is wide (the Lesson's projector).
COLORBAR_BELOW = dict(orientation="h", len=0.9, x=0.5, xanchor="center", y=-0.2, yanchor="top", thickness=10)
COLORBAR_RIGHT = dict(orientation="v", len=0.8, x=1.02, xanchor="left", y=0.5, yanchor="middle", thickness=14)


def layout(*, title: str = "", xtitle: str | None = None, ytitle: str | None = None, height: int = 360,
           show_legend: bool = True, right: int = 10, **extra) -> dict:
    """The one layout of every figure: title on top, axis titles, legend outside to the right."""
    out = dict(height=height, font=FONT, title=dict(text=title, x=0, xanchor="left", font=dict(size=15)),
               margin=dict(l=60, r=right, t=50 if title else 20, b=55), showlegend=show_legend,
               legend=LEGEND, plot_bgcolor="white",
               xaxis=dict(title=dict(text=xtitle or ""), showgrid=True, gridcolor="#e5e5e5", zeroline=False,
                          linecolor="#444", mirror=True),
               yaxis=dict(title=dict(text=ytitle or ""), showgrid=True, gridcolor="#e5e5e5", zeroline=False,
                          linecolor="#444", mirror=True))
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


def _f4(a) -> dict:
    """A float array as plotly's typed-array spec (float32, base64), encoded once.

    Plotly otherwise re-encodes every numpy array (as float64) each time a figure is serialised,
    i.e. on every rerun of a page that shows a cached figure; float32 halves the bytes sent.
    """
    a = np.ascontiguousarray(a, dtype="<f4")
    spec = {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim == 2:
        spec["shape"] = f"{a.shape[0]}, {a.shape[1]}"
    return spec


def _xy(points) -> dict:
    """``x=`` and ``y=`` of a trace from points ``[m, 2]``, each as a float32 typed array."""
    return dict(x=_f4(points[:, 0]), y=_f4(points[:, 1]))


def _square(lo: float, hi: float, *, title: str = "", height: int = 560, **extra) -> dict:
    """Layout of a square plot of the plane [lo, hi]^2 with the legend under it."""
    extra.setdefault("legend", LEGEND_BELOW)
    return layout(title=title, xtitle="x₁", ytitle="x₂", height=height,
                  xaxis=dict(range=[lo, hi], constrain="domain", **extra.pop("xaxis", {})),
                  yaxis=dict(range=[lo, hi], scaleanchor="x", scaleratio=1, constrain="domain",
                             **extra.pop("yaxis", {})), **extra)


def _contour(xs, z, color, name, dash="solid"):
    levels = np.quantile(z[z > z.max() * 1e-3], [0.5, 0.8, 0.95]) if (z > 0).any() else [0]
    axis = _f4(xs)
    return go.Contour(x=axis, y=axis, z=_f4(z), name=name, showscale=False, showlegend=True,
                      contours=dict(coloring="lines", start=float(levels[0]), end=float(levels[-1]),
                                    size=float(max((levels[-1] - levels[0]) / 2, 1e-12))),
                      line=dict(color=color, width=2, dash=dash), colorscale=[[0, color], [1, color]],
                      hoverinfo="skip")


def _tilt_name(label: int, exponent: float) -> str:
    """The tilted density's legend name; at k = 1 it says that it is p(x|y) (the two contours coincide)."""
    return f"k = 1: p(x|y={label})" if exponent == 1 else f"p(x) p(y={label}|x)^{exponent:g}"


def samples_figure(grid, samples: np.ndarray, *, label: int, exponent: float, method: str,
                   title: str = "", others: Optional[np.ndarray] = None) -> go.Figure:
    """Guided samples (the method's colour) over p(x|y) (blue) and the tilted p(x) p(y|x)^k (red, dashed).

    others: [M, 2] centres of the other classes' components, drawn as grey crosses (where "away from the
    other class" points).
    """
    xs = grid.xs
    data = [_contour(xs, grid.cond, COND_DENSITY, f"p(x | y={label})"),
            _contour(xs, grid.tilted, TILTED_DENSITY, _tilt_name(label, exponent), dash="dash"),
            go.Scatter(**_xy(samples), mode="markers", name=f"samples ({method})",
                       marker=dict(size=3, color=METHOD_COLORS.get(method, BLACK), opacity=0.5))]
    if others is not None and len(others):
        data.append(go.Scatter(**_xy(others), mode="markers", name="other classes' centres",
                               marker=dict(size=11, symbol="x-thin", color=GREY, line=dict(width=2, color=GREY))))
    return go.Figure(data=data, layout=_square(xs[0], xs[-1], title=title))


MAX_ARROW_GAIN = 20.0


def arrow_gain(shift: np.ndarray, box_width: float, target: float = 0.06) -> float:
    """A 1-2-5 factor that brings the median arrow up to about ``target`` of the box.

    1 when the arrows are already visible; never above :data:`MAX_ARROW_GAIN`, so noise-sized
    shifts are not blown up into a claim (the page then says the shift is negligible).
    """
    med = float(np.median(np.linalg.norm(shift, axis=1))) if len(shift) else 0.0
    if med <= 0:
        return 1.0
    gain = min(target * box_width / med, MAX_ARROW_GAIN)
    if gain <= 1.0:
        return 1.0
    k = np.floor(np.log10(gain))
    for m in (5.0, 2.0, 1.0):
        if m * 10**k <= gain:
            return float(m * 10**k)
    return float(10**k)


def step_view(snap, gain: float, lo: float, hi: float) -> tuple:
    """The box ``(lo, hi)`` grown (in steps of 0.5) to hold every point the step figure draws."""
    tips = snap.mu + gain * snap.shift
    pts = np.concatenate([snap.x_t, snap.mu, tips])
    if len(pts):
        lo = min(lo, float(np.floor(2 * (np.nanmin(pts) - 0.1)) / 2))
        hi = max(hi, float(np.ceil(2 * (np.nanmax(pts) + 0.1)) / 2))
    return lo, hi


def step_figure(xs, post, snap, *, label: int, gain: float = 1.0, title: str = "",
                shift_name: str = "guidance shift", arrows: int | None = None, classes=()) -> go.Figure:
    """One reverse step: heat map of p_t(y|x), the x_t cloud, unguided means mu and arrows mu -> mu + shift.

    ``xs`` spans the view (see :func:`step_view`), so every drawn point is inside it. ``arrows``: means and
    arrows of the first that many points only (the same points at every step), so they stay apart.
    ``classes``: ``[(xs, z, name, colour, dash), ...]`` contours drawn over it (e.g. each class's p(x|y)).
    """
    axis = _f4(xs)
    mu, shift = (snap.mu, snap.shift) if arrows is None else (snap.mu[:arrows], snap.shift[:arrows])
    tips = mu + gain * shift
    seg = np.full((3 * len(tips), 2), np.nan)
    seg[0::3], seg[1::3] = mu, tips
    sizes = np.zeros(3 * len(tips))
    sizes[1::3] = 9
    name = shift_name + (f" (drawn ×{gain:g})" if gain != 1 else "")
    drawn = [] if not np.any(shift) else [
        # SVG scatter: its 'arrow' markers turn along the segment (angleref='previous'), which WebGL cannot
        go.Scatter(**_xy(seg), mode="lines+markers", name=name, line=dict(color=RED, width=1.5),
                   marker=dict(symbol="arrow", size=_f4(sizes), angleref="previous", color=RED),
                   hoverinfo="skip")]
    contours = [_contour(cx, cz, color, cname, dash=dash) for cx, cz, cname, color, dash in classes]
    return go.Figure(data=[
        go.Heatmap(x=axis, y=axis, z=_f4(post), zmin=0, zmax=1, colorscale="Blues", opacity=0.6,
                   colorbar=dict(title=dict(text=f"p_t(y={label}|x)", side="top"), **COLORBAR_BELOW),
                   hoverinfo="skip"),
        go.Scatter(**_xy(snap.x_t), mode="markers", name="x_t", marker=dict(size=4, color=GREY, opacity=0.6)),
        *contours,
        go.Scatter(**_xy(mu), mode="markers", name="μ (unguided mean)", marker=dict(size=4, color=BLACK)),
        *drawn,
    ], layout=_square(float(xs[0]), float(xs[-1]), title=title, legend={**LEGEND_BELOW, "y": -0.42},
                      yaxis=dict(constraintoward="bottom")))


def trajectory_figure(path: np.ndarray, steps: list, lo: float, hi: float, *, grid=None, method: str = "",
                      frame_ms: int = 700, marginal: bool = False) -> go.Figure:
    """Animation of the points from noise (first frame) to samples (last), over the contour of p(x|y)
    (of p(x) with ``marginal``, for an unguided run).

    Every frame carries the contour too, so it stays on screen while the animation plays; ``frame_ms``
    per frame (0.7 s: 21 frames in about 15 s, slow enough to narrate). The slider under the plot
    steps through the frames one at a time.
    """
    color = METHOD_COLORS.get(method, RED)

    def scatter(p):
        return go.Scatter(**_xy(p), mode="markers", marker=dict(size=5, color=color, opacity=0.7),
                          name="x_t (first 300 points)")

    names = [f"t={t}" for t in steps] + ["x_0"]
    base = [] if grid is None else [_contour(grid.xs, grid.marginal, GREY, "p(x)") if marginal
                                    else _contour(grid.xs, grid.cond, COND_DENSITY, "p(x | y)")]
    play = dict(frame=dict(duration=frame_ms, redraw=True), fromcurrent=True, transition=dict(duration=0))
    menu = dict(type="buttons", showactive=False, x=0, y=-0.2, xanchor="left", yanchor="top",
                buttons=[dict(label="▶ play", method="animate", args=[None, play]),
                         dict(label="❚❚ pause", method="animate",
                              args=[[None], dict(mode="immediate", frame=dict(duration=0))])])
    slider = dict(x=0.22, len=0.78, y=-0.2, yanchor="top", currentvalue=dict(prefix="shown: "),
                  steps=[dict(label=n, method="animate",
                              args=[[n], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
                         for n in names])
    return go.Figure(data=base + [scatter(path[0])],
                     frames=[go.Frame(data=base + [scatter(p)], name=n) for p, n in zip(path, names)],
                     layout=_square(lo, hi, updatemenus=[menu], sliders=[slider], height=680,
                                    margin=dict(b=170), legend={**LEGEND_BELOW, "y": -0.08}))


def sweep_figure(points, *, label: int, knob: str = "s", current: float | None = None,
                 method: str = "") -> go.Figure:
    """Share of samples of class y and their spread against the scale, in two stacked panels.

    Two panels (not two y axes over one) so neither curve hides the other; a dotted line marks
    the slider's current value.
    """
    s = [p.scale for p in points]
    color = METHOD_COLORS.get(method, BLACK)
    data = [
        go.Scatter(x=s, y=[p.share_y for p in points], mode="lines+markers", name=f"share of class y={label}",
                   line=dict(color=color), xaxis="x", yaxis="y"),
        go.Scatter(x=s, y=[p.spread for p in points], mode="lines+markers", name="spread (sd of the samples)",
                   line=dict(color=color, dash="dash"), marker=dict(symbol="square"), xaxis="x2", yaxis="y2"),
    ]
    lay = layout(height=420, xtitle=None, ytitle=f"share of y={label}",
                 xaxis=dict(domain=[0, 1], anchor="y", matches="x2", showticklabels=False),
                 yaxis=dict(domain=[0.55, 1.0], range=[0, 1.02], tickformat=".0%"),
                 xaxis2=dict(domain=[0, 1], anchor="y2", title=dict(text=f"guidance scale {knob}"),
                             showgrid=True, gridcolor="#e5e5e5", linecolor="#444", mirror=True),
                 yaxis2=dict(domain=[0, 0.45], rangemode="tozero", tickformat=".2f",
                             title=dict(text="spread (sd)"), showgrid=True, gridcolor="#e5e5e5",
                             linecolor="#444", mirror=True))
    if current is not None:
        lay["shapes"] = [dict(type="line", xref="x2", x0=current, x1=current, yref="paper", y0=0, y1=1,
                              line=dict(color=BLACK, width=1.5, dash="dot"))]
        lay["annotations"] = [dict(x=current, xref="x2", y=1.0, yref="paper", yanchor="bottom",
                                   text=f"{knob} = {current:g}", showarrow=False, font=dict(size=12))]
    return go.Figure(data=data, layout=lay)  # one layout dict: update_layout costs several times more


def atlas_judge_figure(one: dict, pooled: dict, *, method: str, class_name: str, knob: str,
                       current: float | None = None) -> go.Figure:
    """What the independent judge reads in the atlas's images, against the scale, in the method's colour.

    ``one``/``pooled``: :meth:`cgd.atlas.Atlas.judge_curve` of the asked class and of every class.
    Solid: share read as the asked class (p > 0.5); dashed: the judge's mean p(y | x_0); dotted: the
    share over every class's images. A dotted vertical line marks the slider's value.

    The x axis is the atlas grid's index with the scales as tick labels, one step per grid value as on the
    slider: the grids are dense where the judge's reading changes (small scales), which a linear axis of
    0-40 squeezes into its first tenth.
    """
    color = METHOD_COLORS.get(method, BLACK)
    scales = [float(v) for v in one["scale"]]
    pos = list(range(len(scales)))
    ticks = sorted(set(pos[::2]) | {pos[-1]})
    data = [
        go.Scatter(x=pos, y=one["share"], mode="lines+markers", name=f"share read as {class_name} "
                   f"({one['count']} images)", line=dict(color=color, width=2.5), marker=dict(size=7),
                   customdata=scales, hovertemplate=f"{knob} = %{{customdata:g}}: %{{y:.0%}}<extra></extra>"),
        go.Scatter(x=pos, y=one["mean_p"], mode="lines", name="mean judge p(y|x₀)",
                   line=dict(color=color, width=2, dash="dash"), customdata=scales,
                   hovertemplate=f"{knob} = %{{customdata:g}}: %{{y:.2f}}<extra></extra>"),
        go.Scatter(x=list(range(len(pooled["scale"]))), y=pooled["share"], mode="lines", name=f"share, every class "
                   f"({pooled['count']} images)", line=dict(color=GREY, width=2, dash="dot"), customdata=scales,
                   hovertemplate=f"{knob} = %{{customdata:g}}: %{{y:.0%}}<extra></extra>"),
    ]
    # the legend under the plot: beside images in a half-width column, a legend on the right would take
    # half of the plot's width
    lay = layout(title="What the judge sees", xtitle=f"guidance scale {knob} (the atlas's values, evenly spaced)",
                 ytitle="share / probability", height=420, right=10, yaxis=dict(range=[0, 1.04], tickformat=".0%"),
                 xaxis=dict(tickmode="array", tickvals=ticks, ticktext=[f"{scales[i]:g}" for i in ticks],
                            range=[-0.5, len(scales) - 0.5]),
                 legend={**LEGEND_BELOW, "y": -0.25}, margin=dict(l=60, r=10, t=50, b=130))
    if current is not None and float(current) in scales:
        at = scales.index(float(current))
        lay["shapes"] = [dict(type="line", x0=at, x1=at, yref="paper", y0=0, y1=1,
                              line=dict(color=BLACK, width=1.5, dash="dot"))]
        lay["annotations"] = [dict(x=at, y=1.0, yref="paper", yanchor="bottom", text=f"{knob} = {current:g}",
                                   showarrow=False, font=dict(size=13, color=BLACK), bgcolor="white")]
    return go.Figure(data=data, layout=lay)


def lines_figure(x, series: dict, *, xtitle: str, ytitle: str, title: str = "", height: int = 340,
                 log_y: bool = False, dash: dict | None = None, colors: dict | None = None,
                 legend: bool = True) -> go.Figure:
    """Several named curves over one x (a dict name -> y values), each in its own colour."""
    data = [go.Scatter(x=x, y=y, mode="lines", name=name,
                       line=dict(dash=(dash or {}).get(name, "solid"),
                                 color=(colors or {}).get(name, SERIES[k % len(SERIES)]), width=2.5))
            for k, (name, y) in enumerate(series.items())]
    lay = layout(title=title, xtitle=xtitle, ytitle=ytitle, height=height,
                 show_legend=legend and len(series) > 1)
    if log_y:
        # decades labelled 0.01, 0.1, 1 and the 2 and 5 between them: readable on a projector
        lay["yaxis"] = {**lay["yaxis"], "type": "log", "dtick": "D2", "tickformat": ".3~g"}
    return go.Figure(data=data, layout=lay)


def method_key_html(methods) -> str:
    """A one-line colour key of methods (HTML), for a row of charts that share it instead of a legend each."""
    return " &nbsp; ".join(f'<span style="color:{METHOD_COLORS.get(m, BLACK)};font-size:1.6em">━</span> '
                           f'{METHOD_LABELS.get(m, m)}' for m in methods)


def method_lines_figure(series: dict, *, xtitle: str, ytitle: str, title: str = "", height: int = 320,
                        log_y: bool = False, legend: bool = True) -> go.Figure:
    """Curves keyed by method name (``{method: (x, y)}``), each in that method's colour."""
    data = [go.Scatter(x=x, y=y, mode="lines+markers", name=METHOD_LABELS.get(m, m),
                       line=dict(color=METHOD_COLORS.get(m, BLACK), width=2.5), marker=dict(size=7))
            for m, (x, y) in series.items()]
    lay = layout(title=title, xtitle=xtitle, ytitle=ytitle, height=height, show_legend=legend)
    if log_y:
        lay["yaxis"] = {**lay["yaxis"], "type": "log", "dtick": "D2", "tickformat": ".3~g"}
    return go.Figure(data=data, layout=lay)


# where a point's text label may sit, and the label's centre relative to the point (in label sizes)
_TEXT_SPOTS = {"top center": (0.0, 1.0), "bottom center": (0.0, -1.0), "middle right": (1.0, 0.0),
               "middle left": (-1.0, 0.0), "top right": (0.8, 0.8), "top left": (-0.8, 0.8),
               "bottom right": (0.8, -0.8), "bottom left": (-0.8, -0.8)}


def label_spots(series: list, obstacles: list, *, label_w: float = 0.06, label_h: float = 0.05) -> list:
    """A text position for every labelled point, away from the other points, the lines and the labels placed so far.

    ``series``: ``[(xs, ys), ...]`` of labelled curves; ``obstacles``: more ``(x, y)`` points to keep clear of.
    Coordinates are scaled to the span of everything drawn; ``label_w``/``label_h``: a label's size in that
    scale. Greedy: each label in turn takes the spot farthest from what is already there.
    """
    pts = [(float(x), float(y)) for xs, ys in series for x, y in zip(xs, ys)] + [tuple(map(float, o)) for o in obstacles]
    if not pts:
        return [[] for _ in series]
    xs_all, ys_all = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    x0, xw = xs_all.min(), max(np.ptp(xs_all), 1e-9)
    y0, yh = ys_all.min(), max(np.ptp(ys_all), 1e-9)

    def norm(x, y):
        return np.array([(x - x0) / xw, (y - y0) / yh])

    taken = [norm(*p) for p in pts]
    for xs, ys in series:  # the lines too: points along each segment
        for (xa, ya), (xb, yb) in zip(zip(xs, ys), list(zip(xs, ys))[1:]):
            taken += [norm(xa + f * (xb - xa), ya + f * (yb - ya)) for f in (0.25, 0.5, 0.75)]
    out = []
    for xs, ys in series:
        spots = []
        for x, y in zip(xs, ys):
            here = norm(x, y)
            best, best_d = "top center", -1.0
            for name, (dx, dy) in _TEXT_SPOTS.items():
                centre = here + np.array([dx * label_w, dy * label_h])
                others = [t for t in taken if np.abs(t - here).sum() > 1e-9]
                d = min((np.hypot(*((centre - t) / (label_w, label_h))) for t in others), default=9.0)
                if d > best_d:
                    best, best_d = name, d
            spots.append(best)
            taken.append(here + np.array(_TEXT_SPOTS[best]) * (label_w, label_h))
        out.append(spots)
    return out


def _clear_of_marks(xs, ys, labels, spots, marks, near: float = 0.03) -> list:
    """Labels of points that sit on a mark (a diamond drawn larger than the point) padded sideways, so the mark
    does not hide their first letters (``spots`` turned to the side in place)."""
    pts = [(float(mk["x"]), float(mk["y"])) for mk in marks]
    every = [(float(x), float(y)) for x, y in zip(xs, ys)] + pts
    if not pts or len(every) < 2:
        return list(labels)
    xw = max(max(p[0] for p in every) - min(p[0] for p in every), 1e-9)
    yh = max(max(p[1] for p in every) - min(p[1] for p in every), 1e-9)
    out = []
    for j, (x, y, lab) in enumerate(zip(xs, ys, labels)):
        on_mark = lab and any(abs(x - mx) / xw < near and abs(y - my) / yh < near for mx, my in pts)
        if on_mark:
            spots[j] = "middle left" if spots[j].endswith("left") else "middle right"
            lab = lab + " " if spots[j] == "middle left" else " " + lab
        out.append(lab)
    return out


def _short(title: str) -> str:
    """An axis title's first words, for hover text: "recall (diversity) →" -> "recall"."""
    return title.split("<br>")[0].split(" (")[0]


def method_points_figure(series: dict, *, xtitle: str, ytitle: str, title: str, height: int = 380,
                         marks: tuple = (), labelled: bool = True, legend: bool = True,
                         legend_below: bool = False) -> go.Figure:
    """Curves of points keyed by method, ``{method: (x, y, labels)}``, each in that method's colour.

    ``labelled``: each point carries its label as text (the precision-recall curve: "s=4", "w=0.5"); the
    labels are in the hover text either way. A point labelled "" has no marker of its own: it is one of the
    ``marks`` (a curve's unguided start, drawn once as a mark). ``marks``: single points drawn over the curves, each a dict
    ``x, y, name, method`` (its colour) and optionally ``symbol``, ``size``, ``text`` (the unguided models
    that the curves start from; a measurement made now).
    """
    data = []  # the single points first, so the curves' labels are drawn over them (legendrank keeps the order)
    for j, mark in enumerate(marks):
        color = METHOD_COLORS.get(mark.get("method"), BLACK)
        data.append(go.Scatter(
            x=[mark["x"]], y=[mark["y"]], mode="markers+text" if mark.get("text") else "markers",
            name=mark["name"], text=[mark.get("text", "")], textposition="middle right",
            textfont=dict(size=13, color=BLACK), cliponaxis=False, showlegend=mark.get("legend", True),
            legendgroup=mark.get("group"), legendrank=1000 + j, hovertext=mark.get("hover", mark["name"]),
            hoverinfo="text",
            marker=dict(symbol=mark.get("symbol", "diamond"), size=mark.get("size", 13), color=color,
                        line=dict(color=BLACK if "open" not in mark.get("symbol", "") else color, width=1.5))))
    spots = label_spots([(x, y) for x, y, _ in series.values()], [(mk["x"], mk["y"]) for mk in marks])
    series = {m: (x, y, _clear_of_marks(x, y, labels, spots[k], marks)) for k, (m, (x, y, labels))
              in enumerate(series.items())}
    for k, (m, (x, y, labels)) in enumerate(series.items()):
        color = METHOD_COLORS.get(m, BLACK)
        data.append(go.Scatter(
            x=list(x), y=list(y), mode="lines+markers+text" if labelled else "lines+markers",
            name=METHOD_LABELS.get(m, m), text=list(labels), textposition=spots[k], legendrank=k,
            textfont=dict(size=12, color=color), line=dict(color=color, width=2.5),
            marker=dict(size=[8 if lab else 0 for lab in labels]),  # an unlabelled point: a mark's (drawn below)
            cliponaxis=False, hovertemplate="%{text}<br>" + _short(xtitle) + " %{x:.3g}<br>" + _short(ytitle)
            + " %{y:.3g}<extra>" + METHOD_LABELS.get(m, m) + "</extra>"))
    lay = layout(title=title, xtitle=xtitle, ytitle=ytitle, height=height, show_legend=legend)
    if "<br>" in xtitle:  # a two-line axis title
        lay["margin"] = {**lay["margin"], "b": 75}
    if legend_below:  # under the x axis's title, with room for three rows of entries
        lay["legend"] = {**LEGEND_BELOW, "y": -0.24}
        lay["margin"] = {**lay["margin"], "b": 185}
    return go.Figure(data=data, layout=lay)


def sampler_figure(points, *, label: int, far: int, current: float | None = None) -> go.Figure:
    """Share of class y's samples in its far component against s: DDPM, DDIM and the tilted density."""
    s = [p.scale for p in points]
    data = [go.Scatter(x=s, y=[p.far_ddpm for p in points], mode="lines+markers", name="CG-DDPM (reverse SDE)",
                       line=dict(color=METHOD_COLORS[cg_on("ddpm")], width=2.5)),
            go.Scatter(x=s, y=[p.far_ddim for p in points], mode="lines+markers", name="CG-DDIM, η=0 (ODE)",
                       line=dict(color=METHOD_COLORS[cg_on("ddim")], width=2.5)),
            go.Scatter(x=s, y=[p.far_tilted for p in points], mode="lines", name=_tilt_name(label, float("nan"))
                       .replace("^nan", "^s") + " (exact)", line=dict(color=TILTED_DENSITY, width=2, dash="dash"))]
    lay = layout(xtitle="guidance scale s", ytitle=f"share in component {far}", height=360,
                 yaxis=dict(range=[0, 1.02], tickformat=".0%"))
    if current is not None:
        lay["shapes"] = [dict(type="line", x0=current, x1=current, yref="paper", y0=0, y1=1,
                              line=dict(color=BLACK, width=1.5, dash="dot"))]
    return go.Figure(data=data, layout=lay)


def _panels(n: int, ytitles: list, xtitle: str, height: int = 340) -> dict:
    """Layout of ``n`` side-by-side panels sharing the legend on the right, each axis titled.

    The gap between panels leaves room for the next panel's y-axis title and tick labels.
    """
    gap = 0.16 if n > 2 else 0.14
    width = (1.0 - gap * (n - 1)) / n
    lay = layout(height=height)
    for k in range(n):
        suffix = "" if k == 0 else str(k + 1)
        lo = k * (width + gap)
        lay[f"xaxis{suffix}"] = dict(domain=[lo, lo + width], anchor=f"y{suffix}", title=dict(text=xtitle),
                                     showgrid=True, gridcolor="#e5e5e5", linecolor="#444", mirror=True)
        lay[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", title=dict(text=ytitles[k]), showgrid=True,
                                     gridcolor="#e5e5e5", linecolor="#444", mirror=True, rangemode="tozero")
    return lay


def compare_figure(points, *, label: int, knob: str = "w", current: float | None = None) -> go.Figure:
    """CFG against autoguidance (or any methods) over the scale: class share, spread, distance to p(x|y)."""
    far = any(p.far_share is not None for p in points)
    first = "share in the far component" if far else f"share of class y={label}"
    data = []
    for k, m in enumerate(dict.fromkeys(p.method for p in points)):
        pts = [p for p in points if p.method == m]
        s = [p.scale for p in pts]
        style = dict(color=METHOD_COLORS.get(m, BLACK), width=2.5)
        ys = ([p.far_share if far else p.share_y for p in pts], [p.spread for p in pts],
              [p.to_conditional for p in pts])
        for j, y in enumerate(ys):
            suffix = "" if j == 0 else str(j + 1)
            data.append(go.Scatter(x=s, y=y, mode="lines+markers", name=METHOD_LABELS.get(m, m), line=style,
                                   legendgroup=m, showlegend=j == 0, xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
    lay = _panels(3, [first, "spread (sd)", "D² to exact p(x|y)"], f"guidance scale {knob}")
    lay["yaxis"]["tickformat"] = ".0%"
    lay["yaxis2"]["tickformat"] = ".2f"
    if current is not None:
        lay["shapes"] = [dict(type="line", x0=current, x1=current, xref=f"x{'' if j == 0 else j + 1}", yref="paper",
                              y0=0, y1=1, line=dict(color=BLACK, width=1, dash="dot")) for j in range(3)]
    return go.Figure(data=data, layout=lay)


def corrector_figure(points, *, method: str) -> go.Figure:
    """Distance to the exact tilted density and the far component's share against the corrector steps K."""
    ks = [p.steps for p in points]
    color = METHOD_COLORS.get(method, BLACK)
    data = [go.Scatter(x=ks, y=[p.to_tilted for p in points], mode="lines+markers", name=f"{method} + corrector",
                       line=dict(color=color, width=2.5), legendgroup="m"),
            go.Scatter(x=ks, y=[p.noise_floor for p in points], mode="lines", name="noise floor (two exact sets)",
                       line=dict(color=GREY, dash="dot", width=2)),
            go.Scatter(x=ks, y=[p.far_share for p in points], mode="lines+markers", showlegend=False,
                       line=dict(color=color, width=2.5), legendgroup="m", xaxis="x2", yaxis="y2")]
    lay = _panels(2, ["D² to exact p(x)p(y|x)^k", "share in the far component"], "corrector steps K")
    lay["yaxis"].update(type="log", dtick="D2", tickformat=".1~e", rangemode=None)
    lay["yaxis2"]["tickformat"] = ".0%"
    return go.Figure(data=data, layout=lay)
