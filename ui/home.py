"""What the Home page lists as loaded: device, 2D mixtures, image models with their measured quality."""

from __future__ import annotations

import torch

from cgd.device import describe, pick_device
from cgd.models import available_datasets, checkpoint_root, quality_record
from cgd.pipeline import scale_symbol
from cgd.results import current
from cgd.toy.mixture import load_mixture, presets


def loaded_lines() -> list:
    """Markdown lines, one per thing loaded."""
    lines = [f"- Device: **{describe(pick_device('auto'))}**, torch {torch.__version__}",
             f"- 2D mixtures: {', '.join(f'`{n}`' for n in presets())} "
             f"({sum(load_mixture(p).num_components for p in presets().values())} components in all)"]
    datasets = available_datasets()
    for name in datasets:
        q = quality_record(name)
        extra = ""
        if q:
            guided = {g["method"]: g for g in q.get("guided", []) if current(g)}  # not an older sampler's
            parts = [f"{m} {scale_symbol(m)} = {g['scale']:g}: judge {g['judge_accuracy']:.0%}"
                     for m, g in guided.items() if m in ("cg-ddim", "cfg")]
            extra = f" — judge test accuracy {q['judge_test_accuracy']:.1%}; " + ", ".join(parts)
        lines.append(f"- Image models: **{name}** (U-Net, noisy classifier, judge){extra}")
    if not datasets:
        lines.append(f"- Image models: none found in `{checkpoint_root()}` — train them with "
                     "`bash checkpoints/train.sh mnist`.")
    return lines
