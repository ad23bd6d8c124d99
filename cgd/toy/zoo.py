"""The guidance zoo: every guided method of the registry on the exact 2D oracle, at one matched setting.

Each method is set where it is comparable with the others:

* a method with a tilt exponent (CG: k = s, cond+CG: k = 1 + s, CFG: k = 1 + w) at k = ``k0``;
* a method without one (autoguidance, APG, CFG++, CFG-Zero*, CFG with a rising w(t)) at the scale where its
  share of class y matches that of the exact tilted density p(x) p(y|x)^k0 (found on a sweep of its scales:
  interpolated between the two that straddle it and narrowed by a few runs, to within ``SHARE_TOLERANCE``).

At that setting the zoo measures the share of class y (Bayes class, argmax of the exact p(y|x)), the spread
(square root of the mean per-coordinate variance), and the squared energy distance to exact samples of
p(x|y) and of the tilted density p(x) p(y|x)^k0 (:mod:`cgd.toy.oracle`), beside the noise floor of two exact
sets. The sweeps are kept too (share, spread and distance to p(x|y) against the scale), with the same numbers
for p(x) p(y|x)^k over k (share and spread exact on the fine grid, the distance from exact samples): the curve
every sampler is held against.

    python docs/zoo_2d.py --mixture overlapping --label 0 --steps 100 --n 1000 --seed 0 --k 3
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch

from cgd import methods as registry
from cgd.pipeline import SampleRequest
from cgd.schedule import NoiseSchedule
from cgd.stats import energy_distance
from cgd.toy.mixture import Mixture
from cgd.toy.oracle import tilted_samples
from cgd.toy.sampling import default_schedule, exact_models, toy_sample
from cgd.toy.views import log_grid

__all__ = ["ZooEntry", "ZOO", "SWEEP_SCALES", "ZooRow", "ZooCurve", "Zoo", "guidance_zoo", "cloud_stats", "zoo_dict"]


@dataclass(frozen=True)
class ZooEntry:
    """One line of the zoo: a registry method, optionally with a rising guidance schedule."""

    method: str
    schedule: str = "constant"

    @property
    def key(self) -> str:
        return self.method if self.schedule == "constant" else f"{self.method}/{self.schedule}"

    @property
    def label(self) -> str:
        m = registry.get(self.method)
        return m.short if self.schedule == "constant" else f"{m.short}, {self.schedule} {m.knob}(t)"


# every guided method of the registry, and the CFG-type ones that take a schedule once more with each rising w(t)
ZOO = tuple(ZooEntry(m.name) for m in registry.REGISTRY if m.guided) + tuple(
    ZooEntry(m.name, kind) for m in registry.REGISTRY if m.guided and m.schedules and m.tilt is not None
    for kind in ("linear", "cosine"))

# the sweep of each knob (from 0, the method's own range)
SWEEP_SCALES = {"s": (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0),
                "w": (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
                "λ": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)}
EXACT_KS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0)
# matching the share: interpolate between the swept scales that straddle it, run there, narrow, at most REFINE runs,
# until the run's share is within SHARE_TOLERANCE of the target
REFINE, SHARE_TOLERANCE = 4, 0.005

@dataclass(frozen=True)
class ZooRow:
    key: str
    method: str
    label: str
    knob: str
    scale: float
    matched_by: str  # "k" (set to k0 by its tilt) or "share" (set to the reference share)
    reached: bool  # False: no swept scale reached the share; the row is at the scale of its largest share
    sampler: str
    share_y: float
    spread: float
    to_conditional: float  # energy distance^2 to exact samples of p(x|y)
    to_tilted: float  # ... to exact samples of p(x) p(y|x)^k0


@dataclass(frozen=True)
class ZooCurve:
    """One method's sweep (or, key "exact", exact samples of p(x) p(y|x)^k over k): points in order of the scale."""

    key: str
    label: str
    scales: tuple
    share_y: tuple
    spread: tuple
    to_conditional: tuple


@dataclass(frozen=True)
class Zoo:
    k0: float
    target_share: float  # what the methods without k are matched to: the share of p(x) p(y|x)^k0
    exact_share: float  # the share of the exact tilted density p(x) p(y|x)^k0 (on the fine grid)
    exact_spread: float  # its spread (on the fine grid)
    noise_floor: float  # energy distance^2 between two independent exact sets of p(x) p(y|x)^k0
    rows: tuple
    curves: tuple
    steps: int
    n: int
    seed: int


def cloud_stats(mixture: Mixture, label: int, x: torch.Tensor) -> tuple:
    """``(share of class y, spread)`` of samples ``x [n, 2]``: the Bayes class by the exact p(y|x) at t = 0, and
    the square root of the mean of the per-coordinate variances."""
    x = x.double()
    share = float((mixture.class_log_joint(x, 1.0).argmax(1) == label).double().mean())
    return share, math.sqrt(float(x.var(0).mean()))


def tilted_share_spread(mixture: Mixture, label: int, ks, *, res: int = 512) -> list:
    """Exact ``(share of class y, spread)`` of p(x) p(y|x)^k for each k, on the fine grid (no sampling noise):
    the probability of the cells whose Bayes class is y, and the square root of the mean per-coordinate variance."""
    lg = log_grid(mixture, label, res=res)
    gx, gy = torch.meshgrid(torch.from_numpy(lg.xs), torch.from_numpy(lg.xs), indexing="xy")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    is_y = mixture.class_log_joint(pts, 1.0).argmax(1) == label
    out = []
    for k in ks:
        p = torch.softmax(torch.from_numpy(lg.log_px + k * lg.log_post), 0)
        mean = (p[:, None] * pts).sum(0)
        var = (p[:, None] * (pts - mean) ** 2).sum(0)
        out.append((float(p[is_y].sum()), math.sqrt(float(var.mean()))))
    return out


def _at_k(method: registry.Method, k0: float) -> float:
    """The scale at which an affine tilt k(scale) equals k0 (k(scale) = k(0) + scale * (k(1) - k(0)))."""
    k_0, k_1 = method.exponent(0.0), method.exponent(1.0)
    return max(0.0, (k0 - k_0) / (k_1 - k_0))


def _bracket(scales, shares, target: float) -> Optional[tuple]:
    """``((s0, share0), (s1, share1))``, the first pair of neighbouring swept scales whose shares straddle target
    (``((s, share), None)`` when the first scale already reaches it); None if no swept scale does."""
    if shares and shares[0] >= target:
        return (scales[0], shares[0]), None
    for (s0, a), (s1, b) in zip(zip(scales, shares), zip(scales[1:], shares[1:])):
        if a < target <= b:
            return (s0, a), (s1, b)
    return None


def guidance_zoo(mixture: Mixture, label: int, *, k0: float = 3.0, steps: int = 100, n: int = 1000, seed: int = 0,
                 entries=ZOO, schedule: Optional[NoiseSchedule] = None, res: int = 512) -> Zoo:
    """Every entry of ``entries`` on the exact models of ``mixture``, swept and at its matched setting (see the
    module docstring). All runs share ``seed``; the exact reference sets come from ``seed + 1_000_003``."""
    schedule = schedule or default_schedule()
    models = exact_models(mixture, schedule)
    gen = torch.Generator().manual_seed(seed + 1_000_003)
    cond_ref = tilted_samples(mixture, label, 1.0, n, gen, res=res)
    tilted_ref = tilted_samples(mixture, label, k0, n, gen, res=res)
    floor = energy_distance(tilted_ref, tilted_samples(mixture, label, k0, n, gen, res=res))
    exact_share, exact_spread = tilted_share_spread(mixture, label, (k0,), res=res)[0]

    exact_points = []
    for k, (share, spread) in zip(EXACT_KS, tilted_share_spread(mixture, label, EXACT_KS, res=res)):
        exact_points.append((share, spread, energy_distance(tilted_samples(mixture, label, k, n, gen, res=res),
                                                             cond_ref)))
    curves = [ZooCurve("exact", "exact p(x)·p(y|x)^k", EXACT_KS, *map(tuple, zip(*exact_points)))]

    sweeps = {}
    for e in entries:
        m = registry.get(e.method)
        scales = SWEEP_SCALES[m.knob]
        req = SampleRequest(method=m.name, label=label, scales=scales, steps=steps, n=n, seed=seed,
                            guidance_schedule=e.schedule)
        x = toy_sample(mixture, req, models=models, schedule=schedule).reshape(len(scales), n, 2)
        pts = [(*cloud_stats(mixture, label, xs), energy_distance(xs, cond_ref)) for xs in x]
        sweeps[e.key] = (scales, pts)
        curves.append(ZooCurve(e.key, e.label, scales, *map(tuple, zip(*pts))))

    def run(e: ZooEntry, scale: float):
        req = SampleRequest(method=e.method, label=label, scale=scale, steps=steps, n=n, seed=seed,
                            guidance_schedule=e.schedule)
        return toy_sample(mixture, req, models=models, schedule=schedule).double(), req

    target = exact_share  # the methods without k: where their share is that of p(x) p(y|x)^k0
    rows = []
    for e in entries:
        m = registry.get(e.method)
        reached = True
        if m.tilt is not None and e.schedule == "constant":
            by = "k"
            x, req = run(e, _at_k(m, k0))
        else:
            by = "share"
            scales, pts = sweeps[e.key]
            bracket = _bracket(scales, [p[0] for p in pts], target)
            if bracket is None:
                reached = False
                x, req = run(e, scales[max(range(len(pts)), key=lambda j: pts[j][0])])
            elif bracket[1] is None:
                x, req = run(e, bracket[0][0])
            else:  # interpolate in the bracket, run there, and narrow the bracket (at most REFINE runs)
                (s0, a), (s1, b) = bracket
                for _ in range(REFINE):
                    x, req = run(e, min(s0 + (target - a) / (b - a) * (s1 - s0), m.max_scale))
                    got = cloud_stats(mixture, label, x)[0]
                    if abs(got - target) <= SHARE_TOLERANCE:
                        break
                    (s0, a), (s1, b) = ((req.scale, got), (s1, b)) if got < target else ((s0, a), (req.scale, got))
        share, spread = cloud_stats(mixture, label, x)
        rows.append(ZooRow(e.key, e.method, e.label, m.knob, float(req.scale), by, reached,
                           req.validated(mixture.num_classes, schedule.T).sampler, share, spread,
                           energy_distance(x, cond_ref), energy_distance(x, tilted_ref)))
    return Zoo(k0, target, exact_share, exact_spread, floor, tuple(rows), tuple(curves), steps, n, seed)


def zoo_dict(zoo: Zoo) -> dict:
    """The zoo as plain JSON-ready values (rounded), for results files."""
    def r(v):
        return round(v, 6) if isinstance(v, float) else v

    return {"k0": zoo.k0, "target_share": r(zoo.target_share), "exact_share": r(zoo.exact_share),
            "exact_spread": r(zoo.exact_spread), "noise_floor": r(zoo.noise_floor), "steps": zoo.steps, "n": zoo.n,
            "seed": zoo.seed, "rows": [{k: r(v) for k, v in row.__dict__.items()} for row in zoo.rows],
            "curves": [{"key": c.key, "label": c.label, "scales": list(c.scales),
                        "share_y": [r(v) for v in c.share_y], "spread": [r(v) for v in c.spread],
                        "to_conditional": [r(v) for v in c.to_conditional]} for c in zoo.curves]}

