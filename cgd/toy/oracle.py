"""Exact answers of the 2D world that the samplers are measured against.

* :func:`tilted_samples` draws exact samples of the tilted density p(x) p(y|x)^k of the data
  (k = 1: p(x|y)) from a fine grid: a cell is drawn with its probability, then a uniform point in it.
  At ``res = 1024`` over the plotting box the cells are ~0.01 wide, far below what the energy
  distance of a few thousand samples resolves.
* :func:`rejection_samples` draws them the textbook way: x ~ p(x), kept with probability p(y|x)^k
  (at most 1 for k >= 0). Its acceptance rate is Z_k = E_p[p(y|x)^k] (:func:`tilt_normaliser`), which
  collapses as k grows or class y is rare: the exact answer, at a cost that no image model could pay.
* :func:`measure` compares guided samples with exact samples of p(x|y) and of the tilted density,
  beside the noise floor (two independent exact sample sets of the same size) and its expectation
  (:func:`expected_floor`): one pair's floor is itself noisy. Exact (rejection) samples of n = 2000 landed above
  twice it in 15 of 54 recorded runs at k = 3 (results/smc/k3.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from cgd.errors import InputError
from cgd.methods import cg_on, held_against
from cgd.pipeline import SampleRequest
from cgd.schedule import NoiseSchedule
from cgd.stats import energy_distance
from cgd.toy.mixture import Mixture
from cgd.toy.sampling import default_schedule, exact_models, toy_sample
from cgd.toy.views import extent, far_component, log_grid, nearest_component

__all__ = ["tilted_samples", "exact_references", "Measurement", "measure", "as_dict", "RejectionResult",
           "rejection_samples", "tilt_normaliser", "expected_floor", "MAX_PROPOSALS", "random_mixture"]

MAX_PROPOSALS = 50_000_000  # rejection sampling gives up beyond this many draws of p(x)


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
    floor_expected: Optional[float] = None  # E[noise_floor] = (1/n + 1/m) E|X - X'| (see expected_floor)


def exact_references(mixture: Mixture, request: SampleRequest, *, res: int = 1024) -> tuple:
    """``(p(x|y) samples, tilted samples, a second independent set of tilted samples)``, each ``[n, 2]``,
    for the request's label, size and tilt exponent (autoguidance: k = 1), drawn from its seed."""
    # a method with no class tilt (autoguidance, APG, CFG++, CFG-Zero*) is held against p(x|y) (k = 1)
    k = held_against(request.method, request.scale)
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
    k = held_against(r.method, r.scale)
    cond, tilted, tilted2 = references or exact_references(mixture, r)
    x0 = x0.double()
    share = float((mixture.class_log_joint(x0, 1.0).argmax(1) == r.label).double().mean())
    far = far_component(mixture, r.label)
    far_share = None if far is None else float((nearest_component(mixture, x0) == far).double().mean())
    return Measurement(r.method, float(r.scale), float(k), energy_distance(x0, cond), energy_distance(x0, tilted),
                       energy_distance(tilted, tilted2), share, far_share, expected_floor(tilted, tilted2))


def as_dict(m: Measurement) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.__dict__.items()}


def expected_floor(ref: torch.Tensor, ref2: torch.Tensor, n: Optional[int] = None, *, rows: int = 2000) -> float:
    """Expected squared energy distance between n exact samples and ``ref`` (m samples) of the same law.

    For V-statistics E[D^2] = (1/n + 1/m) E|X - X'| exactly (the diagonal terms of each self-distance mean
    are zero); E|X - X'| is estimated by the mean distance between two independent sets (their first
    ``rows``). A sampler whose D^2 to ``ref`` stays near this is as close as exact samples are.
    """
    n = len(ref) if n is None else n
    mean_dist = float(torch.cdist(ref[:rows].double(), ref2[:rows].double()).mean())
    return (1.0 / n + 1.0 / len(ref)) * mean_dist


def _check_tilt(mixture: Mixture, label, k) -> None:
    if not isinstance(label, int) or not 0 <= label < mixture.num_classes:
        raise InputError(f"rejection sampling needs a class label in 0..{mixture.num_classes - 1}, got {label!r}")
    if not isinstance(k, (int, float)) or k != k or k in (float("inf"), float("-inf")):
        raise InputError(f"k must be a finite number, got {k!r}")
    if k < 0:
        raise InputError(f"rejection sampling needs k >= 0 (then p(y|x)^k <= 1 is an acceptance probability), got k = {k:g}")


def tilt_normaliser(mixture: Mixture, label: int, k: float, *, res: int = 1024) -> float:
    """Z_k = integral of p(x) p(y|x)^k dx = E_p[p(y|x)^k]: rejection sampling's acceptance rate (grid-exact).

    Z_0 = 1; Z_1 = p(y); Z_k falls as k grows (p(y|x) <= 1).
    """
    _check_tilt(mixture, label, k)
    lo, hi = extent(mixture)
    lg = log_grid(mixture, label, res=res, box=(lo, hi))
    cell = ((hi - lo) / (res - 1)) ** 2
    return float(torch.logsumexp(torch.from_numpy(lg.log_px + k * lg.log_post), 0).exp() * cell)


@dataclass(frozen=True)
class RejectionResult:
    samples: torch.Tensor  # [n, 2] float64 exact draws of p(x) p(y|x)^k / Z_k
    proposals: int  # draws of p(x) it took

    @property
    def acceptance_rate(self) -> float:
        return len(self.samples) / self.proposals


def rejection_samples(mixture: Mixture, label: int, k: float, n: int, generator: torch.Generator, *,
                      max_proposals: int = MAX_PROPOSALS, max_batch: int = 1 << 20) -> RejectionResult:
    """``n`` exact samples of p(x) p(y|x)^k / Z_k: x ~ p(x), kept when u < p(y|x)^k (u uniform).

    Valid for k >= 0, where p(y|x)^k <= 1 is a probability. Each proposal costs one draw of p(x) and one
    classifier evaluation; on average 1 / Z_k of them per sample (:func:`tilt_normaliser`).
    Raises InputError when ``max_proposals`` draws do not give n samples.
    """
    _check_tilt(mixture, label, k)
    if not isinstance(n, int) or n < 1:
        raise InputError(f"n must be a whole number >= 1, got {n!r}")
    kept, count, proposals = [], 0, 0
    while count < n:
        if proposals >= max_proposals:
            raise InputError(f"rejection sampling kept {count} of {proposals} draws of p(x) (acceptance rate "
                             f"{count / proposals:.2g}) before the limit of {max_proposals}; p(y|x)^k with k = {k:g} "
                             f"is too small: lower k or n")
        rate = max(count, 1) / max(proposals, 1)  # the acceptance rate so far (1 before the first batch)
        m = min(max(int(1.2 * (n - count) / rate), 1024), max_batch, max_proposals - proposals)
        x = mixture.sample(m, generator)[0]
        log_post = torch.log_softmax(mixture.class_log_joint(x, 1.0), 1)[:, label]
        u = torch.rand(m, generator=generator, dtype=torch.float64)
        keep = torch.log(u) < (k * log_post if k > 0 else torch.zeros_like(log_post))  # k = 0: keep all
        # a batch that overshoots counts its draws up to the n-th acceptance only
        idx = keep.nonzero().squeeze(1)[: n - count]
        proposals += m if count + int(keep.sum()) < n else int(idx[-1]) + 1
        kept.append(x[idx])
        count += len(idx)
    return RejectionResult(torch.cat(kept)[:n], proposals)


def random_mixture(seed: int, *, components: int = 4, classes: int = 2) -> Mixture:
    """A seeded random mixture for tests and records: means uniform in [-2.5, 2.5]^2, covariances A A^T + 0.03 I
    (A with N(0, 0.35^2) entries), weights uniform in [0.5, 1.5], class c owning components c, c + classes, ..."""
    gen = torch.Generator().manual_seed(seed)
    means = (torch.rand(components, 2, generator=gen, dtype=torch.float64) - 0.5) * 5.0
    a = 0.35 * torch.randn(components, 2, 2, generator=gen, dtype=torch.float64)
    covs = a @ a.transpose(1, 2) + 0.03 * torch.eye(2, dtype=torch.float64)
    weights = 0.5 + torch.rand(components, generator=gen, dtype=torch.float64)
    labels = [c % classes for c in range(components)]
    return Mixture.from_dict({"name": f"random (seed {seed})", "means": means.tolist(), "covs": covs.tolist(),
                              "weights": weights.tolist(), "labels": labels})


def exact_far_share(mixture: Mixture, label: int, k: float, *, res: int = 512) -> Optional[float]:
    """Share of p(x) p(y|x)^k in class y's far component (:func:`cgd.toy.views.far_component`), on a fine grid;
    None when class y has one component."""
    far = far_component(mixture, label)
    if far is None:
        return None
    lo, hi = extent(mixture)
    lg = log_grid(mixture, label, res=res, box=(lo, hi))
    p = torch.softmax(torch.from_numpy(lg.log_px + k * lg.log_post), 0)
    xs = torch.from_numpy(lg.xs)
    gy, gx = torch.meshgrid(xs, xs, indexing="ij")  # row: y, column: x, as log_grid lays it out
    on_far = nearest_component(mixture, torch.stack([gx.ravel(), gy.ravel()], 1)) == far
    return float(p[on_far].sum())


@dataclass(frozen=True)
class SamplerRow:
    """One way of sampling p(x) p(y|x)^k, measured against exact samples of it."""

    key: str  # sampler, corrector, smc-exact, smc-fk, rejection (cgd.palette.SAMPLER_COLORS)
    name: str
    samples: torch.Tensor  # [n, 2]
    to_tilted: float  # D^2 to exact samples of p(x) p(y|x)^k
    far_share: Optional[float]
    evals_per_sample: float  # guided-score evaluations per sample (rejection: see TiltedComparison)
    ess: tuple = ()  # SMC: ESS share before each step and at the end
    ancestors: tuple = ()  # SMC: distinct starting particles with descendants, same steps
    resamples: int = 0
    acceptance: Optional[float] = None  # SMC: MALA acceptance; rejection: the acceptance rate
    temper_levels: int = 0  # SMC on the tempered path: its steps of k at the data (after the diffusion's)


@dataclass(frozen=True)
class TiltedComparison:
    label: int
    k: float
    steps: int
    n: int
    seed: int
    rows: tuple  # SamplerRow: guided sampler, Langevin corrector, SMC exact, SMC FK, rejection
    noise_floor: float  # D^2 between two independent exact sets
    floor_expected: float  # its expectation (expected_floor)
    far_exact: Optional[float]  # the exact far-component share (grid)
    rejection_rate_exact: float  # Z_k (grid)
    smc_path: str = "tempered"  # SMC's intermediate targets (cgd.toy.smc.smc_tilted)


CORRECTOR = (20, 0.5)  # Langevin corrector K and r in the comparison (docs/results.md's best row)


def compare_tilted(mixture: Mixture, label: int, k: float, *, steps: int = 200, n: int = 2000, seed: int = 0,
                   schedule: Optional[NoiseSchedule] = None, res: int = 512,
                   max_proposals: int = MAX_PROPOSALS, smc_path: str = "tempered") -> TiltedComparison:
    """At one k, the guided sampler (CG-DDPM at s = k), the same with Langevin corrector steps, SMC with exact
    and with Feynman-Kac weights (on ``smc_path``), and rejection sampling, each against exact samples of
    p(x) p(y|x)^k.

    Rejection's evals_per_sample counts the draws of p(x) per kept sample times ``steps``: what the proposals
    would cost if p(x) were drawn by the same diffusion sampler (here they are drawn exactly).
    """
    from cgd.toy.smc import smc_tilted

    schedule = schedule or default_schedule()
    req = SampleRequest(method=cg_on("ddpm"), label=label, scale=float(k), steps=steps, n=n, seed=seed)
    r = req.validated(mixture.num_classes, schedule.T)
    refs = exact_references(mixture, r, res=res)
    models = exact_models(mixture, schedule)
    far = far_component(mixture, label)

    def row(key, name, x, evals, **extra):
        x = x.double()
        far_share = None if far is None else float((nearest_component(mixture, x) == far).double().mean())
        return SamplerRow(key, name, x, energy_distance(x, refs[1]), far_share, float(evals), **extra)

    K, size = CORRECTOR
    rows = [row("sampler", "guided sampler (CG-DDPM)", toy_sample(mixture, r, models=models, schedule=schedule), steps),
            row("corrector", f"+ Langevin corrector (K = {K}, r = {size:g})",
                toy_sample(mixture, SampleRequest(**{**r.__dict__, "corrector_steps": K, "corrector_size": size}),
                           models=models, schedule=schedule), steps * (1 + K))]
    for weights in ("exact", "fk"):
        s = smc_tilted(mixture, label, k, schedule, steps=steps, n=n, seed=seed, weights=weights, path=smc_path)
        rows.append(row(f"smc-{weights}", f"SMC, {'exact' if weights == 'exact' else 'Feynman-Kac'} weights",
                        s.samples, s.score_evals, ess=s.ess, ancestors=s.ancestors, resamples=s.resamples,
                        acceptance=s.acceptance, temper_levels=s.temper_levels))
    rej = rejection_samples(mixture, label, k, n, torch.Generator().manual_seed(seed), max_proposals=max_proposals)
    rows.append(row("rejection", "rejection", rej.samples, rej.proposals / n * steps, acceptance=rej.acceptance_rate))
    return TiltedComparison(label, float(k), steps, n, seed, tuple(rows), energy_distance(refs[1], refs[2]),
                            expected_floor(refs[1], refs[2]), exact_far_share(mixture, label, k),
                            tilt_normaliser(mixture, label, k, res=res), smc_path)
