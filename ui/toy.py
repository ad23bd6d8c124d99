"""Cached 2D computations for the pages (keys are plain values: mixture JSON, request fields)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os

from ui import figures
from cgd.errors import InputError, NonFiniteError
from cgd.methods import held_against  # noqa: F401 - the pages' name: k of the red dashed density p(x)·p(y|x)^k
from cgd.pipeline import SampleRequest, scale_symbol, tilt_exponent  # noqa: F401 - the pages' names
from cgd.toy.learned import ToyTrainConfig
from cgd.toy.mixture import Mixture, load_mixture, presets
from cgd.toy.sampling import default_schedule, exact_models, learned_models
from cgd.toy.views import (class_posterior_grid, compare_guidance, corrector_sweep, extent, far_component, log_grid,
                           run_guided_scales, sampler_sweep, sweep_scales)
from ui import methods as registry
from ui import worker
from ui.shared import shared_cache

SCHEDULE = default_schedule()

# The 2D page's scale slider: 0 to 10 in steps of 0.1.
SCALE_MIN, SCALE_MAX, SCALE_STEP = 0.0, 10.0, 0.1
# With the exact models a 1000-point, 100-step run costs ~67 ms, most of it per-op overhead that
# does not grow with the batch: 20 slider values sampled together (one batch of 20k points, common
# random numbers) cost ~0.18 s (bench/run.py). So a new scale brings its neighbours on the slider.
# The learned MLPs are compute-bound: batching saves them nothing, and they run one scale at a time.
CHUNK_POINTS = {"exact": 20_000, "learned": 0}
# the slider's values, canonical (the page reads the slider's position with slider_index, once)
SLIDER = tuple(round(SCALE_MIN + i * SCALE_STEP, 10) for i in range(round((SCALE_MAX - SCALE_MIN) / SCALE_STEP) + 1))


@functools.lru_cache(maxsize=64)
def mixture_of(mixture_json: str) -> Mixture:
    """The parsed, validated mixture of a JSON text (parsed once; never modified)."""
    return Mixture.from_json(mixture_json)


def upload_json(data: bytes) -> str:
    """The canonical JSON of an uploaded mixture file (validated; a bad file raises a one-line InputError)."""
    return json.dumps(Mixture.from_json(data).to_dict())


@functools.lru_cache(maxsize=1)
def preset_names() -> tuple:
    """The preset mixtures' names, sorted (``toy_data/`` is read once per server)."""
    return tuple(sorted(presets()))


@functools.lru_cache(maxsize=32)
def preset_json(name: str) -> str:
    return json.dumps(load_mixture(presets()[name]).to_dict())


@shared_cache(8)
def learned(mixture_json: str, *, _progress=None):
    """Small MLPs trained on the mixture, once per mixture, shared by every user (never modified after).

    ``_progress`` (not part of the cache key) draws the training's progress into the page of the
    user whose request trains them; users asking meanwhile wait for that one training.
    """
    steps = int(os.environ.get("CGD_TOY_TRAIN_STEPS", ToyTrainConfig.steps))
    cfg = ToyTrainConfig(steps=steps, classifier_steps=min(ToyTrainConfig.classifier_steps, steps))
    return learned_models(mixture_of(mixture_json), SCHEDULE, cfg, callback=_progress)


def models(mixture_json: str, kind: str, _progress=None):
    """``(eps_net, classifier)`` of a kind: "exact", "learned", or a run of the Training page (ui.training)."""
    if kind == "learned":
        return learned(mixture_json, _progress=_progress)
    if kind != "exact":
        from ui import training

        return training.models_of(mixture_json, kind)
    return exact_models(mixture_of(mixture_json), SCHEDULE)


def _local(mixture_json: str, kind: str):
    """The models a run of ``kind`` takes to ui.worker.run: None for the exact ones (the worker builds them)."""
    return None if kind == "exact" else models(mixture_json, kind)


def model_kinds(mixture_json: str) -> list:
    """The choice of models on the 2D page: exact, learned, and the runs this session trained on the Training page."""
    from ui import training

    return training.model_kinds(mixture_json)


# Shared, read-only results: shared_cache hands every session the same object (no pickled copy
# per rerun, which for a recorded run and its figures costs more than drawing them). Nothing below
# mutates what it returns, and the pages only pass these objects to st.plotly_chart, which copies.

def slider_index(value: float) -> int:
    """The slider position of a value the browser sent (2.3000000000000003 is position 23 of :data:`SLIDER`):
    where the page reads its slider, once; InputError (one line) for a value off the slider."""
    i = round((float(value) - SCALE_MIN) / SCALE_STEP)
    if not 0 <= i < len(SLIDER) or abs(SLIDER[i] - float(value)) > 1e-9:
        raise InputError(f"{value!r} is not on the scale slider ({SCALE_MIN:g} to {SCALE_MAX:g} in steps of "
                         f"{SCALE_STEP:g})")
    return i


def slider_chunk(i: int, n: int, kind: str) -> tuple:
    """The slider values sampled in one batch with position ``i``: its block of ``CHUNK_POINTS[kind] // n``
    positions (``(SLIDER[i],)`` alone when the block would hold fewer than two)."""
    size = CHUNK_POINTS.get(kind, 0) // max(int(n), 1)
    if size < 2:
        return (SLIDER[i],)
    first = (i // size) * size
    return SLIDER[first:first + size]


class _Alone(dict):
    """The runs of a chunk that diverged as a whole: each scale is run alone when asked, so only a diverging
    scale says so (shared; filled as the scales are asked)."""

    def __init__(self, mixture_json: str, kind: str, request: SampleRequest, record: int, keep: int):
        super().__init__()
        self._args = mixture_json, kind, request, record, keep

    def __missing__(self, scale):
        mixture_json, kind, request, record, keep = self._args
        return guided_runs(mixture_json, kind, request.at_scales((scale,)), record, keep)[scale]


@shared_cache(48)
def guided_runs(mixture_json: str, kind: str, request: SampleRequest, record: int = 20, keep: int = 300) -> dict:
    """``{scale: recorded run}`` for each of ``request.scales``, sampled in one batch (common random numbers);
    keyed by the request's own scales, as :func:`cgd.pipeline.by_scale` keys images. Shared: not modified.

    If the batch diverges (NonFiniteError) and holds several scales, each scale is run alone when asked."""
    try:
        runs = worker.run(run_guided_scales, mixture_json, request, models=_local(mixture_json, kind), record=record,
                          keep=keep)
    except NonFiniteError:
        if len(request.scales) == 1:
            raise
        return _Alone(mixture_json, kind, request, record, keep)
    return dict(zip(request.scales, runs))


def run_scale(request: SampleRequest, at: float | None = None) -> float:
    """The scale a run of ``request`` is at: ``at`` (one of ``request.scales``), or the request's one scale."""
    return request.scale if at is None else at


def guided_run(mixture_json: str, kind: str, request: SampleRequest, record: int = 20, keep: int = 300,
               at: float | None = None):
    """The recorded run at scale ``at`` of ``request.scales`` (None: the request's one scale); shared."""
    return guided_runs(mixture_json, kind, request, record, keep)[run_scale(request, at)]


# Density grids: 100 x 100 cells (two contour grids of 100^2 float32 make most of a samples
# figure's 0.14 MB, which Streamlit hashes and sends on every rerun).
GRID_RES = 100


@shared_cache(64)
def _log_grid(mixture_json: str, label: int):
    return log_grid(mixture_of(mixture_json), label, res=GRID_RES, box=box(mixture_json))


@shared_cache(128)
def densities(mixture_json: str, label: int, exponent: float):
    """p(x|y), p(x) and the tilted density of ``exponent`` (the grid's logs are computed once per class)."""
    return _log_grid(mixture_json, label).tilt(exponent)


@shared_cache(512)
def posterior(mixture_json: str, label: int, alpha_bar: float, view: tuple | None = None):
    """``(xs, p_t(y|x))`` on the grid of ``view`` (default: the mixture's box) at the noise level ``alpha_bar``."""
    return class_posterior_grid(mixture_of(mixture_json), label, alpha_bar, box=view or box(mixture_json))


@shared_cache(64)
def sweep(mixture_json: str, kind: str, request: SampleRequest):
    """:func:`cgd.toy.views.sweep_scales` at each of ``request.scales``."""
    return worker.run(sweep_scales, mixture_json, request, models=_local(mixture_json, kind))


def samples_fig(mixture_json: str, kind: str, request: SampleRequest, exponent: float, title: str,
                at: float | None = None):
    """Guided samples over p(x|y) and the tilted density (built once per inputs, shared)."""
    run = guided_run(mixture_json, kind, request, at=at)
    dens = densities(mixture_json, request.label, exponent)
    mix = mixture_of(mixture_json)
    others = mix.means[mix.labels != request.label].numpy()
    return figures.samples_figure(dens, run.samples, label=request.label, exponent=exponent,
                                  method=request.method, title=title, others=others)


# The time scrubber draws the means and shift arrows of this many points (the same ones at every t),
# over the x_t cloud of all recorded points: more arrows merge into one red mass.
SCRUB_ARROWS = 60


@shared_cache(256)
def scrub_view(mixture_json: str, kind: str, request: SampleRequest, at: float | None = None) -> tuple:
    """``(gain, (lo, hi))`` for every step of the run's time scrubber: one arrow magnification (the 1-2-5
    factor of the step whose median shift is largest, so late small shifts look small) and one box holding
    every point any step draws (the same axes at every t)."""
    import numpy as np

    run = guided_run(mixture_json, kind, request, at=at)
    lo, hi = box(mixture_json)
    snaps = [dataclasses.replace(s, mu=s.mu[:SCRUB_ARROWS], shift=s.shift[:SCRUB_ARROWS]) for s in run.snapshots]
    largest = max(snaps, key=lambda s: float(np.median(np.linalg.norm(s.shift, axis=1))) if len(s.shift) else 0.0)
    gain = figures.arrow_gain(largest.shift, hi - lo)
    for s in snaps:
        lo, hi = figures.step_view(s, gain, lo, hi)
    return gain, (lo, hi)


@shared_cache(512)
def step_fig(mixture_json: str, kind: str, request: SampleRequest, t: int, at: float | None = None):
    """One recorded reverse step of the run over the exact p_t(y|x) at that step, the classes' p(x|y) drawn
    as contours; the axes and the arrows' magnification are those of the whole scrub (:func:`scrub_view`)."""
    run = guided_run(mixture_json, kind, request, at=at)
    snap = next(s for s in run.snapshots if s.t == t)
    gain, view = scrub_view(mixture_json, kind, request, at)
    xs, post = posterior(mixture_json, request.label, snap.alpha_bar, None if view == box(mixture_json) else view)
    name = "shift sΣg" if registry.mean_shift(request.method) else "change of the mean"
    mix = mixture_of(mixture_json)
    classes = [(dens.xs, dens.cond, f"p(x | y={c}) (data)", figures.BLACK if c == request.label else figures.GREY,
                "solid" if c == request.label else "dot")
               for c in range(mix.num_classes) for dens in [densities(mixture_json, c, 1.0)]]
    return figures.step_figure(xs, post, snap, label=request.label, gain=gain, shift_name=name,
                               title=f"t = {snap.t}, Σ = {snap.var:.2g}", arrows=SCRUB_ARROWS, classes=classes)


@shared_cache(512)
def shift_size(mixture_json: str, kind: str, request: SampleRequest, t: int, at: float | None = None) -> tuple:
    """``(median |shift|, median |shift| / box width, arrow gain)`` of the recorded step at ``t`` (the gain is
    the whole scrub's, :func:`scrub_view`)."""
    import numpy as np

    run = guided_run(mixture_json, kind, request, at=at)
    snap = next(s for s in run.snapshots if s.t == t)
    lo, hi = box(mixture_json)
    med = float(np.median(np.linalg.norm(snap.shift, axis=1))) if len(snap.shift) else 0.0
    return med, med / (hi - lo), scrub_view(mixture_json, kind, request, at)[0]


@shared_cache(256)
def trajectory_fig(mixture_json: str, kind: str, request: SampleRequest, at: float | None = None):
    run = guided_run(mixture_json, kind, request, at=at)
    dens = densities(mixture_json, request.label, 1.0)
    return figures.trajectory_figure(run.path, [s.t for s in run.snapshots], dens.xs[0], dens.xs[-1], grid=dens,
                                     method=request.method,
                                     marginal=tilt_exponent(request.method, run_scale(request, at)) == 0)


@shared_cache(64)
def sweep_fig(mixture_json: str, kind: str, request: SampleRequest, knob: str, current: float | None = None):
    return figures.sweep_figure(sweep(mixture_json, kind, request), label=request.label, knob=knob,
                                current=current, method=request.method)


@shared_cache(32)
def sampler_points(mixture_json: str, kind: str, request: SampleRequest):
    """DDPM vs DDIM classifier guidance against the tilted density, at each of ``request.scales`` (``[]``: one
    component)."""
    return worker.run(sampler_sweep, mixture_json, request, models=_local(mixture_json, kind))


def far_of(mixture_json: str, label: int):
    return far_component(mixture_of(mixture_json), label)


@shared_cache(64)
def sampler_fig(mixture_json: str, kind: str, request: SampleRequest, current: float | None = None):
    pts = sampler_points(mixture_json, kind, request)
    if not pts:
        return None
    return figures.sampler_figure(pts, label=request.label, far=far_of(mixture_json, request.label),
                                  current=current)


@functools.lru_cache(maxsize=64)
def box(mixture_json: str):
    return extent(mixture_of(mixture_json))


@shared_cache(32)
def compare_points(mixture_json: str, request: SampleRequest, methods: tuple) -> list:
    """:func:`cgd.toy.views.compare_guidance` at each of ``request.scales`` with the exact models (autoguidance's
    weak model: covariances x2)."""
    return worker.run(compare_guidance, mixture_json, request, methods)


@shared_cache(32)
def compare_fig(mixture_json: str, request: SampleRequest, methods: tuple, current: float):
    """CFG against autoguidance (exact models; autoguidance's weak model: covariances x2) over w."""
    return figures.compare_figure(compare_points(mixture_json, request, methods), label=request.label,
                                  current=current)


@shared_cache(32)
def corrector_points(mixture_json: str, request: SampleRequest, ks: tuple) -> list:
    """:func:`cgd.toy.views.corrector_sweep` with the exact models."""
    return worker.run(corrector_sweep, mixture_json, request, ks)


@shared_cache(32)
def corrector_fig(mixture_json: str, request: SampleRequest, ks: tuple):
    """Langevin corrector steps K against the exact tilted density (exact models)."""
    return figures.corrector_figure(corrector_points(mixture_json, request, ks), method=request.method)


def scale_for_exponent(method: str, k: float) -> float:
    """The slider value at which ``method``'s tilt exponent is ``k``: :func:`tilt_exponent` is affine in the scale,
    so this is its inverse, rounded to the slider's step and clipped to its range (the page says when it clips)."""
    at0 = tilt_exponent(method, 0.0)
    scale = (float(k) - at0) / (tilt_exponent(method, 1.0) - at0)
    return min(max(round(round(scale / SCALE_STEP) * SCALE_STEP, 10), SCALE_MIN), SCALE_MAX)


# how many of the shown samples the distance to the exact tilted density uses (energy distance costs n^2)
DISTANCE_POINTS = 1000


@shared_cache(128)
def distance_to_tilted(mixture_json: str, kind: str, request: SampleRequest, exponent: float,
                       at: float | None = None) -> tuple:
    """``(D², noise floor, m)``: squared energy distance from the first ``m`` shown samples of the run to as many
    exact samples of p(x)·p(y|x)^exponent, and between two independent exact sets of that size (the floor)."""
    import torch

    from cgd.stats import energy_distance
    from cgd.toy.oracle import tilted_samples

    x0 = torch.from_numpy(guided_run(mixture_json, kind, request, at=at).samples[:DISTANCE_POINTS])
    gen = torch.Generator().manual_seed(request.seed + 1_000_003)
    # one draw of twice as many exact samples (one grid), split into two independent sets
    ref, ref2 = tilted_samples(mixture_of(mixture_json), request.label, float(exponent), 2 * len(x0), gen,
                               res=256).split(len(x0))  # 1/255 of the box: below what D^2 of 1000 resolves
    return energy_distance(x0, ref), energy_distance(ref, ref2), len(x0)


def component_shares(mixture_json: str, kind: str, request: SampleRequest, at: float | None = None) -> list:
    """Share of the request's samples nearest (by responsibility at t = 0) to each mixture component."""
    import numpy as np
    import torch

    from cgd.toy.views import nearest_component

    x = torch.from_numpy(guided_run(mixture_json, kind, request, at=at).samples)
    mix = mixture_of(mixture_json)
    return (np.bincount(nearest_component(mix, x).numpy(), minlength=mix.num_components) / len(x)).tolist()
