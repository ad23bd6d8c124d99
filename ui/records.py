"""Cached figures of the Training and Fidelity pages, from the shipped records (files change rarely)."""

from __future__ import annotations

import streamlit as st

from pathlib import Path

import cgd.methods
import cgd.results
from cgd.models import quality_record
from cgd.palette import METHOD_LABELS
from cgd.pipeline import scale_symbol
from cgd.results import load_records, paper_analogue, sweep
from ui import figures
from ui import methods as registry

@st.cache_data(ttl=60, max_entries=8, show_spinner=False)
def classifier_accuracy(dataset: str, root: str):
    """``(figure, {t range: accuracy})`` of the noisy classifier against t, or None without a quality record."""
    q = quality_record(dataset)
    if not q or "classifier_accuracy_by_t" not in q:
        return None
    acc = q["classifier_accuracy_by_t"]
    fig = figures.lines_figure(acc["t"], {"accuracy": acc["accuracy"]}, xtitle="t (training timestep)",
                               ytitle="accuracy on q(x_t | x_0)", height=320, legend=False,
                               colors={"accuracy": figures.BLACK})
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig, acc.get("by_quarter")


METRICS = [("fid", "FID ↓"), ("inception_score", "IS ↑"), ("precision", "precision ↑"), ("recall", "recall ↑"),
           ("judge_accuracy", "judge accuracy ↑"), ("classifier_accuracy", "noisy classifier accuracy (t = 0)")]
PANEL_TITLES = {"fid": "FID (lower is better)", "inception_score": "Inception score (IS)",
                "precision": "Precision: samples that look real", "recall": "Recall: real data that is covered",
                "judge_accuracy": "Judge reads the asked class",
                "classifier_accuracy": "Guiding classifier reads the asked class"}
# the common axis of every method: the tilt exponent k (one number means one thing on every chart)
EXPONENT_AXIS = ("tilt exponent k<br><span style='font-size:12px'>CG: k = s · cond+CG: k = 1 + s · "
                 "CFG, autoguidance: k = 1 + w</span>")
PR_X, PR_Y = "recall (diversity) →", "precision (fidelity) ↑"
# the unguided models, marked as points on every chart
ANCHORS = {m: f"{registry.short(m)} model" for m in cgd.methods.NAMES if not registry.guided(m)}


def exponent(method: str, scale: float) -> float:
    """Where a method at a scale sits on the common axis: its tilt exponent k, or for a method without one the
    place the registry gives it (:func:`ui.methods.axis_exponent`; autoguidance, which tilts by no power of
    p(y|x) but weighs its guided network by 1 + w as CFG does, at CFG's k of the same w)."""
    return registry.axis_exponent(method, float(scale))


def point_label(method: str, scale: float) -> str:
    """A point's own knob, as the charts label it: "s=4", "w=0.5"."""
    return f"{scale_symbol(method)}={float(scale):g}"


def _version() -> tuple:
    """The results folder and its files' modification times: a cache key that changes with the files."""
    folder = Path(cgd.results.RESULTS_DIR)
    files = sorted(folder.glob("*.json")) + sorted((folder / SPREAD).glob("*.json"))
    return (str(folder),) + tuple((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in files)


SPREAD = "spread"  # results/spread/: settings of the sweeps measured again with other seeds


@st.cache_data(max_entries=4, show_spinner=False)
def _records(version: tuple) -> list:
    return load_records(Path(version[0]))


@st.cache_data(max_entries=4, show_spinner=False)
def _spread_records(version: tuple) -> list:
    return load_records(Path(version[0]) / SPREAD)


def records() -> list:
    """Every record in ``results/`` (read again when a file there changes)."""
    return _records(_version())


def live_mark(live: dict, key_x: str, key_y: str | None = None) -> dict:
    """A measurement made on the page now, as a marked point (``key_y``: its metric; ``key_x``: "k" for the
    common axis, else a metric)."""
    x = exponent(live["method"], live["scale"]) if key_x == "k" else live[key_x]
    return {"x": x, "y": live[key_y], "method": live["method"], "symbol": "star", "size": 18,
            "name": f"measured now: {METHOD_LABELS.get(live['method'], live['method'])}, "
                    f"{point_label(live['method'], live['scale']).replace('=', ' = ')}, n = {live['n']}",
            "text": "now"}


def _anchor_marks(recs: list, dataset: str, key_x: str, key_y: str) -> list:
    out = []
    for m, name in ANCHORS.items():
        pts = sweep(recs, dataset, m)
        if pts and pts[0].get(key_y) is not None:
            r = pts[0]
            x = exponent(m, 0.0) if key_x == "k" else r[key_x]
            out.append({"x": x, "y": r[key_y], "method": m, "name": f"{name} (k = {exponent(m, 0.0):g})"})
    return out


def _seed_marks(version: tuple, dataset: str, methods: tuple, key_x: str, key_y: str) -> list:
    """The sweeps' settings measured again with other seeds (results/spread/): hollow points beside seed 0's,
    one legend entry for all of them."""
    out = []
    for r in _spread_records(version):
        if r.get("dataset") != dataset or r.get("method") not in methods + tuple(ANCHORS) or r.get(key_y) is None:
            continue
        if not cgd.results.current(r):
            continue
        x = exponent(r["method"], r["scale"]) if key_x == "k" else r[key_x]
        out.append({"x": x, "y": r[key_y], "method": r["method"], "symbol": "circle-open", "size": 11,
                    "name": "the same setting, seeds 1 and 2", "group": "seeds", "legend": not out,
                    "hover": f"{METHOD_LABELS.get(r['method'], r['method'])}, "
                             f"{point_label(r['method'], r['scale'])}, seed {r.get('seed')}"})
    seeds = ", ".join(str(v) for v in sorted({int(r.get("seed") or 0) for r in _spread_records(version)
                                              if r.get("dataset") == dataset}))
    for mk in out:
        mk["name"] = f"the same setting, seeds {seeds}"
    return out


def tradeoff_figure(dataset: str, methods: tuple, live: tuple = (), height: int = 600):
    """Precision against recall, one curve per method, each point labelled with its own knob ("s=4").

    ``live``: the items of a measurement made now (:func:`measure_live`), drawn as a star.
    """
    return _tradeoff_figure(_version(), dataset, tuple(methods), tuple(live), int(height))


@st.cache_data(max_entries=32, show_spinner=False)
def _tradeoff_figure(version: tuple, dataset: str, methods: tuple, live: tuple, height: int):
    recs = _records(version)
    series = {}
    for m in methods:
        pts = [r for r in sweep(recs, dataset, m) if r.get("precision") is not None and r.get("recall") is not None]
        if len(pts) > 1:
            series[m] = ([r["recall"] for r in pts], [r["precision"] for r in pts],
                         ["" if r["scale"] == 0 else point_label(m, r["scale"]) for r in pts])
    marks = _anchor_marks(recs, dataset, "recall", "precision")
    marks += _seed_marks(version, dataset, methods, "recall", "precision")
    if live and dict(live).get("dataset") == dataset:
        marks.append(live_mark(dict(live), "recall", "precision"))
    return figures.method_points_figure(series, xtitle=PR_X, ytitle=PR_Y, height=height, marks=tuple(marks),
                                        legend_below=True,
                                        title="The trade-off: precision against recall, one point per scale")


def metric_figures(dataset: str, methods: tuple, live: tuple = ()) -> list:
    """One figure per metric: each method's curve against the tilt exponent k, in its colour, titled."""
    return _metric_figures(_version(), dataset, tuple(methods), tuple(live))


@st.cache_data(max_entries=32, show_spinner=False)
def _metric_figures(version: tuple, dataset: str, methods: tuple, live: tuple) -> list:
    recs = _records(version)
    live = dict(live)
    out = []
    for key, ytitle in METRICS:
        series = {}
        for m in methods:
            pts = [r for r in sweep(recs, dataset, m) if r.get(key) is not None]
            if len(pts) > 1:
                series[m] = ([exponent(m, r["scale"]) for r in pts], [r[key] for r in pts],
                             ["" if r["scale"] == 0 else point_label(m, r["scale"]) for r in pts])
        marks = _anchor_marks(recs, dataset, "k", key) + _seed_marks(version, dataset, methods, "k", key)
        if live and live.get("dataset") == dataset and live.get(key) is not None:
            marks.append(live_mark(live, "k", key))
        # one colour key above all the charts instead of a legend each
        fig = figures.method_points_figure(series, xtitle=EXPONENT_AXIS, ytitle=ytitle, title=PANEL_TITLES[key],
                                           height=340, marks=tuple(marks), labelled=False, legend=False)
        out.append((key, fig))
    return out


LIVE_COLUMNS = {"fid": "FID ↓", "inception_score": "IS ↑", "precision": "precision ↑", "recall": "recall ↑",
                "judge_accuracy": "judge accuracy", "classifier_accuracy": "guiding classifier accuracy"}


def live_row(rec: dict) -> dict:
    """A measurement made now as one table row with the page's words for its columns."""
    m = rec["method"]
    row = {"method": METHOD_LABELS.get(m, m), "scale": point_label(m, rec["scale"]).replace("=", " = "),
           "k": exponent(m, rec["scale"]), "samples": rec["n"]}
    row.update({name: (round(rec[k], 3) if rec.get(k) is not None else None) for k, name in LIVE_COLUMNS.items()})
    return row


def paper_table(dataset: str):
    """The paper's Table 4 beside ours, our numbers rounded as docs/results.md prints them (FID and IS to 2
    decimals, precision, recall and judge accuracy to 3): a projector shows 2.36, not 2.3633."""
    digits = {"our FID": 2, "our IS": 2, "our P": 3, "our R": 3, "our judge acc.": 3}
    return [{k: (round(v, digits[k]) if k in digits and v is not None else v) for k, v in row.items()}
            for row in paper_analogue(records(), dataset)]


def measure_live(dataset: str, method: str, scale: float, n: int, on_step) -> dict:
    """One small evaluation record now (25 steps, seed 0) against the dataset's reference statistics."""
    from cgd.evaluate import REFERENCE_FILE, evaluate_one, load_reference
    from cgd.models import checkpoint_root
    from ui import images

    ref = load_reference(checkpoint_root() / dataset / REFERENCE_FILE)
    return evaluate_one(images.get_models(dataset), ref, method, scale, n=n, steps=LIVE_STEPS, seed=0,
                        on_step=on_step)


LIVE_STEPS = 25
