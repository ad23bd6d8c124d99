"""Plotly figures for the pages: arrays in, ``go.Figure`` out (no Streamlit here)."""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["samples_figure", "step_figure", "trajectory_figure", "sweep_figure", "lines_figure",
           "image_grid_figure", "arrow_gain"]

BLUE, RED, GREY, GREEN = "#1f77b4", "#d62728", "#7f7f7f", "#2ca02c"


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


def _square(lo: float, hi: float, *, title: str = "", height: int = 480, **extra) -> dict:
    """Layout of a square plot of the box [lo, hi]^2 (one dict: plotly's update_* calls cost ~3 ms each)."""
    return dict(xaxis=dict(range=[lo, hi], constrain="domain"),
                yaxis=dict(range=[lo, hi], scaleanchor="x", scaleratio=1),
                height=height, margin=dict(l=10, r=10, t=40, b=10), title=dict(text=title),
                legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), **extra)


def _contour(xs, z, color, name, dash="solid"):
    levels = np.quantile(z[z > z.max() * 1e-3], [0.5, 0.8, 0.95]) if (z > 0).any() else [0]
    axis = _f4(xs)
    return go.Contour(x=axis, y=axis, z=_f4(z), name=name, showscale=False, showlegend=True,
                      contours=dict(coloring="lines", start=float(levels[0]), end=float(levels[-1]),
                                    size=float(max((levels[-1] - levels[0]) / 2, 1e-12))),
                      line=dict(color=color, width=2, dash=dash), colorscale=[[0, color], [1, color]],
                      hoverinfo="skip")


def samples_figure(grid, samples: np.ndarray, *, label: int, scale: float, title: str = "") -> go.Figure:
    """Guided samples over the contours of p(x|y) (blue) and the tilted p(x) p(y|x)^s (red, dashed)."""
    xs = grid.xs
    return go.Figure(data=[_contour(xs, grid.cond, BLUE, f"p(x | y={label})"),
                           _contour(xs, grid.tilted, RED, f"p(x) p(y={label} | x)^{scale:g}", dash="dash"),
                           go.Scattergl(**_xy(samples), mode="markers", name="guided samples",
                                        marker=dict(size=3, color="black", opacity=0.45))],
                     layout=_square(xs[0], xs[-1], title=title))


def arrow_gain(shift: np.ndarray, box_width: float, target: float = 0.06) -> float:
    """A 1-2-5 factor that brings the median arrow up to about ``target`` of the box (1 when already visible)."""
    med = float(np.median(np.linalg.norm(shift, axis=1))) if len(shift) else 0.0
    if med <= 0:
        return 1.0
    gain = target * box_width / med
    if gain <= 1.0:
        return 1.0
    k = np.floor(np.log10(gain))
    for m in (5.0, 2.0, 1.0):
        if m * 10**k <= gain:
            return float(m * 10**k)
    return float(10**k)


def step_figure(xs, post, snap, *, label: int, gain: float = 1.0, title: str = "") -> go.Figure:
    """One reverse step: heat map of p_t(y|x), the x_t cloud, unguided means mu and arrows mu -> mu + shift."""
    axis = _f4(xs)
    tips = snap.mu + gain * snap.shift
    seg = np.full((3 * len(tips), 2), np.nan)
    seg[0::3], seg[1::3] = snap.mu, tips
    name = "guidance shift" + (f" ×{gain:g}" if gain != 1 else "")
    return go.Figure(data=[
        go.Heatmap(x=axis, y=axis, z=_f4(post), zmin=0, zmax=1, colorscale="Blues", opacity=0.6,
                   colorbar=dict(title=f"p_t(y={label}|x)", len=0.8), hoverinfo="skip"),
        go.Scattergl(**_xy(snap.x_t), mode="markers", name="x_t", marker=dict(size=4, color=GREY, opacity=0.6)),
        go.Scattergl(**_xy(snap.mu), mode="markers", name="μ (unguided mean)", marker=dict(size=4, color="black")),
        go.Scattergl(**_xy(seg), mode="lines", name=name, line=dict(color=RED, width=1.5)),
        go.Scattergl(**_xy(tips), mode="markers", showlegend=False, marker=dict(size=3, color=RED)),
    ], layout=_square(xs[0], xs[-1], title=title))


def trajectory_figure(path: np.ndarray, steps: list, lo: float, hi: float, *, grid=None) -> go.Figure:
    """Animation (plotly frames) of the points from noise (first frame) to samples (last)."""
    def scatter(p):
        return go.Scatter(**_xy(p), mode="markers", marker=dict(size=4, color=RED, opacity=0.7),
                          name="x_t")

    names = [f"t={t}" for t in steps] + ["x_0"]
    base = [] if grid is None else [_contour(grid.xs, grid.cond, BLUE, "p(x | y)")]
    menu = dict(type="buttons", showactive=False, x=0, y=-0.05, xanchor="left", yanchor="top",
                buttons=[dict(label="▶ play", method="animate",
                              args=[None, dict(frame=dict(duration=150, redraw=False), fromcurrent=True,
                                               transition=dict(duration=0))]),
                         dict(label="❚❚", method="animate", args=[[None], dict(mode="immediate", frame=dict(duration=0))])])
    slider = dict(x=0.15, len=0.85, y=-0.05, currentvalue=dict(prefix="step "),
                  steps=[dict(label=n, method="animate", args=[[n], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
                         for n in names])
    return go.Figure(data=base + [scatter(path[0])],
                     frames=[go.Frame(data=[scatter(p)], traces=[len(base)], name=n) for p, n in zip(path, names)],
                     layout=_square(lo, hi, updatemenus=[menu], sliders=[slider]))


def sweep_figure(points, *, label: int, knob: str = "s") -> go.Figure:
    """Share of samples of class y and their spread against the scale."""
    s = [p.scale for p in points]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=s, y=[p.share_y for p in points], mode="lines+markers",
                             name=f"share classified as y={label}", line=dict(color=BLUE)), secondary_y=False)
    fig.add_trace(go.Scatter(x=s, y=[p.spread for p in points], mode="lines+markers", name="spread (sd)",
                             line=dict(color=RED)), secondary_y=True)
    fig.update_xaxes(title_text=knob)
    fig.update_yaxes(title_text="share of y", range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text="spread", rangemode="tozero", secondary_y=True)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.1))
    return fig


def lines_figure(x, series: dict, *, xtitle: str, ytitle: str, height: int = 320, log_y: bool = False,
                 dash: dict | None = None) -> go.Figure:
    """Several named curves over one x (a dict name -> y values)."""
    fig = go.Figure()
    for name, y in series.items():
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name,
                                 line=dict(dash=(dash or {}).get(name, "solid"))))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=xtitle, yaxis_title=ytitle,
                      legend=dict(orientation="h", y=1.12))
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def image_grid_figure(grid: np.ndarray, *, height: int = 420) -> go.Figure:
    """A uint8 image grid ([H, W] gray or [H, W, 3]) without axes."""
    import plotly.express as px

    fig = px.imshow(grid, color_continuous_scale="gray", binary_string=True)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0))
    return fig
