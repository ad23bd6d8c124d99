"""The scale atlas on the image page: read once per server, then every slider move is a lookup.

Images go to the browser as PNG bytes made once per (cell, scale) and cached, so a rerun sends
bytes without encoding anything; the figures are three short curves, built per rerun.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cgd.atlas import ATLAS_FILE, MODEL_FILES, RECORD_FILE, Atlas, load_atlas
from cgd.errors import InputError
from cgd.models import checkpoint_root
from cgd.sample import image_grid
from ui import figures
from ui.images import enlarge, png_bytes

__all__ = ["get", "images_png", "frame_png", "frames_strip_png", "seed_row_png", "judge_figure", "frame_label",
           "trajectory_frames_png", "seed_frames_png", "late_change", "FRAME_PX"]


def _stamp(folder: Path) -> tuple:
    """Modification times of the atlas and the models: a rebuilt atlas or a retrained model reloads."""
    out = []
    for name in (ATLAS_FILE, RECORD_FILE) + MODEL_FILES:
        try:
            out.append((Path(folder) / name).stat().st_mtime_ns)
        except OSError:
            out.append(None)
    return tuple(out)


@st.cache_resource(max_entries=4, show_spinner="Loading the scale atlas…")
def _load(folder: str, stamp: tuple):
    try:
        return load_atlas(Path(folder)), ""
    except InputError as e:
        return None, str(e)


def get(dataset: str) -> tuple:
    """``(atlas, "")`` or ``(None, one-line reason)`` for the dataset's shipped models."""
    folder = checkpoint_root() / dataset
    return _load(str(folder), _stamp(folder))


def _atlas(dataset: str) -> Atlas:
    atlas, reason = get(dataset)
    if atlas is None:
        raise InputError(reason)
    return atlas


@st.cache_data(max_entries=4000, show_spinner=False)
def images_png(dataset: str, method: str, label: int, scale: float, width: int = 560) -> bytes:
    """The cell's n images at one scale, tiled (up to 4 per row) and enlarged by whole pixels."""
    imgs = _atlas(dataset).cell(method, label, scale)["images"]
    return png_bytes(enlarge(image_grid(imgs, cols=min(4, len(imgs))), width))


@st.cache_data(max_entries=4000, show_spinner=False)
def frame_png(dataset: str, method: str, label: int, scale: float, seed: int, frame: int, width: int = 280) -> bytes:
    """x0_hat of trajectory seed ``seed`` after kept step ``frame``, enlarged."""
    traj = _atlas(dataset).cell(method, label, scale)["trajectory"]
    return png_bytes(enlarge(image_grid(traj[seed, frame:frame + 1], cols=1), width))


@st.cache_data(max_entries=2000, show_spinner=False)
def frames_strip_png(dataset: str, method: str, label: int, scale: float, seed: int, width: int = 1100) -> bytes:
    """Every kept x0_hat of one trajectory seed, left (first step) to right (last)."""
    traj = _atlas(dataset).cell(method, label, scale)["trajectory"][seed]
    return png_bytes(enlarge(image_grid(traj, cols=len(traj)), width))


@st.cache_data(max_entries=2000, show_spinner=False)
def seed_row_png(dataset: str, method: str, label: int, seed: int, width: int = 1100) -> bytes:
    """One seed at every scale of the method's grid, smallest scale on the left."""
    images = _atlas(dataset).get(method, "images")[label, :, seed]
    return png_bytes(enlarge(image_grid(images, cols=len(images)), width))


# one frame of a strip on screen: 28-pixel images enlarged by whole pixels to at least this many (at least 56 CSS
# pixels wide, so a frame stays readable on a projector); the strips wrap into rows
FRAME_PX = 84


def _frames(images, width: int) -> tuple:
    return tuple(png_bytes(enlarge(image_grid(images[k:k + 1], cols=1, pad=0), width)) for k in range(len(images)))


@st.cache_data(max_entries=2000, show_spinner=False)
def trajectory_frames_png(dataset: str, method: str, label: int, scale: float, seed: int,
                          width: int = FRAME_PX) -> tuple:
    """Every kept x0_hat of one trajectory seed, one PNG each (first step first)."""
    return _frames(_atlas(dataset).cell(method, label, scale)["trajectory"][seed], width)


@st.cache_data(max_entries=2000, show_spinner=False)
def seed_frames_png(dataset: str, method: str, label: int, seed: int, width: int = FRAME_PX) -> tuple:
    """One seed at every scale of the method's grid, one PNG each (smallest scale first)."""
    return _frames(_atlas(dataset).get(method, "images")[label, :, seed], width)


def late_change(dataset: str, method: str, label: int, scale: float, seed: int):
    """``(share, step)``: the share of x0_hat's total change (mean absolute pixel change between kept frames,
    summed) that comes after sampling step ``step``, the kept frame nearest half of the steps; None when the
    atlas keeps fewer than two frames."""
    import numpy as np

    atlas = _atlas(dataset)
    traj = atlas.cell(method, label, scale)["trajectory"][seed].astype(np.float64)
    if len(traj) < 2:
        return None
    moves = np.abs(np.diff(traj, axis=0)).reshape(len(traj) - 1, -1).mean(1)  # between kept frames k and k+1
    steps = [i + 1 for i in atlas.config.frame_steps()]
    half = min(range(len(steps)), key=lambda k: abs(steps[k] - atlas.config.steps / 2))
    total = moves.sum()
    return (float(moves[half:].sum() / total) if total > 0 else 0.0), steps[half]


def frame_label(atlas: Atlas, frame: int) -> str:
    """"step i of N (t = ...)" for a kept frame, with t the training timestep the x0_hat was predicted at."""
    i = atlas.config.frame_steps()[frame]
    return f"step {i + 1} of {atlas.config.steps} (t = {int(atlas.arrays['frame_t'][frame])})"


def judge_figure(dataset: str, method: str, label: int, class_name: str, knob: str, current: float):
    atlas = _atlas(dataset)
    return figures.atlas_judge_figure(atlas.judge_curve(method, label), atlas.judge_curve(method), method=method,
                                      class_name=class_name, knob=knob, current=current)
