"""The Lesson page's eight steps: preset settings, their figures (through the pages' own cached calls), words.

:func:`warm` computes every step's figures once per server in a background thread, started by
``app.py``, so a lecturer who opens the Lesson on a cold server waits seconds, not minutes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from cgd.pipeline import SampleRequest
from ui import methods as registry
from ui.shared import shared_cache

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
# step 5: on near_and_far class 0 guidance visibly moves mass into the far component (on three_blobs it showed
# nothing); 25 steps (what every image record uses) and 100
CG_VS_CFG = (SampleRequest(method="cg-ddpm", label=0, scale=3.0, steps=100, n=1000, seed=0),
             SampleRequest(method="cfg", label=0, scale=2.0, steps=100, n=1000, seed=0))
CG_VS_CFG_STEPS = (25, 100)
TRAJECTORY_FRAMES = 21  # step 1's animation: frames at equal steps of the points' distance to their end
AUTOGUIDANCE = (SampleRequest(method="cfg", label=0, scale=2.0, steps=100, n=1000, seed=0),
                SampleRequest(method="autoguidance", label=0, scale=2.0, steps=100, n=1000, seed=0))
AUTO_NAME = registry.short(AUTOGUIDANCE[1].method)  # "autoguidance", in the step's table
AUTOGUIDANCE_LABEL = 3  # the MNIST class of the step's image rows (from the atlas)
IMAGE_SCALES = (0.0, 1.0, 3.0, 10.0)
IMAGE_REQUEST = SampleRequest(method="cg-ddpm", label=3, scale=0.0, steps=25, n=4, seed=0, x0_mode="clip")

# Step 7's "what to notice": every number is read off results/mnist_sweep.json and each change is larger than twice
# the spread over seeds of results/spread/mnist_seeds.json (tests/test_page_claims.py checks both)
FIDELITY_METHODS = registry.menu("trade-off")
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
         "A diffusion model learns to undo noise. Sampling starts from pure Gaussian noise $x_T$ and takes many "
         "small denoising steps; each step draws $x_{t-1}$ from a Gaussian whose mean the network predicts. Here "
         "the network is exact: the data are a mixture of three Gaussian blobs, one per class, and nothing guides.",
         "The points start as one round cloud and settle onto the three blobs. The frames are spaced by "
         "distance, not by time: each brings the points the same distance closer to where they end, so the "
         "frames' $t$ show where the motion happens. Press ▶ play, or drag the frame slider one frame at a time.",
         "If we stopped halfway, where would the points be, and what would they look like?",
         "trajectory"),
    Step(r"2 · What a noisy classifier knows: $p_t(y\mid x)$ over time",
         r"Classifier guidance needs $p_t(y\mid x)$: how sure a classifier is of class $y$ when it sees a *noisy* "
         r"point $x_t$. Drag the time scrubber: at high noise (large $t$) the three classes overlap and the "
         r"classifier can hardly tell them apart; as $t$ falls its regions sharpen. Here $p_t(y\mid x)$ is exact.",
         r"Early in sampling $p_t(y\mid x)$ is close to 1/3 wherever the points are; near $t = 0$ it is almost "
         r"0 or 1.",
         "Why can't we guide with an ordinary classifier trained on clean images?",
         "posterior"),
    Step(r"3 · The shift $s\,\Sigma\,g$",
         r"In the DDPM sampler, classifier guidance moves the mean $\mu$ of each reverse step by "
         r"$s\,\Sigma\,\nabla_x \log p_t(y\mid x)$: uphill on the classifier's confidence, scaled by the step's "
         r"own variance $\Sigma$ and the guidance scale $s$. Here $s = 3$, class 0 of two overlapping classes.",
         r"The red arrows point where $p_t(y\mid x)$ grows fastest, and are short where the classifier is already "
         r"sure of class 0. Every $t$ is drawn at one magnification: at the last steps $\Sigma$ is tiny, so the "
         r"shifts are too.",
         r"Why is the shift multiplied by $\Sigma$, and what would happen with a fixed step instead?",
         "shift"),
    Step("4 · Sharpening as $s$ grows, and what it does not sample",
         r"Larger $s$ makes samples more typical of $y$ and less diverse. At every noise level the guided score is "
         r"the score of $p_t(x)\,p_t(y\mid x)^s$, so one might expect samples of $p(x)\,p(y\mid x)^s$ (red "
         r"dashed). With exact models we can check; right: the samples along $x_1$, the axis that separates the "
         r"two classes.",
         r"At $s = 0$ and $s = 1$ the samples follow the red dashed density (there it is $p(x)$ and $p(x\mid y)$), "
         r"as far as these 1000 samples can tell. "
         r"At $s = 3$ and $s = 5$ they lie further from the other class than it says: the tilt acts at every "
         r"noise level, and the tilted densities of different noise levels are not the marginals of one diffusion.",
         r"If guidance does not sample $p(x)\,p(y\mid x)^s$, how could we ever sample it? (One answer, with "
         r"rejection and sequential Monte Carlo side by side: [Guidance in 2D](/Guidance_in_2D#sampling-for-real), "
         r"its section on sampling it for real.)",
         "sharpen"),
    Step("5 · Classifier guidance and classifier-free guidance",
         r"CFG needs no classifier: one network, trained with its label dropped now and then, gives "
         r"$\tilde\varepsilon = (1+w)\,\varepsilon(x_t, y) - w\,\varepsilon(x_t)$. With exact networks its guided "
         r"score is the score of $p_t(x)\,p_t(y\mid x)^{1+w}$: the same field as classifier guidance at "
         r"$s = 1 + w$. Here class 0 of a mixture with one component near class 1 and one far from it.",
         r"Both push the samples away from class 1, into the far component. They share a score field, not a "
         r"step: CG shifts the mean by $s\,\Sigma\,g$, CFG changes $\hat\varepsilon$. At 25 steps the two clouds "
         r"lie further apart than at 100.",
         "Then why does CFG usually give better images than classifier guidance in practice?",
         "cg_vs_cfg"),
    Step("6 · The same seeds across scales, on MNIST",
         r"Now a trained U-Net and a classifier trained on noisy MNIST digits. Each column starts from the same "
         r"noise and takes the same random steps; only the scale $s$ changes.",
         r"$s = 0$ is the unguided model: digits of any class. The judge, a separate classifier of clean digits "
         r"that never guides, says how much each column looks like the asked class.",
         "Which column would you pick for a dataset, and which for a demo?",
         "images"),
    Step("7 · Fidelity against diversity",
         "The papers measure the trade-off: with larger scales precision (samples that look real) rises and "
         "recall (real data that the samples cover) falls. Left: our MNIST models, precision against recall, one "
         "point per scale. Below: FID against the tilt exponent k, one axis for every method (k = s for "
         "classifier guidance, 1 + s for conditional + CG, 1 + w for CFG).",
         FIDELITY_NOTICE,
         "Where on these curves would you set the scale, and what does that choice depend on?",
         "fidelity"),
    Step("8 · Autoguidance: guiding with a weaker model",
         r"CFG's loss of diversity is not a law of guidance. Autoguidance (Karras et al. 2024) guides a model with "
         r"a *weaker model of the same task* instead of the unconditional one: "
         r"$\tilde\varepsilon = \varepsilon_{\text{weak}} + (1+w)\,(\varepsilon - \varepsilon_{\text{weak}})$. "
         r"Here step 5's mixture, exact models; the weak model is the same mixture with every covariance doubled "
         r"(too broad, as an underfit network is).",
         r"At the same $w = 2$, CFG (left) pushes most samples into the far component, away from the other class. "
         r"Autoguidance (right) keeps the components' shares and only tightens each component: its guided score "
         r"has no $p(y\mid x)$ in it. That holds in this exact 2D world; on our MNIST and Fashion-MNIST models "
         r"the records (below) show autoguidance no sharper than the conditional model.",
         "CFG's direction is 'away from the other classes'. What is autoguidance's direction, in words?",
         "weak_model"),
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
        for present in (False, True):  # each step as it opens, in both forms
            trajectory(present)
            for req, name in ((POSTERIOR, BLOBS), (SHIFT, OVERLAP)):
                ts = recorded(name, req)
                step(name, req, ts[len(ts) // 2], present)
            sharpen(SHARPEN.scale, present)
            cg_vs_cfg(CG_VS_CFG[0].steps, present)
            autoguidance(present)
        for k in CG_VS_CFG_STEPS:
            cg_vs_cfg_facts(k)
        autoguidance_facts()
        image_row()
        for present in (False, True):  # then what a lecturer moves to next
            for k in CG_VS_CFG_STEPS:
                cg_vs_cfg(k, present)
            sharpen(1.0, present)
    except Exception:  # noqa: BLE001 - warming is best effort: the page computes whatever is missing
        pass
    finally:
        _WARMED.set()


# -- the steps' figures (the page and the warm-up call these with the same arguments) ---------------
# ``present``: the projector form (ui.lesson_figures.projector), built once per figure and shared.

def _shown(fig, present: bool):
    from ui.lesson_figures import projector

    return projector(fig) if present else fig


def _trajectory_run():
    """Step 1's run with every step recorded (the frames are picked from them)."""
    from ui import toy

    return toy.guided_run(toy.preset_json(BLOBS), "exact", NOISE_TO_DATA, record=NOISE_TO_DATA.steps, keep=300)


@shared_cache(4)
def trajectory_facts() -> dict:
    """Step 1's frames and where its motion happens: ``frames`` (indices into the run's path), ``t`` (each
    frame's t; None for x_0), ``first_t``, ``half_t`` and ``half_steps`` (the step at which the points' mean
    distance to their end point has halved, and how many steps that took), ``steps``, ``start_distance``."""
    import numpy as np

    from ui.lesson_figures import trajectory_frames

    run = _trajectory_run()
    frames = trajectory_frames(run.path, TRAJECTORY_FRAMES)
    ts = [s.t for s in run.snapshots]
    d = np.linalg.norm(run.path - run.path[-1], axis=2).mean(1)
    half = int(np.argmax(np.minimum.accumulate(d) <= d[0] / 2))
    return {"frames": frames, "t": [ts[i] if i < len(ts) else None for i in frames], "first_t": ts[0],
            "half_t": ts[half], "half_steps": half, "steps": NOISE_TO_DATA.steps, "start_distance": float(d[0])}


@shared_cache(4)
def trajectory(present: bool = False):
    """Step 1: the unguided run's first 300 points from noise to data, :data:`TRAJECTORY_FRAMES` frames spaced
    by equal steps of their mean distance to where they end (:func:`ui.lesson_figures.trajectory_frames`)."""
    from ui import figures, toy

    run, facts = _trajectory_run(), trajectory_facts()
    dens = toy.densities(toy.preset_json(BLOBS), NOISE_TO_DATA.label, 1.0)
    fig = figures.trajectory_figure(run.path[facts["frames"]], facts["t"][:-1], dens.xs[0], dens.xs[-1], grid=dens,
                                    method=NOISE_TO_DATA.method, marginal=True)
    return _shown(fig, present)


def recorded(name: str, req: SampleRequest) -> list:
    from ui import toy

    return [s.t for s in toy.guided_run(toy.preset_json(name), "exact", req).snapshots]


@shared_cache(256)
def step(name: str, req: SampleRequest, t: int, present: bool = False):
    from ui import toy

    return _shown(toy.step_fig(toy.preset_json(name), "exact", req, int(t)), present)


def _snapshot(name: str, req: SampleRequest, t: int):
    from ui import toy

    return next(s for s in toy.guided_run(toy.preset_json(name), "exact", req).snapshots if s.t == int(t))


@shared_cache(128)
def posterior_facts(t: int) -> dict:
    """Step 2 at the recorded step ``t``: the exact p_t(y|x) at the drawn points x_t: ``low``, ``high`` and
    ``sure`` (the share of points where it is below 0.05 or above 0.95)."""
    import torch

    from ui import toy

    snap = _snapshot(BLOBS, POSTERIOR, t)
    mix = toy.mixture_of(toy.preset_json(BLOBS))
    p = torch.softmax(mix.class_log_joint(torch.from_numpy(snap.x_t), snap.alpha_bar), 1)[:, POSTERIOR.label]
    return {"t": int(t), "low": float(p.min()), "high": float(p.max()),
            "sure": float(((p < 0.05) | (p > 0.95)).double().mean()), "points": len(p)}


@shared_cache(128)
def shift_facts(t: int) -> dict:
    """Step 3 at the recorded step ``t``: Σ, the median shift |sΣg| of the drawn arrows, and the one
    magnification of every t (:func:`ui.toy.scrub_view`)."""
    import numpy as np

    from ui import toy

    snap = _snapshot(OVERLAP, SHIFT, t)
    gain, _ = toy.scrub_view(toy.preset_json(OVERLAP), "exact", SHIFT)
    med = float(np.median(np.linalg.norm(snap.shift[:toy.SCRUB_ARROWS], axis=1)))
    return {"t": int(t), "var": snap.var, "median": med, "gain": gain}


def _sharpen_request(scale: float) -> SampleRequest:
    return replace(SHARPEN, scale=float(scale))


@shared_cache(16)
def _fine_grid(scale: float):
    """The exact densities of step 4 on a fine grid (for their marginals along x₁)."""
    from cgd.pipeline import tilt_exponent
    from cgd.toy.views import log_grid
    from ui import toy

    mj = toy.preset_json(OVERLAP)
    return log_grid(toy.mixture_of(mj), SHARPEN.label, res=600, box=toy.box(mj)).tilt(
        tilt_exponent(SHARPEN.method, float(scale)))


@shared_cache(16)
def sharpen(scale: float, present: bool = False):
    """Step 4: CG-DDPM's samples at ``scale`` over p(x|y) and p(x)p(y|x)^s, beside their histogram along x₁."""
    from cgd.pipeline import tilt_exponent
    from ui import toy
    from ui.lesson_figures import sharpen_figure

    req = _sharpen_request(scale)
    mj = toy.preset_json(OVERLAP)
    mix = toy.mixture_of(mj)
    k = tilt_exponent(req.method, req.scale)
    fig = sharpen_figure(toy.densities(mj, req.label, k), _fine_grid(scale), toy.guided_run(mj, "exact", req).samples,
                         label=req.label, exponent=k, method=req.method, title=f"CG-DDPM, s = {scale:g}",
                         others=mix.means[mix.labels != req.label].numpy())
    return _shown(fig, present)


@shared_cache(16)
def sharpen_facts(scale: float) -> dict:
    """Step 4 at ``scale``: the mean of x₁ over the samples (and its standard error), over the red dashed
    density p(x)p(y|x)^s and over p(x|y) (exact, from the fine grid)."""
    from ui import toy
    from ui.lesson_figures import marginal_x1

    x1 = toy.guided_run(toy.preset_json(OVERLAP), "exact", _sharpen_request(scale)).samples[:, 0]
    xs, cond, tilted = marginal_x1(_fine_grid(scale))
    dx = float(xs[1] - xs[0])
    return {"scale": float(scale), "samples": float(x1.mean()), "se": float(x1.std(ddof=1) / len(x1) ** 0.5),
            "tilted": float((xs * tilted).sum() * dx), "conditional": float((xs * cond).sum() * dx), "n": len(x1)}


def _cg_vs_cfg_requests(steps: int) -> tuple:
    return tuple(replace(r, steps=int(steps)) for r in CG_VS_CFG)


def _cg_vs_cfg_title(r: SampleRequest) -> str:
    from cgd.palette import METHOD_LABELS
    from cgd.pipeline import scale_symbol

    return f"{METHOD_LABELS.get(r.method, r.method)}, {scale_symbol(r.method)} = {r.scale:g}, {r.steps} steps"


@shared_cache(8)
def cg_vs_cfg(steps: int = 100, present: bool = False) -> tuple:
    """Step 5: CG-DDPM at s = 3 and CFG at w = 2 (the same tilt exponent 3) at ``steps``, exact models."""
    from cgd.pipeline import tilt_exponent
    from ui import toy

    return tuple(_shown(toy.samples_fig(toy.preset_json(NEAR_FAR), "exact", r, tilt_exponent(r.method, r.scale),
                                        _cg_vs_cfg_title(r)), present) for r in _cg_vs_cfg_requests(steps))


def _far_mass(label: int) -> float:
    """The exact share of p(x|y) in class y's far component (its mixture weight within the class)."""
    from cgd.toy.views import far_component
    from ui import toy

    mix = toy.mixture_of(toy.preset_json(NEAR_FAR))
    w = mix.weights / mix.weights.sum()
    return float(w[far_component(mix, label)] / w[mix.labels == label].sum())


def _far_share(req: SampleRequest) -> float:
    from cgd.toy.views import far_component
    from ui import toy

    mj = toy.preset_json(NEAR_FAR)
    return toy.component_shares(mj, "exact", req)[far_component(toy.mixture_of(mj), req.label)]


@shared_cache(8)
def cg_vs_cfg_facts(steps: int = 100) -> dict:
    """Step 5 at ``steps``: the far component's share of CG's and CFG's samples and of p(x|y); the squared energy
    distance between the two clouds, and between CG's cloud and CG's with the next seed (what two seeds differ by)."""
    import torch

    from cgd.stats import energy_distance
    from ui import toy

    mj = toy.preset_json(NEAR_FAR)
    cg, cfg = _cg_vs_cfg_requests(steps)
    x = {key: torch.from_numpy(toy.guided_run(mj, "exact", r).samples)
         for key, r in (("cg", cg), ("cfg", cfg), ("cg_seed", replace(cg, seed=cg.seed + 1)))}
    return {"steps": int(steps), "cg_far": _far_share(cg), "cfg_far": _far_share(cfg), "exact": _far_mass(cg.label),
            "between": float(energy_distance(x["cg"], x["cfg"])), "seeds": float(energy_distance(x["cg"], x["cg_seed"]))}


def fidelity():
    """Step 7's figures from the shipped MNIST records: ``(precision against recall, FID against k)``; None
    without MNIST records."""
    from ui import records

    if not any(r.get("dataset") == "mnist" for r in records.records()):
        return None
    return (records.tradeoff_figure("mnist", FIDELITY_METHODS, height=500),
            dict(records.metric_figures("mnist", FIDELITY_METHODS))["fid"])


def _autoguidance_title(method: str) -> str:
    return f"{registry.short(method)}, w = {AUTOGUIDANCE[0].scale:g}"


@shared_cache(4)
def autoguidance(present: bool = False) -> tuple:
    """CFG against autoguidance at the same w, on the near-and-far mixture (exact models)."""
    from ui import toy

    return tuple(_shown(toy.samples_fig(toy.preset_json(NEAR_FAR), "exact", r, toy.held_against(r.method, r.scale),
                                        _autoguidance_title(r.method)), present) for r in AUTOGUIDANCE)


@shared_cache(4)
def autoguidance_facts() -> dict:
    """Step 8: the far component's share of CFG's and autoguidance's samples and of p(x|y); the spread of
    autoguidance's samples within class y's components (sd per axis, pooled) against the components' own."""
    import numpy as np
    import torch

    from cgd.toy.views import nearest_component
    from ui import toy

    mj = toy.preset_json(NEAR_FAR)
    mix = toy.mixture_of(mj)
    cfg, ag = AUTOGUIDANCE
    x = toy.guided_run(mj, "exact", ag).samples
    near = nearest_component(mix, torch.from_numpy(x)).numpy()
    own = [k for k in range(mix.num_components) if int(mix.labels[k]) == ag.label]
    dev = np.concatenate([x[near == k] - mix.means[k].numpy() for k in own])
    exact_sd = float(np.sqrt(np.mean([float(torch.diagonal(mix.covs[k]).mean()) for k in own])))
    return {"cfg_far": _far_share(cfg), "auto_far": _far_share(ag), "exact": _far_mass(ag.label),
            "spread": float(np.sqrt((dev ** 2).mean())), "exact_spread": exact_sd, "n": ag.n, "w": ag.scale}


def autoguidance_table() -> list:
    """Step 8's records: per dataset, the conditional model (w = 0) and autoguidance at each measured w, seed 0
    (n = 500, 25 steps), with the mean ± sd over seeds where the same setting was measured with other seeds
    (results/spread/). ``[{dataset, w, fid, precision, recall, judge, seeds: {metric: (mean, sd, count)}}]``."""
    import statistics

    from cgd.results import RESULTS_DIR, load_records, sweep
    from ui import records

    recs = records.records()
    spread = load_records(RESULTS_DIR / "spread")
    ag = AUTOGUIDANCE[1].method
    rows = []
    for dataset in ("mnist", "fashion-mnist"):
        for r in sweep(recs, dataset, ag):
            method = registry.anchor(ag) if r["scale"] == 0 else ag
            same = [q for q in recs + spread if q.get("dataset") == dataset and q.get("method") == method
                    and float(q.get("scale", -1)) == float(r["scale"]) and q.get("n") == r.get("n")
                    and q.get("steps") == r.get("steps")]
            by_seed = {q.get("seed"): q for q in same}
            seeds = {m: (statistics.mean(v), statistics.stdev(v), len(v)) for m in ("fid", "precision")
                     for v in [[q[m] for q in by_seed.values()]] if len(v) > 1}
            rows.append({"dataset": dataset, "w": float(r["scale"]), "fid": r.get("fid"), "precision": r.get("precision"),
                         "recall": r.get("recall"), "judge": r.get("judge_accuracy"), "n": r.get("n"),
                         "steps": r.get("steps"), "seeds": seeds})
    return rows


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
    shown = tuple(r.method for r in AUTOGUIDANCE)
    if atlas is None or not all(m in atlas.config.methods and w in atlas.scales(m) for m in shown):
        return None
    out = []
    for method in shown:
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
    if atlas is not None and r.method in atlas.config.methods and atlas.config.n >= r.n and \
            all(s in atlas.scales(r.method) for s in IMAGE_SCALES):
        cells = [atlas.cell(r.method, r.label, s) for s in IMAGE_SCALES]
        return "atlas", [(s, c["images"][:r.n], float(c["judge"][:r.n].astype(float).mean()))
                         for s, c in zip(IMAGE_SCALES, cells)]
    res = images.generate("mnist", str(images.checkpoint_root()), r.at_scales(IMAGE_SCALES))
    return "live", [(s, res.images[k * r.n:(k + 1) * r.n], float(res.judge_conf[k * r.n:(k + 1) * r.n].mean()))
                    for k, s in enumerate(IMAGE_SCALES)]


def image_steps(source: str) -> int:
    """The sampling steps behind step 6's images: the atlas's when they come from it, else the live request's."""
    from ui import atlas as ui_atlas

    atlas = ui_atlas.get("mnist")[0] if source == "atlas" else None
    return int(atlas.config.steps) if atlas is not None else IMAGE_REQUEST.steps


def image_facts(row) -> dict:
    """Step 6, from the images shown: the judge's mean p(y|x) per column and the mean pixel difference between
    two images of a column (smaller: more alike), each per scale."""
    import numpy as np

    judge, apart = [], []
    for _, imgs, j in row:
        x = imgs.astype(np.float64) / 255.0
        n = len(x)
        apart.append(float(np.mean([np.abs(x[a] - x[b]).mean() for a in range(n) for b in range(a + 1, n)])))
        judge.append(j)
    return {"scales": [s for s, _, _ in row], "judge": judge, "apart": apart}
