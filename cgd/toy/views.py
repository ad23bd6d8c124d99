"""What the 2D page shows, as numbers: density grids, recorded sampling runs, scale sweeps.

Everything here is exact where the mixture makes it exact:

* ``log p(x | y)`` and the *tilted* density ``p_s(x | y) ∝ p(x) p(y | x)^s`` on a grid
  (normalised over the grid cells), so the page can show that guided sampling at s != 1 does
  not sample the tilted density (the guided reverse process is not the tilted one's);
* ``p_t(y | x)`` at any step, the heat map under the mean-shift arrows.

Arrays come back as float64 numpy arrays, ready for plotting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import torch

from cgd import methods as registry
from cgd.pipeline import SampleRequest, guided_sample
from cgd.schedule import NoiseSchedule
from cgd.toy.mixture import Mixture
from cgd.toy.sampling import default_schedule, exact_models, networks, toy_sample

__all__ = ["extent", "DensityGrid", "LogGrid", "log_grid", "density_grid", "class_posterior_grid", "Snapshot", "GuidedRun",
           "run_guided", "run_guided_scales", "snapshot_steps", "sweep_scales", "SweepPoint", "SamplerPoint",
           "far_component", "nearest_component", "sampler_sweep", "GuidePoint", "compare_guidance",
           "CorrectorPoint", "corrector_sweep"]


def extent(mixture: Mixture, margin: float = 3.5) -> tuple:
    """Square plotting box ``(lo, hi)`` holding the data (means ± margin·sd) and the N(0, I) noise."""
    sd = torch.linalg.eigvalsh(mixture.covs).max(dim=1).values.sqrt()
    lo = float((mixture.means - margin * sd[:, None]).min())
    hi = float((mixture.means + margin * sd[:, None]).max())
    lo, hi = min(lo, -3.0), max(hi, 3.0)
    return lo, hi


def _grid(lo: float, hi: float, res: int):
    xs = np.linspace(lo, hi, res)
    gx, gy = np.meshgrid(xs, xs)  # rows: y, columns: x (plotly's z[row][col])
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
    return xs, pts


@dataclass(frozen=True)
class DensityGrid:
    """Densities on a res x res grid; ``z[row, col]`` is at ``(x=xs[col], y=xs[row])``."""

    xs: np.ndarray
    cond: np.ndarray  # p(x | y), normalised over the grid
    tilted: np.ndarray  # p(x) p(y | x)^s, normalised over the grid
    marginal: np.ndarray  # p(x)


@dataclass(frozen=True)
class LogGrid:
    """``log p(x)`` and ``log p(y | x)`` at t = 0 on a res x res grid (flattened ``[res * res]``).

    Everything :class:`DensityGrid` shows for one class, before the scale: :meth:`tilt` makes the
    densities of any scale from it in a few array operations.
    """

    xs: np.ndarray
    log_px: np.ndarray
    log_post: np.ndarray

    def tilt(self, scale: float) -> DensityGrid:
        """p(x|y) = p(x) p(y|x), the tilted p(x) p(y|x)^s and p(x), each normalised over the grid cells."""
        res = len(self.xs)
        cell = (self.xs[1] - self.xs[0]) ** 2

        def normalised(logd):
            p = np.exp(logd - logd.max())
            return (p / (p.sum() * cell)).reshape(res, res)

        return DensityGrid(self.xs, normalised(self.log_px + self.log_post),
                           normalised(self.log_px + scale * self.log_post), normalised(self.log_px))


def log_grid(mixture: Mixture, label: int, *, res: int = 120, box: Optional[tuple] = None) -> LogGrid:
    """Exact log p(x) and log p(y | x) at t = 0 on the plotting grid."""
    lo, hi = box or extent(mixture)
    xs, pts = _grid(lo, hi, res)
    log_joint = mixture.class_log_joint(pts, 1.0)  # log p(x, y) [N, C]
    log_px = torch.logsumexp(log_joint, 1)
    return LogGrid(xs, log_px.numpy(), (log_joint[:, label] - log_px).numpy())


def density_grid(mixture: Mixture, label: int, scale: float, *, res: int = 120,
                 box: Optional[tuple] = None) -> DensityGrid:
    """Exact p(x|y), p(x) and the tilted density p(x) p(y|x)^s at t = 0."""
    return log_grid(mixture, label, res=res, box=box).tilt(scale)


def class_posterior_grid(mixture: Mixture, label: int, alpha_bar: float, *, res: int = 80,
                         box: Optional[tuple] = None):
    """``(xs, p_t(y | x) [res, res])`` at the noise level alpha_bar."""
    lo, hi = box or extent(mixture)
    xs, pts = _grid(lo, hi, res)
    post = torch.softmax(mixture.class_log_joint(pts, alpha_bar), 1)[:, label]
    return xs, post.reshape(res, res).numpy()


@dataclass(frozen=True)
class Snapshot:
    """One recorded reverse step: ``x_t``, the unguided mean ``mu`` and the guidance ``shift`` ([m, 2])."""

    i: int
    t: int
    alpha_bar: float
    var: float
    x_t: np.ndarray
    mu: np.ndarray
    shift: np.ndarray


@dataclass(frozen=True)
class GuidedRun:
    samples: np.ndarray  # [n, 2]
    snapshots: tuple  # Snapshot per recorded step, in sampling order
    path: np.ndarray  # [frames, m, 2]: x_t of the first m points at the recorded steps, then x_0


def snapshot_steps(steps: int, count: int) -> list:
    """Indices i of the sampling grid to record: ``count`` evenly spaced, always the first and last."""
    count = max(2, min(count, steps))
    return sorted({round(k * (steps - 1) / (count - 1)) for k in range(count)})


def run_guided(mixture: Mixture, request: SampleRequest, *, models=None, schedule: Optional[NoiseSchedule] = None,
               record: int = 20, keep: int = 300) -> GuidedRun:
    """Sample a one-scale request with guidance and record ``record`` steps of the first ``keep`` points."""
    return run_guided_scales(mixture, request.at_scales((request.scale,)), models=models, schedule=schedule,
                             record=record, keep=keep)[0]


def run_guided_scales(mixture: Mixture, request: SampleRequest, *, models=None,
                      schedule: Optional[NoiseSchedule] = None, record: int = 20, keep: int = 300) -> tuple:
    """:func:`run_guided` at each of ``request.scales`` in one batched run: one :class:`GuidedRun` per scale.

    The copies share x_T and every step's noise (common random numbers), so copy k is the run that
    ``run_guided`` makes at ``scales[k]`` with the same seed; one batch of ``len(scales) * n`` points
    costs far less than the separate runs, whose per-step cost is mostly fixed overhead.
    """
    schedule = schedule or default_schedule()
    r = request.validated(mixture.num_classes, schedule.T)
    net, clf, weak = networks(mixture, r, models, schedule)
    grid = schedule.grid(r.steps)
    want = set(snapshot_steps(r.steps, record))
    m = min(keep, r.n)
    copies = len(r.scales)
    kept = torch.cat([torch.arange(k * r.n, k * r.n + m) for k in range(copies)])  # first m of each copy
    snaps = [[] for _ in range(copies)]

    def callback(d):
        if d["i"] in want and m > 0:
            var = d["var"]
            var = float(var.flatten()[0]) if torch.is_tensor(var) else float(var)
            x_t, mu, shift = (d[k][kept].double().numpy() for k in ("x_t", "mu", "shift"))
            for k in range(copies):
                own = slice(k * m, (k + 1) * m)
                snaps[k].append(Snapshot(d["i"], d["t"], float(grid.alpha_bar[d["i"]]), var,
                                         x_t[own], mu[own], shift[own]))

    x0 = guided_sample(net, clf, schedule, r, shape=(2,), num_classes=mixture.num_classes, callback=callback,
                       weak_net=weak)
    samples = x0.double().numpy()
    runs = []
    for k in range(copies):
        own = samples[k * r.n:(k + 1) * r.n]
        path = np.stack([s.x_t for s in snaps[k]] + [own[:m]])
        runs.append(GuidedRun(own, tuple(snaps[k]), path))
    return tuple(runs)


@dataclass(frozen=True)
class SweepPoint:
    scale: float
    share_y: float  # share of samples whose Bayes class (argmax exact p(y | x_0)) is y
    spread: float  # sqrt of the mean of the per-coordinate variances of the samples
    mean_log_post: float  # mean log p(y | x_0)


def sweep_scales(mixture: Mixture, request: SampleRequest, *, models=None,
                 schedule: Optional[NoiseSchedule] = None) -> list:
    """Run ``request`` at each of its scales (same seed) and measure how typical and how spread the samples are."""
    schedule = schedule or default_schedule()
    models = models or exact_models(mixture, schedule)
    out = []
    scales = request.scales
    x0_all = toy_sample(mixture, request, models=models, schedule=schedule).double()
    y = request.label
    for s, x0 in zip(scales, x0_all.reshape(len(scales), -1, 2)):
        log_post = torch.log_softmax(mixture.class_log_joint(x0, 1.0), 1)
        share = float((log_post.argmax(1) == y).double().mean())
        spread = math.sqrt(float(x0.var(0).mean()))
        out.append(SweepPoint(float(s), share, spread, float(log_post[:, y].mean())))
    return out


@dataclass(frozen=True)
class SamplerPoint:
    """At one scale: the share of samples in class y's far component for each sampler, and the exact answer."""

    scale: float
    far_ddpm: float  # cg-ddpm (the reverse SDE, ancestral steps)
    far_ddim: float  # cg-ddim at eta = 0 (the probability-flow ODE)
    far_tilted: float  # the tilted density p(x) p(y|x)^s of the data (exact, on a fine grid)


def far_component(mixture: Mixture, label: int) -> Optional[int]:
    """The component of class y where the exact p(y|x) at its mean is highest (the one guidance favours).

    None when class y has a single component (then every sampler puts all of y's samples in it).
    """
    own = [k for k, c in enumerate(mixture.labels.tolist()) if c == label]
    if len(own) < 2:
        return None
    log_post = torch.log_softmax(mixture.class_log_joint(mixture.means, 1.0), 1)[:, label]
    return max(own, key=lambda k: float(log_post[k]))


def nearest_component(mixture: Mixture, x: torch.Tensor) -> torch.Tensor:
    """``[B]`` index of the component with the highest responsibility at t = 0 for each point."""
    return mixture.component_log_prob(x.double(), 1.0).argmax(1)


def sampler_sweep(mixture: Mixture, request: SampleRequest, *, models=None,
                  schedule: Optional[NoiseSchedule] = None, res: int = 240) -> list:
    """DDPM against DDIM classifier guidance at each of ``request.scales``, against the tilted density of the data.

    ``request`` gives label, steps, n, seed and the scales s (its method is ignored: CG on each sampler). The guided score
    is the score of p_t(x) p_t(y|x)^s at every level, but those tilted marginals are not the
    marginals of one diffusion, so the SDE (DDPM) and the ODE (DDIM, eta = 0) driven by the same
    score field end at different distributions, and neither at p(x) p(y|x)^s.
    Returns one :class:`SamplerPoint` per scale (an empty list when class y has one component).
    """
    far = far_component(mixture, request.label)
    if far is None:
        return []
    schedule = schedule or default_schedule()
    models = models or exact_models(mixture, schedule)
    scales = request.scales
    shares = {}
    for sampler in ("ddpm", "ddim"):  # classifier guidance of the unconditional model, on each sampler
        req = replace(request, method=registry.cg_on(sampler), sampler=None, gradient_at="x_t", eta=0.0)
        x0 = toy_sample(mixture, req, models=models, schedule=schedule).double()
        hit = (nearest_component(mixture, x0) == far).double().reshape(len(scales), -1).mean(1)
        shares[sampler] = hit.tolist()
    lo, hi = extent(mixture)
    xs, pts = _grid(lo, hi, res)
    on_far = (nearest_component(mixture, pts) == far).numpy()
    lg = log_grid(mixture, request.label, res=res, box=(lo, hi))
    out = []
    for k, s in enumerate(scales):
        tilted = lg.tilt(s).tilted.ravel()
        out.append(SamplerPoint(s, shares["ddpm"][k], shares["ddim"][k],
                                float(tilted[on_far].sum() / tilted.sum())))
    return out


@dataclass(frozen=True)
class GuidePoint:
    """How a method's samples at one scale compare with the exact p(x|y)."""

    method: str
    scale: float
    share_y: float  # share whose Bayes class is y
    spread: float  # sd of the samples
    far_share: Optional[float]  # share in class y's far component (None: one component)
    to_conditional: float  # squared energy distance to exact samples of p(x|y)


def compare_guidance(mixture: Mixture, request: SampleRequest, methods, *, models=None, weak=None,
                     schedule: Optional[NoiseSchedule] = None) -> list:
    """Each of ``methods`` at each of ``request.scales`` (same seed, one batch per method) against the exact p(x|y).

    ``request`` gives label, steps, n, seed and the scales (its method is replaced by each of ``methods``). Used to set CFG against autoguidance at the same w.
    """
    from cgd.stats import energy_distance

    schedule = schedule or default_schedule()
    models = models or exact_models(mixture, schedule)
    scales = request.scales
    gen = torch.Generator().manual_seed(request.seed + 7_919)
    ref = mixture.sample(request.n, gen, y=request.label)[0].double()
    far = far_component(mixture, request.label)
    out = []
    for method in methods:
        req = replace(request, method=method, sampler=None)
        x_all = toy_sample(mixture, req, models=models, schedule=schedule, weak=weak).double()
        for s, x0 in zip(scales, x_all.reshape(len(scales), -1, 2)):
            share = float((mixture.class_log_joint(x0, 1.0).argmax(1) == request.label).double().mean())
            far_share = None if far is None else float((nearest_component(mixture, x0) == far).double().mean())
            out.append(GuidePoint(method, s, share, math.sqrt(float(x0.var(0).mean())), far_share,
                                  energy_distance(x0, ref)))
    return out


@dataclass(frozen=True)
class CorrectorPoint:
    steps: int  # Langevin corrector steps K after each sampling step
    to_tilted: float  # squared energy distance to exact samples of p(x) p(y|x)^k
    far_share: Optional[float]
    noise_floor: float


def corrector_sweep(mixture: Mixture, request: SampleRequest, ks, *, models=None,
                    schedule: Optional[NoiseSchedule] = None) -> list:
    """``request`` with K = each of ``ks`` corrector steps, against exact samples of the tilted density."""
    from cgd.toy.oracle import exact_references, measure

    schedule = schedule or default_schedule()
    models = models or exact_models(mixture, schedule)
    refs = exact_references(mixture, request.validated(mixture.num_classes, schedule.T), res=512)
    out = []
    for k in ks:
        m = measure(mixture, SampleRequest(**{**request.__dict__, "corrector_steps": int(k)}), models=models,
                    schedule=schedule, references=refs)
        out.append(CorrectorPoint(int(k), m.to_tilted, m.far_share, m.noise_floor))
    return out
