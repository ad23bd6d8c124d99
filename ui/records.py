"""Cached figures of the Training and Fidelity pages, from the shipped records (files change rarely)."""

from __future__ import annotations

import streamlit as st

from pathlib import Path

import cgd.results
from cgd.models import quality_record, training_records
from cgd.results import load_records, paper_analogue, sweep
from ui import figures

TITLES = {"unet": "U-Net (ε loss)", "classifier": "noisy classifier (cross-entropy)", "judge": "judge (cross-entropy)"}


@st.cache_data(ttl=60, max_entries=8, show_spinner=False)
def loss_curves(dataset: str, root: str) -> list:
    """``[(kind, figure, caption), ...]`` of the shipped models' training records."""
    out = []
    for kind, r in training_records(dataset).items():
        ys = r.get("loss_every_50")
        if not ys:
            continue
        fig = figures.lines_figure([50 * (i + 1) for i in range(len(ys))], {kind: ys}, xtitle="training step",
                                   ytitle="loss (mean of 50 steps)", log_y=True, height=300,
                                   title=TITLES.get(kind, kind), legend=False)
        caption = f"`{r.get('command', '?')}` — {r.get('seconds_this_run', '?')} s on {r.get('hardware', '?')}"
        out.append((kind, fig, caption))
    return out


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


def toy_loss_figure(curves: dict):
    """Live loss curves of the 2D networks (one point every 50 steps, as the trainer reports them)."""
    ys = {k: v for k, v in curves.items() if v}
    n = max(map(len, ys.values()))
    return figures.lines_figure(list(range(50, 50 * n + 1, 50)), ys, xtitle="training step", ytitle="loss",
                                log_y=True, title="2D networks: training loss")


METRICS = [("fid", "FID ↓"), ("inception_score", "IS ↑"), ("precision", "precision ↑"), ("recall", "recall ↑"),
           ("judge_accuracy", "judge accuracy ↑"), ("classifier_accuracy", "noisy classifier accuracy (t = 0)")]


def _version() -> tuple:
    """The results folder and its files' modification times: a cache key that changes with the files."""
    folder = Path(cgd.results.RESULTS_DIR)
    return (str(folder),) + tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.json")))


@st.cache_data(max_entries=4, show_spinner=False)
def _records(version: tuple) -> list:
    return load_records(Path(version[0]))


def records() -> list:
    """Every record in ``results/`` (read again when a file there changes)."""
    return _records(_version())


def metric_figures(dataset: str, methods: tuple) -> list:
    """One figure per metric: each method's curve against its own scale (s, or w for CFG), in its colour."""
    return _metric_figures(_version(), dataset, methods)


@st.cache_data(max_entries=32, show_spinner=False)
def _metric_figures(version: tuple, dataset: str, methods: tuple) -> list:
    recs = _records(version)
    out = []
    for key, title in METRICS:
        series = {}
        for m in methods:
            pts = [r for r in sweep(recs, dataset, m) if r.get(key) is not None]
            if len(pts) > 1:
                series[m] = ([r["scale"] for r in pts], [r[key] for r in pts])
        fig = figures.method_lines_figure(series, xtitle="guidance scale (s; CFG, autoguidance: w)", ytitle=title,
                                          height=330, legend=False)  # one colour key above all six charts
        out.append((key, fig))
    return out


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
