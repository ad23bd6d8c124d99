"""Exact answers of the 2D world that the samplers are measured against.

* :func:`tilted_samples` draws exact samples of the tilted density p(x) p(y|x)^k of the data
  (k = 1: p(x|y)) from a fine grid: a cell is drawn with its probability, then a uniform point in it.
  At ``res = 1024`` over the plotting box the cells are ~0.01 wide, far below what the energy
  distance of a few thousand samples resolves.
* :func:`measure` compares guided samples with exact samples of p(x|y) and of the tilted density,
  beside the noise floor (two independent exact sample sets of the same size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from cgd.pipeline import SampleRequest, tilt_exponent
from cgd.schedule import NoiseSchedule
from cgd.stats import energy_distance
from cgd.toy.mixture import Mixture
from cgd.toy.sampling import default_schedule, exact_models, toy_sample
from cgd.toy.views import extent, far_component, log_grid, nearest_component

__all__ = ["tilted_samples", "exact_references", "Measurement", "measure", "as_dict"]


def tilted_samples(mixture: Mixture, label: int, exponent: float, n: int, generator: torch.Generator, *,
                   res: int = 1024, box: Optional[tuple] = None) -> torch.Tensor:
    """``[n, 2]`` float64 exact samples of p(x) p(y|x)^exponent / Z (grid-exact; see the module docstring)."""
    lo, hi = box or extent(mixture)
    lg = log_grid(mixture, label, res=res, box=(lo, hi))
    logd = torch.from_numpy(lg.log_px + exponent * lg.log_post)
    p = torch.softmax(logd, 0)
    cells = torch.multinomial(p, n, replacement=True, generator=generator)
    width = (hi - lo) / (res - 1)
    row, col = cells // res, cells % res  # z[row, col] sits at (x = xs[col], y = xs[row])
    jitter = (torch.rand(n, 2, generator=generator, dtype=torch.float64) - 0.5) * width
    xs = torch.from_numpy(lg.xs)
    return torch.stack([xs[col], xs[row]], 1) + jitter


@dataclass(frozen=True)
class Measurement:
    method: str
    scale: float
    exponent: float  # k: the guided score is the score of p_t(x) p_t(y|x)^k
    to_conditional: float  # energy distance^2 to exact samples of p(x|y)
    to_tilted: float  # ... to exact samples of p(x) p(y|x)^k
    noise_floor: float  # ... between two independent exact sample sets of p(x) p(y|x)^k
    share_y: float  # share of the samples whose Bayes class (argmax exact p(y|x)) is y
    far_share: Optional[float]  # share in class y's far component (views.far_component); None: one component


def exact_references(mixture: Mixture, request: SampleRequest, *, res: int = 1024) -> tuple:
    """``(p(x|y) samples, tilted samples, a second independent set of tilted samples)``, each ``[n, 2]``,
    for the request's label, size and tilt exponent (autoguidance: k = 1), drawn from its seed."""
    # autoguidance has no class tilt: its samples are held against p(x|y) (k = 1)
    k = 1.0 if request.method == "autoguidance" else tilt_exponent(request.method, request.scale)
    gen = torch.Generator().manual_seed(request.seed + 1_000_003)
    return tuple(tilted_samples(mixture, request.label, e, request.n, gen, res=res) for e in (1.0, k, k))


def measure(mixture: Mixture, request: SampleRequest, *, models=None, schedule: Optional[NoiseSchedule] = None,
            x0: Optional[torch.Tensor] = None, references: Optional[tuple] = None) -> Measurement:
    """Guided samples of ``request`` (or ``x0``) against the exact p(x|y) and tilted density.

    references: :func:`exact_references` of the request, when already drawn (a sweep over K reuses them).
    """
    schedule = schedule or default_schedule()
    r = request.validated(mixture.num_classes, schedule.T)
    if x0 is None:
        x0 = toy_sample(mixture, r, models=models or exact_models(mixture, schedule), schedule=schedule)
    k = 1.0 if r.method == "autoguidance" else tilt_exponent(r.method, r.scale)
    cond, tilted, tilted2 = references or exact_references(mixture, r)
    x0 = x0.double()
    share = float((mixture.class_log_joint(x0, 1.0).argmax(1) == r.label).double().mean())
    far = far_component(mixture, r.label)
    far_share = None if far is None else float((nearest_component(mixture, x0) == far).double().mean())
    return Measurement(r.method, float(r.scale), float(k), energy_distance(x0, cond), energy_distance(x0, tilted),
                       energy_distance(tilted, tilted2), share, far_share)


def as_dict(m: Measurement) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.__dict__.items()}
