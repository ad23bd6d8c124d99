"""The Lesson page's eight steps: preset settings, their figures (through the pages' own cached calls), words.

:func:`warm` computes every step's figures once per server in a background thread, started by
``app.py``, so a lecturer who opens the Lesson on a cold server waits seconds, not minutes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from cgd.pipeline import SampleRequest

__all__ = ["Step", "STEPS", "warm", "IMAGE_SCALES"]


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # two or three sentences (markdown)
    notice: str  # what to notice
    question: str  # one question for the class
    figure: str  # which figure the page draws (see pages/6_Lesson.py)


# the presets behind the steps (2D: exact models, so every figure is the exact answer)
BLOBS = "three_blobs"
OVERLAP = "overlapping"
NEAR_FAR = "near_and_far"
NOISE_TO_DATA = SampleRequest(method="cg-ddpm", label=0, scale=0.0, steps=100, n=1000, seed=0)
POSTERIOR = SampleRequest(method="cg-ddpm", label=2, scale=0.0, steps=100, n=1000, seed=0)
SHIFT = SampleRequest(method="cg-ddpm", label=0, scale=3.0, steps=100, n=1000, seed=0)
SHARPEN = SampleRequest(method="cg-ddpm", label=0, scale=3.0, steps=100, n=1000, seed=0)
CG_VS_CFG = (SampleRequest(method="cg-ddpm", label=1, scale=3.0, steps=100, n=1000, seed=0),
             SampleRequest(method="cfg", label=1, scale=2.0, steps=100, n=1000, seed=0))
AUTOGUIDANCE = (SampleRequest(method="cfg", label=0, scale=2.0, steps=100, n=1000, seed=0),
                SampleRequest(method="autoguidance", label=0, scale=2.0, steps=100, n=1000, seed=0))
AUTOGUIDANCE_LABEL = 3  # the MNIST class of the step's image rows (from the atlas)
IMAGE_SCALES = (0.0, 1.0, 3.0, 10.0)
IMAGE_REQUEST = SampleRequest(method="cg-ddpm", label=3, scale=0.0, steps=25, n=4, seed=0, x0_mode="clip")

# Step 7's "what to notice": every number is read off results/mnist_sweep.json and each change is larger than twice
# the spread over seeds of results/spread/mnist_seeds.json (tests/test_page_claims.py checks both)
FIDELITY_METHODS = ("cg-ddpm", "cfg", "cond+cg")
FIDELITY_NOTICE = (
    "Every curve ends to the left of where it starts: guidance costs recall. CFG's recall falls from 0.906 at "
    "w = 0 to 0.636 at w = 4, conditional + CG's to 0.638 at s = 10. Precision rises clearly for classifier "
    "guidance on the unconditional model, from 0.774 unguided to 0.910 at s = 10; the conditional model starts at "
    "0.888 and guidance raises it by at most 0.058, less than twice its spread over seeds (± 0.030). At s = 1 the "
    "unconditional model is worse than unguided (FID 4.42 against 2.36, ± 0.35 over seeds), as in the paper. The "
    "hollow circles are the same settings with other seeds. Our numbers use a digit classifier's features: compare "
    "the trends, not the values.")

STEPS = (
    Step("1 · From noise to data",
         "A diffusion model learns to undo noise. Sampling starts from pure Gaussian noise and takes many small "
         "denoising steps; each step is a Gaussian whose mean the network predicts. Here the network is exact: "
         "the data are a mixture of three Gaussian blobs, one per class.",
         "The points start as one round cloud and settle onto the three blobs, more than half of the way in the "
         "last third of the steps. Press ▶, or drag the slider under the plot one step at a time.",
         "If we stopped halfway, where would the points be, and what would they look like?",
         "trajectory"),
    Step("2 · What a noisy classifier knows: p_t(y|x) over time",
         "Classifier guidance needs p_t(y|x): how sure a classifier is of class y when it sees a *noisy* point x_t. "
         "Drag the time scrubber: at high noise (large t) the three classes overlap and the classifier can "
         "hardly tell them apart; as t falls its regions sharpen.",
         "Early in sampling p_t(y|x) is flat and close to 1/3 almost everywhere; near t = 0 it is almost 0 or 1.",
         "Why can't we guide with an ordinary classifier trained on clean images?",
         "posterior"),
    Step("3 · The shift sΣg",
         "Classifier guidance moves the mean μ of each reverse step by s·Σ·∇log p_t(y|x): uphill on the "
         "classifier's confidence, scaled by the step's own variance Σ and the guidance scale s.",
         "The red arrows point where p_t(y|x) grows fastest and shrink where the classifier is already sure. "
         "Scrub through t: at the last steps Σ is tiny, so the shifts are too.",
         "Why is the shift multiplied by Σ, and what would happen with a fixed step instead?",
         "shift"),
    Step("4 · Sharpening as s grows, and what it does not sample",
         "Larger s makes samples more typical of y and less diverse. At every noise level the guided score is the "
         "score of p_t(x)·p_t(y|x)^s, so one might expect samples of p(x)·p(y|x)^s (red dashed). With exact "
         "models we can check: only at s = 1 is that true.",
         "At s = 1 the samples fill the blue contours of p(x|y). At s = 3 they are pushed further from the other "
         "class than the red dashed density says, because the push happens at high noise too.",
         "If guidance does not sample p(x)·p(y|x)^s, how could we ever sample it?",
         "sharpen"),
    Step("5 · Classifier guidance and classifier-free guidance",
         "CFG needs no classifier: one network, trained with its label dropped now and then, gives "
         "ε̃ = (1+w)·ε(x,y) − w·ε(x). With exact networks that is the score of p_t(x)·p_t(y|x)^(1+w): CFG at w "
         "is classifier guidance at s = 1+w.",
         "CG at s = 3 (left) and CFG at w = 2 (right) draw the same cloud: with exact models they are the "
         "same method. Differences on real data come from the networks, not from the formula.",
         "Then why does CFG usually give better images than classifier guidance in practice?",
         "cg_vs_cfg"),
    Step("6 · The same seeds across scales, on MNIST",
         "Now a trained U-Net and a classifier trained on noisy MNIST digits. Each column starts from the same "
         "noise and takes the same random steps; only the scale s changes.",
         "s = 0 gives digits of any class; as s grows they turn into the asked class and become more alike. "
         "The judge's confidence (a separate classifier that never guides) rises with s.",
         "Which column would you pick for a dataset, and which for a demo?",
         "images"),
    Step("7 · Fidelity against diversity",
         "The papers measure the trade-off: with larger scales precision (samples that look real) rises and "
         "recall (real data that the samples cover) falls. Left: our MNIST models, precision against recall, one "
         "point per scale. Right: FID against the tilt exponent k, one axis for every method (k = s for "
         "classifier guidance, 1 + s for conditional + CG, 1 + w for CFG).",
         FIDELITY_NOTICE,
         "Where on these curves would you set the scale, and what does that choice depend on?",
         "fidelity"),
    Step("8 · Sharper without losing modes: autoguidance",
         "CFG's loss of diversity is not a law of guidance. Autoguidance (Karras et al. 2024) guides a model with "
         "a *weaker model of the same task* instead of the unconditional one: ε̃ = ε_weak + (1+w)·(ε − ε_weak). "
         "Here class 0 of a mixture with a near and a far component, exact models; the weak model is the same "
         "mixture with every covariance doubled, the error an underfit network makes.",
         "At the same w = 2, CFG (left) pushes most samples into the far component, away from the other class: "
         "the far component holds 87% of these 1000 samples where p(x|y) puts 50%. Autoguidance (right) keeps "
         "the two components' shares (50% in the far one) and only tightens each component, because its guided "
         "score has no p(y|x) in it.",
         "CFG's direction is 'away from the other classes'. What is autoguidance's direction, in words?",
         "autoguidance"),
)

_WARMED = threading.Event()
_STARTED = threading.Lock()


def warm() -> None:
    """Compute every step's figures once in a daemon thread (no-op after the first call in a process,
    and when ``CGD_WARM=0``, as in the tests)."""
    import os

    if os.environ.get("CGD_WARM", "1") == "0" or not _STARTED.acquire(blocking=False):
        return
    threading.Thread(target=_warm, name="lesson-warm", daemon=True).start()


def _warm() -> None:
    try:
        trajectory()
        for req, name in ((POSTERIOR, BLOBS), (SHIFT, OVERLAP)):
            ts = recorded(name, req)
            step(name, req, ts[len(ts) // 2])
        sharpen(SHARPEN.scale)
        sharpen(1.0)
        cg_vs_cfg()
        autoguidance()
        image_row()
    except Exception:  # noqa: BLE001 - warming is best effort: the page computes whatever is missing
        pass
    finally:
        _WARMED.set()


# -- the steps' figures (the page and the warm-up call these with the same arguments) ---------------

def trajectory():
    from ui import toy

    return toy.trajectory_fig(toy.preset_json(BLOBS), "exact", NOISE_TO_DATA)


def recorded(name: str, req: SampleRequest) -> list:
    from ui import toy

    return [s.t for s in toy.guided_run(toy.preset_json(name), "exact", req).snapshots]


def step(name: str, req: SampleRequest, t: int):
    from ui import toy

    return toy.step_fig(toy.preset_json(name), "exact", req, int(t))


def sharpen(scale: float):
    from cgd.pipeline import tilt_exponent
    from ui import toy

    req = SampleRequest(**{**SHARPEN.__dict__, "scale": float(scale)})
    return toy.samples_fig(toy.preset_json(OVERLAP), "exact", req, tilt_exponent(req.method, req.scale),
                           f"CG-DDPM, s = {scale:g}")


def cg_vs_cfg() -> tuple:
    from cgd.pipeline import scale_symbol, tilt_exponent
    from ui import toy

    return tuple(toy.samples_fig(toy.preset_json(BLOBS), "exact", r, tilt_exponent(r.method, r.scale),
                                 f"{r.method}, {scale_symbol(r.method)} = {r.scale:g}") for r in CG_VS_CFG)


def fidelity():
    """Step 7's figures from the shipped MNIST records: ``(precision against recall, FID against k)``; None
    without MNIST records."""
    from ui import records

    if not any(r.get("dataset") == "mnist" for r in records.records()):
        return None
    return (records.tradeoff_figure("mnist", FIDELITY_METHODS, height=500),
            dict(records.metric_figures("mnist", FIDELITY_METHODS))["fid"])


def _autoguidance_title(method: str) -> str:
    return f"{'CFG' if method == 'cfg' else method}, w = {AUTOGUIDANCE[0].scale:g}"


def autoguidance() -> tuple:
    """CFG against autoguidance at the same w, on the near-and-far mixture (exact models)."""
    from ui import toy

    return tuple(toy.samples_fig(toy.preset_json(NEAR_FAR), "exact", r, toy.held_against(r.method, r.scale),
                                 _autoguidance_title(r.method)) for r in AUTOGUIDANCE)


def autoguidance_images():
    """``[(title, images uint8 [8, H, W], judge's mean p(y|x_0)), ...]`` for CFG and autoguidance at the
    step's w on MNIST, class :data:`AUTOGUIDANCE_LABEL`, the same seeds, from the shipped scale atlas; None
    when it has no autoguidance cells."""
    from ui import atlas as ui_atlas
    from ui import images

    if "mnist" not in images.datasets():
        return None
    atlas, _ = ui_atlas.get("mnist")
    w = AUTOGUIDANCE[0].scale
    if atlas is None or not all(m in atlas.config.methods and w in atlas.scales(m) for m in ("cfg", "autoguidance")):
        return None
    out = []
    for method in ("cfg", "autoguidance"):
        cell = atlas.cell(method, AUTOGUIDANCE_LABEL, w)
        out.append((_autoguidance_title(method), cell["images"], float(cell["judge"].astype(float).mean())))
    return out


def image_row():
    """``(source, [(scale, images uint8 [4, H, W], judge's mean p(y|x_0)), ...])`` at each of
    :data:`IMAGE_SCALES`, the same seeds at every scale; None without MNIST models.

    From the shipped scale atlas when it matches the models (instant), else sampled live as one
    multi-scale batch (common random numbers, as the atlas is).
    """
    from ui import atlas as ui_atlas
    from ui import images

    if "mnist" not in images.datasets():
        return None
    r = IMAGE_REQUEST
    atlas, _ = ui_atlas.get("mnist")
    if atlas is not None and "cg-ddpm" in atlas.config.methods and atlas.config.n >= r.n and \
            all(s in atlas.scales("cg-ddpm") for s in IMAGE_SCALES):
        cells = [atlas.cell("cg-ddpm", r.label, s) for s in IMAGE_SCALES]
        return "atlas", [(s, c["images"][:r.n], float(c["judge"][:r.n].astype(float).mean()))
                         for s, c in zip(IMAGE_SCALES, cells)]
    res = images.generate("mnist", str(images.checkpoint_root()), replace(r, scale=None, scales=IMAGE_SCALES))
    return "live", [(s, res.images[k * r.n:(k + 1) * r.n], float(res.judge_conf[k * r.n:(k + 1) * r.n].mean()))
                    for k, s in enumerate(IMAGE_SCALES)]
