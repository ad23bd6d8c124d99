"""Weights-only checkpoints: safetensors weights plus the network's config, written atomically.

A serving checkpoint is one ``.safetensors`` file whose metadata holds ``{"kind": ..., "config": {...}}``
(the frozen config dataclass as JSON). Loading never unpickles anything; a missing, empty,
truncated, foreign or wrong-architecture file is refused with a one-line :class:`InputError`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from safetensors import safe_open

from cgd.errors import InputError
from cgd.fileio import atomic_write
from cgd.nn.judge import Judge, JudgeConfig
from cgd.nn.unet import ClassifierConfig, EncoderClassifier, UNet, UNetConfig

__all__ = ["KINDS", "atomic_write", "save_model", "load_model"]

KINDS = {"unet": (UNet, UNetConfig), "classifier": (EncoderClassifier, ClassifierConfig), "judge": (Judge, JudgeConfig)}


def save_model(model: torch.nn.Module, path: Path, kind: str) -> None:
    """Save ``model``'s weights (contiguous CPU tensors) and config to a safetensors file."""
    if kind not in KINDS:
        raise InputError(f"unknown model kind {kind!r}")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"kind": kind, "config": json.dumps(dataclasses.asdict(model.cfg))}
    atomic_write(Path(path), save(tensors, metadata=meta))


def load_model(path: Path, kind: str, device="cpu") -> torch.nn.Module:
    """Load a model of ``kind`` in eval mode with gradients off (safe to share read-only)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} not found")
    if path.stat().st_size == 0:
        raise InputError(f"checkpoint {path} is empty")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(f"checkpoint {path} is not a readable safetensors file ({e})") from None
    if meta.get("kind") != kind:
        raise InputError(f"checkpoint {path} holds a {meta.get('kind', 'unknown')!r} model, expected {kind!r}")
    cls, cfg_cls = KINDS[kind]
    try:
        cfg = cfg_cls(**json.loads(meta["config"]))
        model = cls(cfg)
        model.load_state_dict(tensors, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"checkpoint {path} does not match the {kind} architecture: {first}") from None
    return model.to(device).eval().requires_grad_(False)
