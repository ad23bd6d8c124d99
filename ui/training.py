"""The Training page's live 2D run: the trained networks kept for the 2D page, and what is drawn as they train.

Training is deterministic for a seed (:func:`cgd.toy.learned.train_toy_models`), so a run is named by its mixture,
steps and seed, and one shared cache holds it for every session: the 2D page offers the runs this session trained
as models of their own ("trained here: 500 steps, seed 0"), beside the exact ones and its own learned ones.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cgd.toy.learned import ToyTrainConfig
from ui import figures
from ui.shared import shared_cache

__all__ = ["train", "trained", "kind_of", "parse_kind", "model_kinds", "remember", "loss_figure",
           "density_figure", "boundary_figure", "CLASS_COLORS"]

KIND_PREFIX = "trained here"
SESSION_KEY = "trained_2d_runs"
# the classes' colours on the boundary map: pale fills, none of them a method's colour (cgd/palette.py) or the
# 2D page's density blue and red
CLASS_COLORS = ("#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f")


def kind_of(steps: int, seed: int) -> str:
    """The model kind the 2D page passes around for the run of ``steps`` per network and ``seed``."""
    return f"{KIND_PREFIX}: {int(steps)} steps, seed {int(seed)}"


def parse_kind(kind: str) -> tuple | None:
    """``(steps, seed)`` of a :func:`kind_of` name, else None."""
    if not kind.startswith(KIND_PREFIX + ": "):
        return None
    steps, seed = kind[len(KIND_PREFIX) + 2:].split(" steps, seed ")
    return int(steps), int(seed)


@shared_cache(8)
def trained(mixture_json: str, steps: int, seed: int, *, _progress=None) -> tuple:
    """``(eps_net, classifier, history)`` trained on the mixture, ``steps`` per network (shared; never modified).

    ``_progress`` (not part of the key) receives the trainer's reports, with the network being trained, while the
    first asker trains; a cached run returns at once. An evicted run trains again and comes out the same.
    """
    from cgd.toy.learned import train_toy_models
    from ui.toy import SCHEDULE, mixture_of

    cfg = ToyTrainConfig(steps=int(steps), classifier_steps=int(steps), seed=int(seed))
    return train_toy_models(mixture_of(mixture_json), SCHEDULE, train_cfg=cfg, callback=_progress)


def models_of(mixture_json: str, kind: str) -> tuple:
    """``(eps_net, classifier)`` of a :func:`kind_of` kind (what :func:`ui.toy.models` asks for such kinds)."""
    steps, seed = parse_kind(kind)
    return trained(mixture_json, steps, seed)[:2]


def remember(mixture_json: str, steps: int, seed: int) -> None:
    """Note in this session that it trained ``(steps, seed)`` on the mixture (newest last, at most 4 per mixture)."""
    runs = st.session_state.setdefault(SESSION_KEY, {})
    mine = [r for r in runs.get(mixture_json, []) if r != (int(steps), int(seed))] + [(int(steps), int(seed))]
    runs[mixture_json] = mine[-4:]


def model_kinds(mixture_json: str) -> list:
    """The 2D page's choice of models for the mixture: exact, its learned ones, and this session's trained runs."""
    runs = st.session_state.get(SESSION_KEY, {}).get(mixture_json, [])
    return ["exact", "learned"] + [kind_of(steps, seed) for steps, seed in runs]


# -- figures -----------------------------------------------------------------------------------------------------
def loss_figure(history: list, *, title: str, ytitle: str, steps: int) -> go.Figure:
    """One network's training loss (mean of each 50 steps) on its own axes, x over the whole run."""
    fig = figures.lines_figure([50 * (i + 1) for i in range(len(history))], {title: history}, xtitle="training step",
                               ytitle=ytitle, title=title, height=250, legend=False, colors={title: figures.BLACK})
    fig.update_xaxes(range=[0, steps])
    fig.update_yaxes(rangemode="tozero")
    return fig


def readable_y(fig: go.Figure, ys: list) -> go.Figure:
    """A log y axis only where the values span more than a decade: over a narrower range its 1-2-5 ticks leave one
    or no label, so the axis is linear there (ticks every few tenths), starting at 0."""
    if max(ys) / max(min(ys), 1e-12) < 10:
        fig.update_yaxes(type="linear", dtick=None, tickformat=None, rangemode="tozero")
    return fig


def _square_layout(lo: float, hi: float, title: str, height: int) -> dict:
    return figures.layout(title=title, xtitle="x₁", ytitle="x₂", height=height, show_legend=False,
                          xaxis=dict(range=[lo, hi], constrain="domain"),
                          yaxis=dict(range=[lo, hi], scaleanchor="x", scaleratio=1, constrain="domain"),
                          margin=dict(l=55, r=10, t=50, b=50))


def density_figure(hist: dict, *, title: str, height: int = 380) -> go.Figure:
    """The learned model's samples as a 2D histogram (grey cells) under the exact p(x)'s contours (black)."""
    edges = hist["edges"]
    centers = (edges[:-1] + edges[1:]) / 2
    data = [go.Heatmap(x=centers, y=centers, z=hist["learned"], colorscale=[[0, "#ffffff"], [1, "#3b4a5a"]],
                       showscale=False, name="learned model's samples",
                       hovertemplate="x₁ %{x:.2f}, x₂ %{y:.2f}: %{z:.3f} of the samples<extra></extra>"),
            go.Contour(x=centers, y=centers, z=hist["exact"], showscale=False, name="exact p(x)",
                       contours=dict(coloring="lines", start=float(hist["exact"].max() * 0.1),
                                     end=float(hist["exact"].max() * 0.7), size=float(hist["exact"].max() * 0.3)),
                       line=dict(color=figures.BLACK, width=1.5), colorscale=[[0, figures.BLACK], [1, figures.BLACK]],
                       hoverinfo="skip")]
    return go.Figure(data=data, layout=_square_layout(float(edges[0]), float(edges[-1]), title, height))


def class_rgb(probs: np.ndarray) -> np.ndarray:
    """``[res, res, 3]`` uint8: each point the classes' colours mixed by their probabilities, faded to white as
    the classifier becomes unsure (as TensorFlow Playground colours its output)."""
    k = probs.shape[-1]
    cols = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in CLASS_COLORS[:k]], dtype=np.float64)
    mixed = probs @ cols
    sure = (probs.max(-1, keepdims=True) - 1 / k) / (1 - 1 / k)  # 0: uniform, 1: certain
    return np.clip(255 - sure * (255 - mixed), 0, 255).astype(np.uint8)


def boundary_figure(grid: dict, points: np.ndarray, labels: np.ndarray, *, title: str,
                    height: int = 380) -> go.Figure:
    """The learned classifier's p_phi(y | x) as colour (class colours, white where unsure), the exact p(y | x) = 1/2
    line of each class dashed, and a sample of the data in its classes' colours."""
    xs = grid["xs"]
    dx = float(xs[1] - xs[0])
    data = [go.Image(z=class_rgb(grid["learned"]), x0=float(xs[0]), dx=dx, y0=float(xs[0]), dy=dx,
                     hoverinfo="skip", name="learned p(y|x)")]
    for c in range(grid["exact"].shape[-1]):
        data.append(go.Contour(x=xs, y=xs, z=grid["exact"][..., c], showscale=False, name=f"exact p(y={c}|x) = 1/2",
                               contours=dict(coloring="lines", start=0.5, end=0.5, size=1),
                               line=dict(color=figures.BLACK, width=1.5, dash="dash"),
                               colorscale=[[0, figures.BLACK], [1, figures.BLACK]], hoverinfo="skip"))
    for c in np.unique(labels):
        pts = points[labels == c]
        data.append(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"class {c}",
                               marker=dict(size=5, color=CLASS_COLORS[int(c) % len(CLASS_COLORS)],
                                           line=dict(color=figures.BLACK, width=0.6))))
    lay = _square_layout(float(xs[0]), float(xs[-1]), title, height)
    lay["yaxis"] = {**lay["yaxis"], "autorange": False}
    return go.Figure(data=data, layout=lay)


def train(mixture_json: str, steps: int, seed: int, on_report=None) -> tuple:
    """Train (or find) the run and remember it for this session; ``on_report(d)`` gets the trainer's reports."""
    out = trained(mixture_json, int(steps), int(seed), _progress=on_report)
    remember(mixture_json, steps, seed)
    return out


@shared_cache(16)
def final_views(mixture_json: str, steps: int, seed: int) -> dict:
    """The trained run's density histogram and classifier map (what the page keeps showing after training)."""
    eps_net, classifier, history = trained(mixture_json, steps, seed)
    return {"density": density_views(mixture_json, eps_net), "boundary": boundary_views(mixture_json, classifier),
            "history": history}


def density_views(mixture_json: str, eps_net) -> dict:
    """:func:`cgd.toy.live.learned_histogram` of the network now (fixed seed, so frames differ by training only)."""
    from cgd.toy.live import learned_histogram
    from ui.toy import SCHEDULE, box, mixture_of

    return learned_histogram(eps_net, None, mixture_of(mixture_json), SCHEDULE, n=DENSITY_POINTS,
                             steps=DENSITY_STEPS, box=box(mixture_json))


def boundary_views(mixture_json: str, classifier) -> dict:
    """:func:`cgd.toy.live.classifier_grid` of the classifier now, at t = 0."""
    from cgd.toy.live import classifier_grid
    from ui.toy import SCHEDULE, box, mixture_of

    return classifier_grid(classifier, mixture_of(mixture_json), SCHEDULE, box=box(mixture_json))


@shared_cache(16)
def data_points(mixture_json: str, n: int = 300) -> tuple:
    """``(points [n, 2], labels [n])``: a fixed sample of the mixture, drawn over the classifier's map."""
    import torch

    from ui.toy import mixture_of

    x, y = mixture_of(mixture_json).sample(n, torch.Generator().manual_seed(0))
    return x.numpy(), y.numpy()


DENSITY_POINTS, DENSITY_STEPS = 2000, 50


def agreement(grid: dict) -> float:
    """Share of the map's points where the learned classifier's most probable class is the exact one's."""
    return float((grid["learned"].argmax(-1) == grid["exact"].argmax(-1)).mean())


# -- the shipped image models' records -----------------------------------------------------------------------------
def _flag(command: str, flag: str):
    """The value after ``flag`` in a recorded command line, or None."""
    parts = (command or "").split()
    return parts[parts.index(flag) + 1] if flag in parts[:-1] else None


def _batch(record: dict):
    return record.get("batch") or _flag(record.get("command", ""), "--batch")


def _losses_line(ys: list) -> str:
    return f"its loss went from {ys[0]:.3g} over the first 50 steps to {ys[-1]:.3g} over the last 50"


@st.cache_data(ttl=60, max_entries=8, show_spinner=False)
def image_curves(dataset: str, root: str) -> list:
    """``[(kind, figure, caption in words, about: the record's command and machine)]`` of the shipped models.

    The U-Net's curve continues the weak U-Net's when it was warm-started from it (``--init`` in its command):
    the shipped weak U-Net is the first part of the same training (checkpoints/README.md).
    """
    from cgd.models import training_records

    recs = training_records(dataset)
    out = []
    unet, weak = recs.get("unet"), recs.get("weak")
    if unet and unet.get("loss_every_50"):
        ys = list(unet["loss_every_50"])
        warm = bool(weak and weak.get("loss_every_50") and _flag(unet.get("command", ""), "--init"))
        offset = 50 * len(weak["loss_every_50"]) if warm else 0
        series = {"U-Net": ys}
        x = [offset + 50 * (i + 1) for i in range(len(ys))]
        fig = figures.lines_figure(x, series, xtitle="training step", ytitle="ε loss (mean of 50 steps)",
                                   title="The diffusion U-Net", height=320, log_y=True, legend=False,
                                   colors={"U-Net": figures.BLACK})
        text = (f"The U-Net learns to predict the noise $\\varepsilon$ that was added to a training image (mean "
                f"squared error). "
                f"{len(ys) * 50} steps of {_batch(unet)} images")
        if warm:
            wy = list(weak["loss_every_50"])
            fig.add_trace(go.Scatter(x=[50 * (i + 1) for i in range(len(wy))], y=wy, mode="lines",
                                     name="first part (shipped as the weak U-Net)",
                                     line=dict(color=figures.GREY, width=2.5)))
            fig.add_vline(x=offset, line=dict(color=figures.GREY, width=1, dash="dot"))
            fig.update_layout(showlegend=False)
            text += (f", warm-started from the U-Net of the first {offset} steps (grey), which ships as "
                     f"autoguidance's weak model; {_losses_line(wy + ys)}.")
        else:
            text += f"; {_losses_line(ys)}."
        out.append(("unet", fig, text, _about(unet) + ("\n\n" + "Weak U-Net: " + _about(weak) if warm else "")))
    for kind, title, ytitle, what in (
            ("classifier", "The noisy classifier (guides)", "cross-entropy (mean of 50 steps)",
             "The noisy classifier $p_\\phi(y \\mid x_t, t)$ learns the class of noised training images at random "
             "$t$; it is what classifier guidance differentiates. Its loss stays well above the judge's: at large "
             "$t$ the noise hides the class (its accuracy against $t$ is below)"),
            ("judge", "The judge (scores, never guides)", "cross-entropy (mean of 50 steps)",
             "The judge classifies clean images: it reads the class of every sample and its features stand in "
             "for Inception's in FID, IS, precision and recall")):
        r = recs.get(kind)
        if not r or not r.get("loss_every_50"):
            continue
        ys = list(r["loss_every_50"])
        fig = figures.lines_figure([50 * (i + 1) for i in range(len(ys))], {title: ys}, xtitle="training step",
                                   ytitle=ytitle, title=title, height=320, log_y=True, legend=False,
                                   colors={title: figures.BLACK})
        readable_y(fig, ys)
        out.append((kind, fig, f"{what}. {len(ys) * 50} steps of {_batch(r)} images; {_losses_line(ys)}.",
                    _about(r)))
    return out


def _about(r: dict) -> str:
    """A record's command, machine and time (markdown), for the "About these models" expander."""
    return (f"`{r.get('command', '?')}` — {r.get('seconds_this_run', '?')} s in its last (resumed) run, "
            f"{r.get('hardware', '?')}")


def accuracy_caption(acc: dict, classes: int) -> str:
    """The noisy classifier's accuracy against t in words, read off ``classifier_accuracy_by_t``."""
    by_t = dict(zip(acc["t"], acc["accuracy"]))
    ts = sorted(by_t)
    half = next((t for t in ts if by_t[t] < 0.5), None)
    return (f"On noised test images the classifier is right {by_t[ts[0]]:.0%} of the time at $t = {ts[0]}$ and "
            f"{by_t[ts[-1]]:.0%} at $t = {ts[-1]}$, where the image is nearly pure noise and guessing gives "
            f"{1 / classes:.0%}"
            + (f"; it falls below 50% at $t = {half}$" if half is not None else "")
            + ".")


def classifier_notes(dataset: str) -> tuple:
    """``(caption, about lines)`` of the noisy classifier's accuracy against t and the judge's test accuracy, from
    ``quality.json`` (``("", [])`` without one)."""
    from cgd.data import DATASETS
    from cgd.models import quality_record

    q = quality_record(dataset)
    if not q or "classifier_accuracy_by_t" not in q:
        return "", []
    acc = q["classifier_accuracy_by_t"]
    about = []
    if acc.get("by_quarter"):
        about.append("- The noisy classifier's accuracy by range of t: "
                     + ", ".join(f"{k}: {v:.3f}" for k, v in acc["by_quarter"].items()))
    if "judge_test_accuracy" in q:
        about.append(f"- The judge reads {q['judge_test_accuracy']:.2%} of the real test set right "
                     f"(`checkpoints/{dataset}/quality.json`).")
    return accuracy_caption(acc, len(DATASETS[dataset].classes)), about
