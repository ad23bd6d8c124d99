"""The Home page's picture of what guidance does, and what it lists as loaded (device, mixtures, image models)."""

from __future__ import annotations

import streamlit as st
import torch

from cgd.device import describe, pick_device
from cgd.methods import cg_on, menu
from cgd.models import available_datasets, checkpoint_root, quality_record, recommended_scale
from cgd.pipeline import scale_symbol
from cgd.results import current, sweep
from cgd.toy.mixture import load_mixture, presets

# The picture: classifier guidance on the unconditional U-Net (DDIM, the atlas's 25 steps) towards one class, at
# no guidance, the recommended scale and four times it: the same seeds and noise in every panel (the scale atlas).
PICTURE_METHOD = cg_on("ddim")
PICTURE_LABEL = 3
PICTURE_FACTOR = 4
DISPLAY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def picture_dataset() -> str | None:
    """MNIST when it ships (digits read at a glance), else the first dataset with models; None without any."""
    datasets = available_datasets()
    return "mnist" if "mnist" in datasets else (datasets[0] if datasets else None)


def picture_scales(grid: tuple, recommended: float) -> tuple:
    """``(0, recommended, PICTURE_FACTOR x recommended)``, each the nearest value of the atlas's ``grid``."""
    def nearest(v):
        return min(grid, key=lambda g: abs(g - v))
    return tuple(dict.fromkeys((nearest(0.0), nearest(recommended), nearest(PICTURE_FACTOR * recommended))))


@st.cache_data(max_entries=4, show_spinner=False)
def guidance_picture(dataset: str) -> dict | None:
    """What the Home page's first screen shows, from the shipped scale atlas (no sampling): per panel its scale,
    PNG bytes and how many of the n images the judge reads as the asked class (p > 0.5, as the image page counts);
    the class's name, the method, n, the steps. None when the dataset has no usable atlas."""
    from ui import atlas as ui_atlas
    from ui.images import classes

    atlas, _reason = ui_atlas.get(dataset)
    if atlas is None or PICTURE_METHOD not in atlas.config.methods:
        return None
    scales = picture_scales(atlas.scales(PICTURE_METHOD), recommended_scale(dataset, PICTURE_METHOD))
    panels = []
    for s in scales:
        cell = atlas.cell(PICTURE_METHOD, PICTURE_LABEL, s)
        read = int((cell["judge"].astype("float64") > 0.5).sum())
        panels.append({"scale": s, "png": ui_atlas.images_png(dataset, PICTURE_METHOD, PICTURE_LABEL, s, 420),
                       "read": read, "n": int(len(cell["judge"]))})
    return {"dataset": dataset, "class_name": classes(dataset)[PICTURE_LABEL], "method": PICTURE_METHOD,
            "steps": atlas.config.steps, "panels": panels}


def recall_line(dataset: str, scales: tuple) -> str:
    """One sentence with the method's recall at each of ``scales`` from the sweep in ``results/`` (n = 500,
    25 steps, seed 0), or "" when the sweep lacks one of them."""
    from ui import records

    by_scale = {float(r["scale"]): r for r in sweep(records.records(), dataset, PICTURE_METHOD)
                if r.get("recall") is not None}
    if not all(float(s) in by_scale for s in scales):
        return ""
    r0 = by_scale[float(scales[0])]
    recalls = [by_scale[float(s)]["recall"] for s in scales]
    parts = " and ".join(f"{by_scale[float(s)]['recall']:.3f} at $s = {s:g}$" for s in scales[1:])
    falls = all(b < a for a, b in zip(recalls, recalls[1:]))  # the closing words only where the numbers say so
    return (f"Over {r0['n']} samples per scale ({r0['steps']} steps, seed {r0['seed']}; "
            f"`results/{dataset}_sweep.json`), recall, the share of real images that lie close to some sample, is "
            f"{r0['recall']:.3f} at $s = {scales[0]:g}$, {parts}"
            + (": guidance buys the class with variety." if falls else "."))


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
                     for m, g in guided.items() if m in menu("trade-off")]
            extra = f" — judge test accuracy {q['judge_test_accuracy']:.1%}; " + ", ".join(parts)
        lines.append(f"- Image models: **{name}** (U-Net, noisy classifier, judge){extra}")
    if not datasets:
        lines.append(f"- Image models: none found in `{checkpoint_root()}` — train them with "
                     "`bash checkpoints/train.sh mnist`.")
    return lines


# The warning box. Its numbers are the exact 2D oracle's at the settings it names (overlapping, y = 0, n = 4000,
# seed 0; the table of docs/results.md, "The 2D oracle: what guidance samples"); tests/test_doc_claims.py
# recomputes each of them at those settings.
WARNING = (
    "**What guidance does not do.** With exact networks the guided score at every noise level is the score of "
    "$p_t(x)\\,p_t(y\\mid x)^k$ ($k = s$ for classifier guidance, $k = 1 + w$ for classifier-free guidance). "
    "Those tilted densities are not the marginals of one diffusion, so the sampler does **not** draw the tilted "
    "density $p(x)\\,p(y\\mid x)^k$ of the data, except at $k = 0$, where it draws $p(x)$, and at $k = 1$, where "
    "it draws $p(x\\mid y)$; and there only with enough steps: on the exact 2D mixture *overlapping* both are at "
    "the noise floor with 1000 steps, but with 25 steps classifier-guided DDPM at $s = 1$ lands 35× the noise "
    "floor away from $p(x\\mid y)$. At $k = 3$ (classifier guidance at $s = 3$, CFG at $w = 2$; 1000 steps) the "
    "samples land 31× to 1700× the noise floor away from $p(x)\\,p(y\\mid x)^3$ (docs/results.md). The "
    "**Guidance in 2D** page shows the difference on exact densities, and that DDPM and DDIM end at different "
    "distributions.")
