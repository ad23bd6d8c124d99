"""The Lesson's own figures and their projector form: arrays in, ``go.Figure`` out, in ``ui.figures``' style.

* :func:`trajectory_frames`: which recorded steps step 1's animation shows (equal steps of the points' mean
  distance to where they end, so every frame shows motion);
* :func:`sharpen_figure`: step 4's guided samples beside their marginal along x₁ against the exact
  p(x₁|y) and the tilted density's marginal;
* :func:`projector`: a copy of any figure with larger type, markers and lines, for presentation mode.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui import figures

__all__ = ["trajectory_frames", "marginal_x1", "sharpen_figure", "projector"]


def trajectory_frames(path: np.ndarray, count: int) -> list:
    """Indices into ``path`` ``[frames, m, 2]`` (its last entry is x_0) of at most ``count`` frames, the first
    and the last always among them, spaced by equal steps of the points' mean distance to their end point.

    d(i) = mean over the points of |x_(i) - x_0|. Frame j is the first index at which d has fallen to
    d(0) (1 - j / (count - 1)): while the cloud only jitters in pure noise d stays flat and no frame is
    spent there; where the points move, frames come close together in t.
    """
    d = np.linalg.norm(path - path[-1], axis=2).mean(1)
    reach = np.minimum.accumulate(d)  # the distance reached so far (d jitters a little in pure noise)
    out = [0]
    for j in range(1, count - 1):
        i = int(np.argmax(reach <= d[0] * (1 - j / (count - 1))))
        if i > out[-1]:
            out.append(i)
    if out[-1] != len(path) - 1:
        out.append(len(path) - 1)
    return out


def marginal_x1(grid) -> tuple:
    """``(x₁, p(x₁|y), tilted marginal)`` of a :class:`cgd.toy.views.DensityGrid` (rows: x₂, columns: x₁),
    each summed over x₂ and normalised over the grid."""
    xs = grid.xs
    dx = float(xs[1] - xs[0])
    return xs, grid.cond.sum(0) * dx, grid.tilted.sum(0) * dx


def _hist(values: np.ndarray, lo: float, hi: float, width: float) -> tuple:
    """Bin centres, widths and heights of a density-normalised histogram of ``values`` on [lo, hi]."""
    edges = np.arange(lo, hi + width, width)
    counts, edges = np.histogram(values, bins=edges)
    return (edges[:-1] + edges[1:]) / 2, np.diff(edges), counts / (len(values) * np.diff(edges))


def sharpen_figure(grid, fine, samples: np.ndarray, *, label: int, exponent: float, method: str, title: str,
                   others=None, height: int = 470) -> go.Figure:
    """Left: the samples over p(x|y) (blue) and p(x) p(y|x)^k (red, dashed). Right: their histogram along x₁
    against the same two densities' exact marginals (``fine``: a finer :class:`DensityGrid` of the same box).
    """
    left = figures.samples_figure(grid, samples, label=label, exponent=exponent, method=method, others=others)
    color = figures.METHOD_COLORS.get(method, figures.BLACK)
    data = []
    for tr in left.data:
        tr.showlegend = tr.type == "scatter"  # contours are named by the right panel's curves
        if tr.type == "scatter" and tr.name.startswith("samples"):
            tr.marker.size, tr.marker.opacity = 4, 0.55
        data.append(tr)
    lo, hi = float(grid.xs[0]), float(grid.xs[-1])
    xs, cond, tilted = marginal_x1(fine)
    centres, widths, heights = _hist(samples[:, 0], lo, hi, (hi - lo) / 60)
    # one legend entry per colour: the right panel's curves are the left panel's densities along x₁
    data += [go.Bar(x=centres, y=heights, width=widths, name="samples along x₁",
                    marker=dict(color=color, opacity=0.45, line=dict(width=0)), xaxis="x2", yaxis="y2"),
             go.Scatter(x=xs, y=cond, mode="lines", name=f"p(x | y={label})", xaxis="x2", yaxis="y2",
                        line=dict(color=figures.COND_DENSITY, width=2.5)),
             go.Scatter(x=xs, y=tilted, mode="lines", name=figures._tilt_name(label, exponent),
                        xaxis="x2", yaxis="y2", line=dict(color=figures.TILTED_DENSITY, width=2.5, dash="dash"))]
    lay = figures.layout(title=title, height=height, legend={**figures.LEGEND_BELOW, "y": -0.2},
                         margin=dict(l=60, r=10, t=50, b=130),
                         xaxis=dict(domain=[0, 0.38], range=[lo, hi], constrain="domain", title=dict(text="x₁")),
                         yaxis=dict(range=[lo, hi], scaleanchor="x", scaleratio=1, constrain="domain",
                                    title=dict(text="x₂")))
    grid_style = dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#444", mirror=True)
    lay["xaxis2"] = dict(domain=[0.48, 1.0], anchor="y2", range=[lo, hi],
                         title=dict(text="x₁ (separates the classes)"), **grid_style)
    lay["yaxis2"] = dict(anchor="x2", rangemode="tozero", title=dict(text="density along x₁"), **grid_style)
    lay["bargap"] = 0
    return go.Figure(data=data, layout=lay)


# -- presentation mode -----------------------------------------------------------------------------

PROJECTOR = dict(font=18, title=21, legend=16, marker=1.7, line=1.6)


def _scaled(v, by: float):
    """A marker size or line width times ``by``: a number, a list, or a typed-array spec ({dtype, bdata})."""
    if v is None:
        return None
    if isinstance(v, (dict, list, tuple, np.ndarray)):
        return v  # sizes per point (the step figure's arrowheads) stay as they are
    return v * by


def _big_trace(tr: dict) -> dict:
    tr = dict(tr)
    if isinstance(tr.get("marker"), dict):
        m = dict(tr["marker"])
        if "size" in m:
            m["size"] = _scaled(m["size"], PROJECTOR["marker"])
        if isinstance(m.get("line"), dict) and "width" in m["line"]:
            m["line"] = {**m["line"], "width": _scaled(m["line"]["width"], PROJECTOR["line"])}
        tr["marker"] = m
    if isinstance(tr.get("line"), dict) and "width" in tr["line"]:
        tr["line"] = {**tr["line"], "width": _scaled(tr["line"]["width"], PROJECTOR["line"])}
    if isinstance(tr.get("textfont"), dict) and "size" in tr["textfont"]:
        tr["textfont"] = {**tr["textfont"], "size": PROJECTOR["legend"]}
    if isinstance(tr.get("colorbar"), dict) and tr["colorbar"].get("orientation") == "h":
        # the projector's figure is wide and its legend is pinned to the bottom edge: the bar goes beside the plot
        title = tr["colorbar"].get("title")
        tr["colorbar"] = {**tr["colorbar"], **figures.COLORBAR_RIGHT,
                          **({"title": {**title, "side": "right"}} if isinstance(title, dict) else {})}
    return tr


def projector(fig: go.Figure) -> go.Figure:
    """A copy of the figure with larger type, markers and line widths (for a projector's back row); the
    figure itself is not modified. Its height is left to the page (presentation mode sizes it from the
    viewport)."""
    d = fig.to_plotly_json()
    d = {**d, "data": [_big_trace(t) for t in d.get("data", [])]}
    if d.get("frames"):
        d["frames"] = [{**f, "data": [_big_trace(t) for t in f.get("data", [])]} for f in d["frames"]]
    lay = dict(d.get("layout", {}))
    lay["font"] = {**lay.get("font", {}), "size": PROJECTOR["font"]}
    if isinstance(lay.get("title"), dict):
        lay["title"] = {**lay["title"], "font": {**lay["title"].get("font", {}), "size": PROJECTOR["title"]}}
    legend = {**lay.get("legend", {}), "font": {**lay.get("legend", {}).get("font", {}), "size": PROJECTOR["legend"]}}
    margin = dict(lay.get("margin", {}))
    if legend.get("orientation") == "h" and (legend.get("y") or 0) < 0:
        # a legend under the plot, pinned to the figure's bottom edge in pixels (paper units shrink with the
        # figure, and the viewport sets its height): as many rows as it may need, two entries a row
        names = [str(t.get("name") or "") for t in d["data"]
                 if t.get("showlegend", True) is not False and t.get("type") != "heatmap"]
        entries = len(names)
        per_row = 3 if "xaxis2" in lay else 2  # two panels side by side: a wider figure
        if max(map(len, names), default=0) > 22:  # long names: fewer a row, so none is cut short
            per_row -= 1
        legend.update(yref="container", y=0.0, yanchor="bottom", entrywidth=1 / per_row - 0.01,
                      entrywidthmode="fraction")
        margin["b"] = 70 + 28 * -(-entries // per_row)
    lay["legend"] = legend
    if lay.get("sliders") or lay.get("updatemenus"):
        # the animation's play buttons and frame slider above the plot (anchored to its top edge) rather than
        # under it, where they would cover the axis on a short figure
        lay["updatemenus"] = [{**m, "y": 1.0, "yanchor": "bottom", "pad": {"b": 12}} for m in lay.get("updatemenus", [])]
        lay["sliders"] = [{**sl, "x": 0.34, "len": 0.66, "y": 1.0, "yanchor": "bottom", "pad": {"b": 10, "t": 0}}
                          for sl in lay.get("sliders", [])]
        margin["t"] = 115
    lay["margin"] = margin
    for key in [k for k in lay if k.startswith(("xaxis", "yaxis"))]:
        ax = dict(lay[key])
        ax["tickfont"] = {**ax.get("tickfont", {}), "size": PROJECTOR["legend"]}
        if isinstance(ax.get("title"), dict):
            ax["title"] = {**ax["title"], "font": {**ax["title"].get("font", {}), "size": PROJECTOR["font"]}}
        lay[key] = ax
    d["layout"] = lay
    return go.Figure(d)
