"""Sequential Monte Carlo for p(x) p(y|x)^k in 2D, resample-move with exact or Feynman-Kac weights: exact as n grows.

What holds at finite n (docs/results.md "Sequential Monte Carlo" and "A tempered path meets the floor"): at k = 3,
200 steps and n = 2000 particles, on every preset and class and on three seeded random mixtures over seeds 1-3,
SMC on the tempered path (the default) lands where exact (rejection) samples land: at most 3.2x the expected
two-sample floor (exact samples: 3.0x), no run 10x off one pair's floor (results/smc/k3_tempered.json). On the
guided path 2 of 36 random-mixture runs were 10-14x off: its intermediate densities squeeze a component next to
another class at middle noise, and the few particles there decide its share at the data.

Two paths (``path``): the intermediate targets SMC passes through.

* ``guided``: pi_t = p_t(x) p_t(y|x)^k at every level of the grid, the densities whose scores the guided sampler
  follows; the weights below correct the guided sampler toward them.
* ``tempered``: the diffusion at k_d = 1 (k >= 1; k_d = 0 for k < 1), whose pi_t are one diffusion's marginals
  (p_t(x|y), or p_t(x)), so its weights stay flat; then, at the data, p(x) p(y|x)^k_j with k_j rising from k_d to
  k in steps chosen by bisection so that each step's conditional ESS is ``temper_cess`` (Zhou, Johansen & Aston
  2016), the weights multiplied by p(y|x)^(k_j+1 - k_j) (log p(y|x) at the data: a classifier at t = 0), each step
  followed by ``temper_moves`` MALA moves at k_j. For k >= 1 this is p(y) p(x|y) p(y|x)^(k-1): draw the
  conditional, reweight by p(y|x)^(k-1).

Why it is needed: the guided sampler follows the score of pi_t(x) = p_t(x) p_t(y|x)^k at every level, but
the pi_t are not the marginals of one diffusion, so it ends away from pi_0 (the 2D page measures how far).
SMC (Del Moral, Doucet & Jasra 2006) carries importance weights that correct for that, over the levels
t_0 = T-1 > ... > t_{N-1} = 0 of the respaced grid and a last level alpha_bar = 1 (the data):

* particles start from N(0, I);
* **propagate**: each step moves them with the guided DDPM step q(x' | x) = N(mu + k beta g, beta I)
  (mu: the unguided posterior mean from the exact score, g = grad log p_t(y|x) at x_t, beta the grid's
  beta_i; DDPM eq. 7 with the mean shift of Dhariwal & Nichol, Algorithm 1) and updates the weights;
* **resample** whenever the effective sample size (ESS) falls below ``ess_threshold * n``: systematic
  resampling of the particles sorted along a Hilbert curve (Gerber, Chopin & Whiteley 2019), which keeps
  the count in each region of the plane within a particle or two of its weight (tested);
* **move**: after every step, ``moves`` Metropolis-adjusted Langevin (MALA) steps that leave pi_t
  invariant, x* = x + h s(x) + sqrt(2h) z with s = grad log pi_t, accepted with probability
  min(1, pi_t(x*) q(x | x*) / (pi_t(x) q(x* | x))). They spread the copies that resampling makes and keep
  the particles near pi_t between resamplings, so that the weights stay even. Each particle's step is h, h/4
  or h/16 at random (a mixture of pi_t-invariant kernels), so that particles on a steep class boundary, where
  full steps are rejected, still move instead of sitting there while their weights grow. h adapts to an
  acceptance rate near 0.57 of the full steps (Roberts & Rosenthal 1998).
* at the last level the particles are resampled to equal weights and moved ``final_moves`` times more.

Two kinds of weights
--------------------
``exact``: w <- w * pi_{t'}(x') L(x | x') / (pi_t(x) q(x' | x)), L(x | x') = N(x; sqrt(1 - beta) x', beta I)
the forward kernel of the grid (an SMC sampler with a backward kernel). Needs log pi_t as a density, which
the 2D mixture has and a learned network has not. The MALA ratio uses the exact log pi_t.

``fk`` (Feynman-Kac, from scores alone; Skreta et al., ICML 2025, "Feynman-Kac Correctors in Diffusion").
Derivation, for the VP diffusion dx = -beta(t) x / 2 dt + sqrt(beta(t)) dW. Every marginal density p_t of it,
and every p_t(x|y) (same forward process), solves the Fokker-Planck equation; for log p that reads

    d/dt log p_t = beta(t) / 2 * F[log p_t],   F[l] = d + x . grad l + lap l + |grad l|^2.

The guided sampler simulates, in reverse time s = T - t, dx = v ds + sqrt(beta) dW with v = beta x / 2 +
beta grad l, where l = log pi_t = (1 - k) log p_t(x) + k log p_t(x|y) + const (Bayes: p_t(x) p_t(y|x)^k is
p_t(x)^(1-k) p_t(x|y)^k up to a constant). A weighted particle system whose weights obey
d log w = G ds has weighted density proportional to pi_t exactly when (Feynman-Kac)

    G = d/ds l + div v + v . grad l - beta / 2 (lap l + |grad l|^2) = -d/dt l + beta / 2 F[l].

With a = log p_t(x), b = log p_t(x|y), l = (1 - k) a + k b, the parts of F that are affine in l cancel
against -d/dt l = -(1 - k) beta/2 F[a] - k beta/2 F[b] (the weights 1 - k and k sum to 1), and only the
squared gradients remain:

    G = beta/2 [ |(1-k) grad a + k grad b|^2 - (1-k) |grad a|^2 - k |grad b|^2 ] = beta/2 k (k - 1) |grad b - grad a|^2,

    d log w = k (k - 1) / 2 * beta(t) * |grad_x log p_t(y|x)|^2 ds.

In terms of what the networks give: for classifier guidance, g = grad log p_t(y|x) is the classifier
gradient the guided step already computes (k = s; cond+CG: k = 1 + s); for classifier-free guidance
g = -(eps(x, y) - eps(x)) / sqrt(1 - alpha_bar_t) from the two eps predictions the step already makes
(k = 1 + w, so k (k - 1) = w (1 + w)). So the weights cost no extra network evaluation. They are flat at
k = 0 and k = 1 (the unguided and the conditional diffusion need no correction) and, for k > 1, favour
particles where the classifier is steep (the class boundary, which guidance over-avoids). Skreta et al.
state the same weight for their CFG product (their beta is our k).

Over one grid step from alpha_bar_t to alpha_bar_t', the integral of beta(t) is
Lambda = log(alpha_bar_t' / alpha_bar_t) = -log(1 - beta_i); the trapezoid rule in time gives the increment

    log w <- log w + k (k - 1) / 4 * Lambda * (|g_t(x)|^2 + |g_t'(x')|^2)

with g at both ends of the step (the end's g is the next step's, so it is computed once). With FK weights
the MALA ratio needs log pi_t(x*) - log pi_t(x) at one level, which is the line integral of the score
s = grad log p_t + k g from x to x*: a 4-node Gauss-Lobatto rule with the scores at both ends and at two
inner points (exact for a quintic log density; :func:`line_integral`). So FK-SMC uses the networks' outputs
only, at 2 more score evaluations per move than exact weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from cgd.errors import InputError
from cgd.schedule import NoiseSchedule, eps_to_x0, posterior_mean_coefs, score_to_eps
from cgd.toy.mixture import Mixture

__all__ = ["log_tilted", "classifier_gradient", "fk_log_increment", "hilbert_order", "systematic_resample", "ess", "line_integral",
           "SMCResult", "smc_tilted", "WEIGHTS", "PATHS", "MIN_PARTICLES", "check_particles"]

WEIGHTS = ("exact", "fk")
PATHS = ("tempered", "guided")  # the intermediate targets; the first is the default
MIN_PARTICLES = 100  # below this an ESS share is too coarse to decide on resampling
TARGET_ACCEPT = 0.57  # MALA's optimal acceptance rate (Roberts & Rosenthal 1998)


def log_tilted(mixture: Mixture, x: torch.Tensor, label: int, k: float, alpha_bar) -> torch.Tensor:
    """log p_t(x) + k log p_t(y|x) (unnormalised log pi_t), ``[B]`` float64."""
    joint = mixture.class_log_joint(x, alpha_bar)
    log_px = torch.logsumexp(joint, 1)
    return log_px + k * (joint[:, label] - log_px)


def classifier_gradient(mixture: Mixture, x: torch.Tensor, label: int, alpha_bar, terms: Optional[dict] = None) -> tuple:
    """(grad log p_t(x), g = grad log p_t(y|x) = grad log p_t(x|y) - grad log p_t(x)), each ``[B, 2]``.

    terms: ``mixture.component_terms(alpha_bar)`` when already computed."""
    terms = mixture.component_terms(alpha_bar) if terms is None else terms
    uncond, cond = mixture.scores_from_terms(x, terms, label)
    return uncond, cond - uncond


def fk_log_increment(k: float, lam: float, g_sq_start: torch.Tensor, g_sq_end: torch.Tensor) -> torch.Tensor:
    """Feynman-Kac log-weight increment of one step: k (k - 1) / 4 * Lambda * (|g_t(x)|^2 + |g_t'(x')|^2).

    Lambda = log(alpha_bar_t' / alpha_bar_t), the integral of beta(t) over the step; g = grad log p_t(y|x)
    (the classifier gradient, or -(eps(x,y) - eps(x)) / sqrt(1 - alpha_bar) for CFG). See the module docstring.
    """
    return 0.25 * k * (k - 1.0) * lam * (g_sq_start + g_sq_end)


def _log_posterior(mixture: Mixture, x: torch.Tensor, label: int) -> torch.Tensor:
    """log p(y|x) of the data (alpha_bar = 1), ``[B]``: what a classifier at t = 0 gives."""
    joint = mixture.class_log_joint(x, torch.tensor(1.0, dtype=torch.float64))
    return joint[:, label] - torch.logsumexp(joint, 1)


def _log_normal(x: torch.Tensor, mean: torch.Tensor, var) -> torch.Tensor:
    """log N(x; mean, var I) in 2D, ``[B]``."""
    return -0.5 * ((x - mean) ** 2).sum(1) / var - math.log(2 * math.pi * float(var))


def hilbert_order(x: torch.Tensor, bits: int = 10) -> torch.Tensor:
    """Permutation sorting 2D points ``[n, 2]`` along a Hilbert curve over their bounding box.

    Neighbours along the curve are neighbours in the plane, so systematic resampling in this order
    keeps each region's count within one particle of its weight (Gerber, Chopin & Whiteley 2019).
    """
    lo, hi = x.amin(0), x.amax(0)
    side = 1 << bits
    q = ((x - lo) / (hi - lo).clamp_min(1e-12) * (side - 1)).round().long()
    ix, iy = q[:, 0].clone(), q[:, 1].clone()
    d = torch.zeros_like(ix)
    s = side >> 1
    while s > 0:  # xy2d of the Hilbert curve, vectorised
        rx, ry = (ix & s) > 0, (iy & s) > 0
        d += s * s * ((3 * rx.long()) ^ ry.long())
        flip = ~ry & rx
        ix, iy = torch.where(flip, side - 1 - ix, ix), torch.where(flip, side - 1 - iy, iy)
        swap = ~ry
        ix, iy = torch.where(swap, iy, ix), torch.where(swap, ix, iy)
        s >>= 1
    return torch.argsort(d, stable=True)


def systematic_resample(logw: torch.Tensor, gen: torch.Generator, order: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Indices of n particles drawn in proportion to exp(logw) with one uniform (low variance), visiting the
    particles in ``order`` (default: as given)."""
    n = logw.shape[0]
    order = torch.arange(n) if order is None else order
    w = torch.softmax(logw[order], 0)
    u = (torch.rand(1, generator=gen, dtype=torch.float64) + torch.arange(n, dtype=torch.float64)) / n
    return order[torch.searchsorted(torch.cumsum(w, 0), u).clamp(max=n - 1)]


def ess(logw: torch.Tensor) -> float:
    """Effective sample size 1 / sum(w^2) of normalised weights."""
    w = torch.softmax(logw, 0)
    return float(1.0 / (w * w).sum())


@dataclass(frozen=True)
class SMCResult:
    samples: torch.Tensor  # [n, 2] float64, equally weighted draws of the last level's target
    ess: tuple  # the effective sample size before each step (and at the end), as a share of n
    resamples: int  # how many times the particles were resampled (the final resampling not counted)
    ancestors: tuple = ()  # distinct starting particles with descendants, before each step (and at the end)
    acceptance: float = float("nan")  # mean MALA acceptance rate over all moves
    score_evals: int = 0  # guided-score evaluations per particle (eps-net + classifier gradient, or 2 eps passes)
    weights: str = "exact"
    moves: int = 3  # MALA moves after every step
    path: str = "guided"  # the intermediate targets (see smc_tilted)
    temper_levels: int = 0  # path 'tempered': the steps of k at the data


class _Level:
    """pi_t = p_t(x) p_t(y|x)^k at one alpha_bar: its score and (exact weights) log density."""

    def __init__(self, mixture: Mixture, label: int, k: float, alpha_bar):
        self.mixture, self.label, self.k = mixture, label, k
        self.alpha_bar = torch.as_tensor(alpha_bar, dtype=torch.float64)
        self._terms = mixture.component_terms(self.alpha_bar)  # once per level, not once per call

    def scores(self, x):
        return classifier_gradient(self.mixture, x, self.label, self.alpha_bar, self._terms)

    def tilted_score(self, x):
        """grad log pi_t = grad log p_t(x) + k grad log p_t(y|x): the guided score."""
        uncond, g = self.scores(x)
        return uncond + self.k * g

    def log_pi(self, x):
        return log_tilted(self.mixture, x, self.label, self.k, self.alpha_bar)


# Gauss-Lobatto rule with 4 nodes on [0, 1]: both ends (whose scores MALA has anyway) and two inner nodes;
# exact for a quintic log density. Simpson's rule (one inner node) was not enough: MALA's long steps at middle
# noise levels cross between components, where the log density is far from a cubic, and its errors there moved
# mass between components (on near_and_far at k = 3 the far share came out too high on every seed we tried).
_LOBATTO_INNER = (0.5 - 0.5 / math.sqrt(5.0), 0.5 + 0.5 / math.sqrt(5.0))
_LOBATTO_W_END, _LOBATTO_W_INNER = 1.0 / 12.0, 5.0 / 12.0


def line_integral(scores, x: torch.Tensor, x_new: torch.Tensor, s: torch.Tensor, s_new: torch.Tensor) -> tuple:
    """``(log pi(x_new) - log pi(x) [B], score evaluations)`` from the score s = grad log pi alone.

    The integral of s along the segment from x to x_new by the 4-node Gauss-Lobatto rule; ``s`` and ``s_new``
    are the scores at the ends, ``scores(points)`` gives the score at the inner nodes.
    """
    d = x_new - x
    total = _LOBATTO_W_END * (s + s_new)
    for t in _LOBATTO_INNER:
        total = total + _LOBATTO_W_INNER * scores(x + t * d)
    return (d * total).sum(1), len(_LOBATTO_INNER)


STEP_SCALES = (1.0, 0.25, 0.0625)


def _mala(level: _Level, x, score, g, lp, h: float, gen, fk: bool) -> tuple:
    """One MALA step at ``level`` for every particle: ``(x, score, g, lp, acceptance rate of the full-size steps,
    score evaluations)``; lp: log pi_t at x (exact weights; None with FK weights, which never need it).

    Each particle draws its step size from h * STEP_SCALES, independently of where it is: a mixture of
    pi_t-invariant kernels is pi_t-invariant, and particles where pi_t is steep (a class boundary at low
    noise) still get moves accepted instead of sitting there while their weights grow.
    """
    k = level.k
    s = score + k * g
    pick = torch.randint(len(STEP_SCALES), (x.shape[0],), generator=gen)
    h = (h * torch.tensor(STEP_SCALES, dtype=torch.float64)[pick])[:, None]
    z = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    prop = x + h * s + torch.sqrt(2.0 * h) * z
    score_p, g_p = level.scores(prop)
    s_p = score_p + k * g_p
    evals = 1
    if fk:  # log pi(prop) - log pi(x) from the scores alone
        d_log_pi, inner = line_integral(level.tilted_score, x, prop, s, s_p)
        evals += inner
    else:
        lp_p = level.log_pi(prop)
        d_log_pi = lp_p - lp
    h = h[:, 0]
    log_q_back = -((x - prop - h[:, None] * s_p) ** 2).sum(1) / (4.0 * h)
    log_q_fwd = -((prop - x - h[:, None] * s) ** 2).sum(1) / (4.0 * h)
    log_alpha = d_log_pi + log_q_back - log_q_fwd
    accept = torch.log(torch.rand(x.shape[0], generator=gen, dtype=torch.float64)) < log_alpha
    a = accept[:, None]
    full = pick == 0
    rate = float(accept[full].double().mean()) if bool(full.any()) else TARGET_ACCEPT
    lp = None if fk else torch.where(accept, lp_p, lp)
    return torch.where(a, prop, x), torch.where(a, score_p, score), torch.where(a, g_p, g), lp, rate, evals


MAX_MOVES = 20
def check_particles(n) -> None:
    """Refuse fewer than MIN_PARTICLES particles with one line."""
    if not isinstance(n, int) or n < MIN_PARTICLES:
        raise InputError(f"SMC needs at least {MIN_PARTICLES} particles (an ESS over fewer cannot decide "
                         f"when to resample), got {n}")


def _check(label: int, k: float, n: int, weights: str, mixture: Mixture, moves: int, path: str = "tempered",
           temper_cess: float = 0.9) -> None:
    if weights not in WEIGHTS:
        raise InputError(f"SMC weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    if path not in PATHS:
        raise InputError(f"SMC path must be one of {', '.join(PATHS)}, got {path!r}")
    check_particles(n)
    if not math.isfinite(k) or k < 0:
        raise InputError(f"the tilt exponent k must be a finite number >= 0, got {k}")
    if not isinstance(moves, int) or not 0 <= moves <= MAX_MOVES:
        raise InputError(f"SMC moves per step must be a whole number in 0..{MAX_MOVES}, got {moves!r}")
    if not 0 < temper_cess < 1:
        raise InputError(f"the tempering steps' conditional ESS must lie in (0, 1), got {temper_cess}")
    if not 0 <= label < mixture.num_classes:
        raise InputError(f"class label {label} is outside 0..{mixture.num_classes - 1}")


def smc_tilted(mixture: Mixture, label: int, k: float, schedule: NoiseSchedule, *, steps: int = 100,
               n: int = 4000, seed: int = 0, ess_threshold: float = 0.5, weights: str = "exact",
               moves: int = 3, final_moves: int = 10, sort: bool = True,
               path: str = "tempered", temper_cess: float = 0.9, temper_moves: int = 10,
               callback: Optional[Callable[[dict], None]] = None) -> SMCResult:
    """``n`` samples of p(x) p(y|x)^k (y = ``label``) by SMC over ``steps`` levels of the schedule and alpha_bar = 1.

    weights: ``exact`` (the mixture's densities) or ``fk`` (Feynman-Kac, from the scores alone); see the
    module docstring. moves: MALA steps after each step; final_moves: after the final resampling;
    sort: resample along a Hilbert curve (False: in particle order).
    path: ``tempered`` or ``guided`` (module docstring); temper_cess: the conditional ESS share each tempering step
    keeps; temper_moves: MALA moves after each tempering step.
    callback: called at every level of the diffusion after its moves with ``dict(i, alpha_bar, x, logw)``: the
    weighted particles (x ``[n, 2]``, unnormalised log weights ``[n]``) that stand for that level's target
    (pi_t of the path: at k, or at k_d on the tempered path).
    """
    _check(label, k, n, weights, mixture, moves, path, temper_cess)
    fk = weights == "fk"
    # the exponent along the diffusion: k itself (path 'guided'), or the nearer of 0 and 1, whose tilted
    # marginals are one diffusion's (path 'tempered': k is reached afterwards, at the data, by tempering)
    kd = k if path == "guided" else (1.0 if k >= 1.0 else 0.0)
    grid = schedule.grid(steps)
    levels = torch.cat([grid.alpha_bar, torch.ones(1, dtype=torch.float64)])
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    level = _Level(mixture, label, kd, levels[0])
    lp = None if fk else level.log_pi(x)  # log pi_t at the particles (exact weights only)
    if fk:  # p_T(x) p_T(y|x)^k is N(0, I) times p(y)^k to within alpha_bar_T (4e-5): flat weights
        logw = torch.zeros(n, dtype=torch.float64)
    else:
        logw = lp - _log_normal(x, torch.zeros(2, dtype=x.dtype), 1.0)
    score, g = level.scores(x)
    ancestor = torch.arange(n)
    shares, n_anc, resamples, evals, h, accepted = [], [], 0, 1, 0.5, []

    def resample(x, score, g, lp, ancestor):
        idx = systematic_resample(logw, gen, hilbert_order(x) if sort else None)
        return x[idx], score[idx], g[idx], None if lp is None else lp[idx], ancestor[idx]

    def move(level, x, score, g, lp, count):
        nonlocal h, evals
        for _ in range(count):
            x, score, g, lp, acc, e = _mala(level, x, score, g, lp, h, gen, fk)
            accepted.append(acc)
            evals += e
            h = min(max(h * math.exp(2.0 * (acc - TARGET_ACCEPT)), 1e-8), 10.0)
        return x, score, g, lp

    def propose(ab, ab_next):
        """The guided step from alpha_bar ab to ab_next for every particle: (x', its level, scores, log pi, increment)."""
        beta = 1.0 - ab / ab_next
        # the proposal's variance: beta_i ("large"), not beta_tilde. The true reverse kernel is wider than
        # beta_tilde by c_x0^2 Var[x_0 | x_t]; at the last steps of a short grid beta_tilde is 20x too
        # narrow (measured: the ESS fell to 2%), and a too-narrow proposal is what degenerates weights.
        var = float(beta)
        x0_hat = eps_to_x0(x, score_to_eps(score, ab), ab)
        c_x0, c_xt = posterior_mean_coefs(ab, ab_next, beta)
        mean = c_x0 * x0_hat + c_xt * x + kd * var * g
        x_next = mean + math.sqrt(var) * torch.randn(n, 2, generator=gen, dtype=torch.float64)
        nxt = _Level(mixture, label, kd, ab_next)
        score_next, g_next = nxt.scores(x_next)
        if fk:
            inc = fk_log_increment(kd, float(torch.log(ab_next / ab)), (g * g).sum(1), (g_next * g_next).sum(1))
            lp_next = None
        else:
            lp_next = nxt.log_pi(x_next)
            inc = lp_next - lp + _log_normal(x, (1.0 - beta).sqrt() * x_next, var) - _log_normal(x_next, mean, var)
        return x_next, nxt, score_next, g_next, lp_next, inc

    def cess(inc):
        """Conditional ESS share of a log-weight increment (Zhou, Johansen & Aston 2016): how even it leaves the weights."""
        w = torch.softmax(logw, 0)
        v = torch.exp(inc - inc.max())
        return float((w * v).sum() ** 2 / (w * v * v).sum())

    def before_step():
        """Record the ESS and the lineages left; resample when the ESS share is under the threshold."""
        nonlocal x, score, g, lp, ancestor, logw, resamples
        shares.append(ess(logw) / n)
        n_anc.append(int(torch.unique(ancestor).numel()))
        if shares[-1] < ess_threshold:
            x, score, g, lp, ancestor = resample(x, score, g, lp, ancestor)
            logw = torch.zeros_like(logw)
            resamples += 1

    temper_levels = 0
    for i in range(len(levels) - 1):
        before_step()
        x, level, score, g, lp, inc = propose(levels[i], levels[i + 1])
        evals += 1
        logw = logw + inc
        x, score, g, lp = move(level, x, score, g, lp, moves)
        if callback is not None:
            callback(dict(i=i + 1, alpha_bar=float(levels[i + 1]), x=x, logw=logw))
    k_now = kd
    while k_now < k:  # tempering at the data: p(x) p(y|x)^k_now, k_now rising to k in steps that keep the CESS
        before_step()
        log_post = _log_posterior(mixture, x, label)
        k_next = k
        if cess((k - k_now) * log_post) < temper_cess:  # bisection for the step whose CESS is temper_cess
            lo, hi = k_now, k
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if cess((mid - k_now) * log_post) >= temper_cess else (lo, mid)
            k_next = max(lo, k_now + 1e-6 * k)
        logw = logw + (k_next - k_now) * log_post
        k_now = k_next
        level = _Level(mixture, label, k_now, levels[-1])
        lp = None if fk else level.log_pi(x)
        x, score, g, lp = move(level, x, score, g, lp, temper_moves)
        temper_levels += 1
    shares.append(ess(logw) / n)
    n_anc.append(int(torch.unique(ancestor).numel()))
    x, score, g, lp, ancestor = resample(x, score, g, lp, ancestor)
    x, score, g, lp = move(level, x, score, g, lp, final_moves)
    acceptance = sum(accepted) / len(accepted) if accepted else float("nan")
    return SMCResult(x, tuple(shares), resamples, tuple(n_anc), acceptance, evals, weights, moves, path, temper_levels)
