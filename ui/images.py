"""Cached image-model loading and sampling for the pages.

Models live in ``st.cache_resource`` (one read-only copy for every user); results in
:func:`ui.shared.shared_cache`, keyed by (dataset, root, request), the 64 most recent. Not ``st.cache_data``:
that one records the elements a cached function draws (here the per-step progress) and replays them on a hit,
which fails for placeholders drawn elsewhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from cgd.data import DATASETS
from cgd.device import pick_device
from cgd.models import (FILES, available_datasets, checkpoint_root, confidences, load_image_models,  # noqa: F401
                        recommended_scale, sample_images)
from cgd.pipeline import SampleRequest, by_scale, scale_symbol, tilt_exponent  # noqa: F401 - the pages' names
from cgd.imaging import image_grid, to_uint8
from ui.shared import shared_cache


@st.cache_resource(max_entries=4, show_spinner="Loading the trained models…")
def models(dataset: str, root: str):
    return load_image_models(dataset, root=__import__("pathlib").Path(root), device=pick_device("auto"))


def datasets() -> list:
    return available_datasets(checkpoint_root())


def classes(dataset: str) -> tuple:
    """The dataset's class names, by label."""
    return tuple(DATASETS[dataset].classes)


def has_weak_model(dataset: str) -> bool:
    """Whether the dataset ships autoguidance's weak U-Net."""
    return (checkpoint_root() / dataset / FILES["weak"]).is_file()


def get_models(dataset: str):
    return models(dataset, str(checkpoint_root()))


@dataclass(frozen=True)
class ImageResult:
    images: np.ndarray  # uint8 [n, H, W] or [n, H, W, 3]
    classifier_conf: np.ndarray | None  # p(y | x_0) by the guiding classifier (t = 0)
    judge_conf: np.ndarray | None  # p(y | x_0) by the judge


@shared_cache(64)
def generate(dataset: str, root: str, request: SampleRequest, _on_step=None, _on_wait=None) -> ImageResult:
    """Sample (or fetch the shared cached result of) one request.

    ``_on_step`` sees each step; ``_on_wait(runs ahead, estimated seconds)`` is called while the
    request waits for the compute thread (other students' runs). Neither is part of the cache key: a
    session asking for a request another is computing waits for that result.
    """
    m = models(dataset, root)
    x0 = sample_images(m, request, callback=_on_step, on_wait=_on_wait)
    conf = confidences(m, x0, request.label) if request.label is not None else {}
    as_np = {k: v.numpy() for k, v in conf.items()}
    return ImageResult(to_uint8(x0), as_np.get("classifier"), as_np.get("judge"))


def preview(x0_hat: torch.Tensor, k: int = 8) -> np.ndarray:
    """The first k predicted x_0 of a step as one uint8 strip."""
    return image_grid(to_uint8(x0_hat[:k].detach().cpu()), cols=k)


def enlarge(grid: np.ndarray, width: int) -> np.ndarray:
    """The uint8 grid scaled up by a whole factor (nearest pixel) to at least about ``width`` pixels wide.

    Browsers smooth small images scaled up; whole-pixel blocks keep digits sharp on a projector.
    """
    factor = max(1, -(-int(width) // grid.shape[1]))
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)


def png_bytes(grid: np.ndarray) -> bytes:
    """A uint8 grid (grey ``[H, W]`` or RGB ``[H, W, 3]``) as PNG bytes (fast: light compression)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(grid).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
