"""The one figure style, checked on the built figures: axis titles on every axis in use, legends outside
every plotting area, one colour per method, no magnified noise."""

import numpy as np
import plotly.graph_objects as go
import pytest

from cgd.pipeline import SampleRequest
from cgd.toy.mixture import load_mixture
from cgd.toy.views import SamplerPoint, SweepPoint, log_grid, run_guided
from ui import explorer, figures

MIX = load_mixture("three_blobs")
RUN = run_guided(MIX, SampleRequest(method="cg-ddpm", label=2, scale=3.0, steps=50, n=200, seed=0), record=5, keep=50)
GRID = log_grid(MIX, 2, res=40).tilt(3.0)


def _figures():
    snap = RUN.snapshots[2]
    xs = np.linspace(-4, 4, 30)
    yield "samples", figures.samples_figure(GRID, RUN.samples, label=2, exponent=3.0, method="cg-ddpm", title="t")
    yield "step", figures.step_figure(xs, np.random.default_rng(0).random((30, 30)), snap, label=2, gain=5.0)
    yield "trajectory", figures.trajectory_figure(RUN.path, [s.t for s in RUN.snapshots], -4, 4, grid=GRID)
    yield "sweep", figures.sweep_figure([SweepPoint(s, 0.5, 0.3, -1.0) for s in (0, 1, 2)], label=2, current=1.0)
    yield "lines", figures.lines_figure([1, 2, 3], {"a": [1, 2, 3], "b": [3, 2, 1]}, xtitle="x", ytitle="y",
                                        log_y=True)
    yield "methods", figures.method_lines_figure({"cfg": ([0, 1], [1, 2]), "cg-ddpm": ([0, 1], [2, 1])},
                                                 xtitle="scale", ytitle="FID")
    yield "samplers", figures.sampler_figure([SamplerPoint(s, 0.3, 0.4, 0.2) for s in (0, 1, 2)], label=0, far=0,
                                             current=1.0)
    curve = {"scale": np.array([0.0, 1.0, 4.0]), "share": np.array([0.1, 0.5, 1.0]),
             "mean_p": np.array([0.2, 0.5, 0.9]), "count": 8}
    yield "atlas_judge", figures.atlas_judge_figure(curve, {**curve, "count": 80}, method="cg-ddim", class_name="3",
                                                    knob="s", current=1.0)
    pr = {"cg-ddpm": ([0.95, 0.97, 0.9], [0.77, 0.7, 0.89], ["", "s=1", "s=4"]),
          "cfg": ([0.9, 0.85, 0.67], [0.89, 0.93, 0.95], ["", "w=0.5", "w=2"])}
    marks = ({"x": 0.95, "y": 0.77, "method": "uncond", "name": "unconditional model (k = 0)"},
             {"x": 0.8, "y": 0.9, "method": "cfg", "name": "measured now", "symbol": "star", "text": "now"})
    yield "tradeoff", figures.method_points_figure(pr, xtitle="recall", ytitle="precision", title="t", marks=marks,
                                                   legend_below=True)
    yield "against_k", figures.method_points_figure(pr, xtitle="k<br>more", ytitle="FID", title="t", marks=marks,
                                                    labelled=False, legend=False)
    yield "sharpen", explorer.sharpen_fig(3.0)
    yield "temperature", explorer.temperature(3.0)[0]
    for _, fig in explorer.taylor(-0.5, 4.0, 10):
        yield "taylor", fig


def _axes_in_use(fig: go.Figure) -> set:
    used = set()
    for tr in fig.data:
        if tr.type in ("scatter", "scattergl", "contour", "heatmap"):
            used.add(("xaxis" + (tr.xaxis[1:] if tr.xaxis and tr.xaxis != "x" else "")))
            used.add(("yaxis" + (tr.yaxis[1:] if tr.yaxis and tr.yaxis != "y" else "")))
    return used


@pytest.mark.parametrize("name, fig", list(_figures()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_axis_in_use_has_a_title_and_the_legend_is_outside(name, fig):
    lay = fig.layout
    for axis in _axes_in_use(fig):
        matched = getattr(lay, axis).matches
        if matched:  # an axis tied to another (the sweep's top panel) is titled by that one
            continue
        assert getattr(lay, axis).title.text, f"{name}: {axis} has no title"
    if lay.showlegend is False or sum(1 for t in fig.data if t.showlegend is not False) < 1:
        return
    leg = lay.legend
    x_domains = [getattr(lay, a).domain or (0, 1) for a in _axes_in_use(fig) if a.startswith("x")]
    y_domains = [getattr(lay, a).domain or (0, 1) for a in _axes_in_use(fig) if a.startswith("y")]
    right_of_all = leg.x is not None and leg.x >= max(d[1] for d in x_domains) and leg.xanchor == "left"
    below_all = leg.y is not None and leg.y <= min(d[0] for d in y_domains) and leg.yanchor == "top"
    assert right_of_all or below_all, f"{name}: legend at x={leg.x} y={leg.y} sits over a plotting area"


def test_no_figure_uses_webgl():
    """A page with more WebGL plots than the browser keeps contexts for shows some of them blank."""
    for name, fig in _figures():
        assert not [t.type for t in fig.data if t.type.endswith("gl")], name


def test_one_colour_per_method_and_none_is_a_density_colour():
    colours = list(figures.METHOD_COLORS.values())
    assert len(set(colours)) == len(colours)
    assert figures.COND_DENSITY not in colours and figures.TILTED_DENSITY not in colours
    cfg = figures.method_lines_figure({"cfg": ([0, 1], [1, 2])}, xtitle="s", ytitle="y")
    assert cfg.data[0].line.color == figures.METHOD_COLORS["cfg"]
    samples = figures.samples_figure(GRID, RUN.samples, label=2, exponent=3.0, method="cfg")
    assert samples.data[2].marker.color == figures.METHOD_COLORS["cfg"]


def test_step_view_holds_every_drawn_point():
    snap = RUN.snapshots[0]  # x_t ~ N(0, I): some points lie beyond the density box
    lo, hi = figures.step_view(snap, 20.0, -1.0, 1.0)
    tips = snap.mu + 20.0 * snap.shift
    for pts in (snap.x_t, snap.mu, tips):
        assert pts.min() >= lo and pts.max() <= hi


def test_trajectory_keeps_the_density_in_every_frame_and_plays_slowly():
    fig = figures.trajectory_figure(RUN.path, [s.t for s in RUN.snapshots], -4, 4, grid=GRID)
    assert all(f.data[0].type == "contour" for f in fig.frames)
    assert fig.layout.updatemenus[0].buttons[0].args[1]["frame"]["duration"] >= 500
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)


def test_point_labels_keep_clear_of_other_points():
    """The precision-recall curve labels every point with its scale; a label never sits on top of a neighbour."""
    xs, ys = [0.0, 0.5, 1.0], [0.0, 0.5, 1.0]
    above = figures.label_spots([(xs, ys)], [(0.5, 0.55)])[0]  # another point just above the middle one
    right = figures.label_spots([(xs, ys)], [(0.55, 0.5)])[0]  # ... just right of it
    assert len(above) == 3 and not above[1].startswith("top") and not right[1].endswith("right")
    assert above[0] != "top right" and above[2] != "bottom left"  # nor along its own line
    fig = figures.method_points_figure({"cfg": (xs, ys, ["w=0", "w=1", "w=2"])}, xtitle="recall", ytitle="precision",
                                       title="t")
    assert list(fig.data[0].text) == ["w=0", "w=1", "w=2"] and "text" in fig.data[0].mode


def test_the_tilted_density_at_k_1_is_named_as_p_x_given_y():
    """Lesson step 8 and the 2D page at k = 1: the red dashed contour lies on the blue one, and its legend says why."""
    from ui.figures import _tilt_name

    assert _tilt_name(0, 1.0) == "k = 1: p(x|y=0)"
    assert _tilt_name(2, 3.0) == "p(x) p(y=2|x)^3"
