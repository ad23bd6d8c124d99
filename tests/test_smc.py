"""Exact ground truth (rejection sampling) and SMC for the tilted density p(x) p(y|x)^k, on the 2D oracle.

Yardstick: the squared energy distance D^2 to exact samples, against its expectation for exact samples of
the same size, E = (1/n + 1/m) E|X - X'| (:func:`cgd.toy.oracle.expected_floor`). The sampler that the
SMC corrects (the guided DDPM sampler at the same k) is held to the same bound and fails it, so each bound
can fail. One seed each, at the sizes the records use (n = 2000, 200 steps), except the 1D test.
"""

import math

import pytest
import torch

from cgd.errors import InputError
from cgd.pipeline import SampleRequest
from cgd.stats import energy_distance
from cgd.toy.mixture import Mixture, load_mixture
from cgd.toy.oracle import (exact_references, expected_floor, measure, random_mixture, rejection_samples,
                            tilt_normaliser, tilted_samples)
from cgd.toy.sampling import default_schedule
from cgd.toy.smc import (PATHS, classifier_gradient, hilbert_order, line_integral, log_tilted, smc_tilted,
                         systematic_resample)
from cgd.toy.views import far_component, nearest_component

SCHED = default_schedule()
MIX = load_mixture("near_and_far")
K = 3.0


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _request(**kw):
    return SampleRequest(**{"method": "cg-ddpm", "label": 0, "scale": K, "steps": 200, "n": 2000, "seed": 0, **kw})


@pytest.fixture(scope="module")
def refs(one_torch_thread):
    """Exact tilted samples of near_and_far, class 0, k = 3 (n = 2000) and a far-share reference."""
    r = exact_references(MIX, _request(), res=512)
    big = tilted_samples(MIX, 0, K, 100_000, torch.Generator().manual_seed(99), res=512)
    exact_far = float((nearest_component(MIX, big) == far_component(MIX, 0)).double().mean())
    return r, exact_far


def _far(x):
    return float((nearest_component(MIX, x) == far_component(MIX, 0)).double().mean())


# -- rejection sampling: the exact answer and what it costs ----------------------------------------------

def test_rejection_acceptance_rate_is_the_tilt_normaliser_and_falls_with_k():
    m = load_mixture("overlapping")
    rates = []
    for k in (1.0, 3.0, 10.0):
        r = rejection_samples(m, 0, k, 1000, torch.Generator().manual_seed(1))
        z = tilt_normaliser(m, 0, k, res=512)
        sd = math.sqrt(z * (1 - z) / r.proposals)
        assert abs(r.acceptance_rate - z) < 4 * sd, (k, r.acceptance_rate, z)
        rates.append(z)
    assert abs(rates[0] - 0.5) < 1e-3  # Z_1 = p(y)
    assert rates[0] > 1.7 * rates[1] > 3.4 * rates[2]  # 0.50, 0.29, 0.13: the cost grows with k


def test_rejection_samples_are_at_the_noise_floor(refs):
    (cond, tilted, tilted2), _ = refs
    floor = expected_floor(tilted, tilted2)
    x = rejection_samples(MIX, 0, K, 2000, torch.Generator().manual_seed(7)).samples
    assert energy_distance(x, tilted) < 2 * floor
    # power: exact samples of p(x|y) (k = 1, far share 0.50 against 0.54) fail the same bound (measured 3.9x)
    assert energy_distance(cond, tilted) > 2 * floor


@pytest.mark.parametrize("k, message", [(-1.0, "k >= 0"), (float("nan"), "finite"), (float("inf"), "finite")])
def test_rejection_refuses_k_that_is_not_a_probability_power(k, message):
    with pytest.raises(InputError, match=message):
        rejection_samples(MIX, 0, k, 10, torch.Generator())


def test_rejection_gives_up_with_one_line_when_the_rate_collapses():
    with pytest.raises(InputError, match="acceptance rate"):
        rejection_samples(load_mixture("overlapping"), 0, 200.0, 1000, torch.Generator(), max_proposals=20_000)


# -- SMC: exact and Feynman-Kac weights ------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("weights", ["exact", "fk"])
def test_smc_reaches_the_floor_where_the_guided_sampler_does_not(refs, weights, path):
    (_, tilted, tilted2), exact_far = refs
    floor = expected_floor(tilted, tilted2)
    res = smc_tilted(MIX, 0, K, SCHED, steps=200, n=2000, seed=0, weights=weights, path=path)
    assert energy_distance(res.samples, tilted) < 2 * floor
    assert abs(_far(res.samples) - exact_far) < 3 * math.sqrt(exact_far * (1 - exact_far) / 2000)
    assert res.ancestors[0] == 2000 and 1 <= res.ancestors[-1] <= 2000
    assert len(res.ess) == 201 + res.temper_levels and (res.temper_levels > 0) == (path == "tempered")
    # the run it corrects: the guided sampler at the same k, steps and seed is far off (its far share ~0.8)
    plain = measure(MIX, _request(), schedule=SCHED, references=refs[0])
    assert plain.to_tilted > 50 * floor


def test_fk_and_exact_weights_agree_on_a_random_mixture():
    m = random_mixture(3)
    req = SampleRequest(method="cg-ddpm", label=1, scale=K, steps=200, n=2000, seed=0)
    cond, tilted, tilted2 = exact_references(m, req, res=512)
    floor = expected_floor(tilted, tilted2)
    exact = smc_tilted(m, 1, K, SCHED, steps=200, n=2000, seed=1, weights="exact", path="guided").samples
    fk = smc_tilted(m, 1, K, SCHED, steps=200, n=2000, seed=2, weights="fk", path="guided").samples
    assert energy_distance(exact, tilted) < 2 * floor and energy_distance(fk, tilted) < 2 * floor
    # power: the guided sampler at the same k is far off (measured 35x the floor)
    assert measure(m, req, schedule=SCHED, references=(cond, tilted, tilted2)).to_tilted > 10 * floor
    # one law: the component shares agree within Monte Carlo error. Over seeds the shares of both vary up to
    # 2x as much as n independent draws would (docs/results.md), so sd = sqrt((2 + 2) p (1 - p) / n)
    share = [torch.bincount(nearest_component(m, x), minlength=m.num_components).double() / len(x) for x in (exact, fk)]
    p = (share[0] + share[1]) / 2
    assert bool(((share[0] - share[1]).abs() <= 4 * torch.sqrt(4 * p * (1 - p) / 2000) + 1e-9).all())


def test_fk_weights_carry_the_tilted_marginals_at_every_level_1d():
    """On a mixture whose classes differ along x only, pi_t(x) = p_t(x) p_t(y|x)^k factorises and its
    x-marginal is a 1D grid integral: the FK-weighted particles match it at every recorded level."""
    m = Mixture.from_dict({"name": "1D", "means": [[-2.0, 0.0], [0.3, 0.0], [1.5, 0.0]],
                           "covs": [[[0.15, 0], [0, 0.3]]] * 3, "weights": [1, 1, 2], "labels": [0, 0, 1]})
    xs = torch.linspace(-6, 6, 2401, dtype=torch.float64)
    line = torch.stack([xs, torch.zeros_like(xs)], 1)  # y = 0: the y-factor is the same for every x
    thresholds = torch.tensor([-2.0, -1.0, 0.0, 0.5, 1.0])
    checked = []

    def callback(d):
        if d["i"] % 25:
            return
        log_pi = log_tilted(m, line, 0, K, d["alpha_bar"])
        p = torch.softmax(log_pi, 0)
        grid_cdf = torch.stack([p[xs <= a].sum() for a in thresholds])
        w = torch.softmax(d["logw"], 0)
        smc_cdf = torch.stack([w[d["x"][:, 0] <= a].sum() for a in thresholds])
        ess = float(1 / (w * w).sum())
        # Monte Carlo error of a weighted share (ESS particles), with 2x for MCMC correlation
        sd = torch.sqrt(grid_cdf * (1 - grid_cdf) / ess) * 2 + 1e-3
        assert bool(((smc_cdf - grid_cdf).abs() < 4 * sd).all()), (d["i"], smc_cdf, grid_cdf)
        checked.append(d["i"])

    smc_tilted(m, 0, K, SCHED, steps=100, n=2000, seed=0, weights="fk", path="guided", callback=callback)
    assert checked == [25, 50, 75, 100]  # 100: alpha_bar = 1, the data level


# random-2 (docs/smc_records.py), class 1: a narrow class-1 component beside a class-0 one. Along the guided path
# p_t(x) p_t(y|x)^3 holds 8% of the mass there at middle noise and 53% at the data: the few particles through the
# squeeze decide its mass (far share 0.42 / 0.43 against 0.467 on seeds 2 / 3, 10-14x the floor). The tempered
# path never squeezes it. A new seeded mixture (11) beside it, never tuned on.
@pytest.mark.parametrize("mixture_seed, label, seeds", [(2, 1, (2, 3)), (11, 0, (1,)), (11, 1, (1,))])
@pytest.mark.parametrize("weights", ["exact", "fk"])
def test_tempered_smc_meets_the_floor_on_seeded_random_mixtures(mixture_seed, label, seeds, weights):
    m = random_mixture(mixture_seed)
    for seed in seeds:
        req = SampleRequest(method="cg-ddpm", label=label, scale=K, steps=200, n=2000, seed=seed)
        refs = exact_references(m, req)
        floor = expected_floor(refs[1], refs[2])
        res = smc_tilted(m, label, K, SCHED, steps=200, n=2000, seed=seed, weights=weights)
        # 4x the expected floor: exact samples reached 3.0x it over the 54 recorded runs of the presets and
        # random mixtures (docs/results.md); the guided sampler at this k is 25-970x, the guided path up to 6.7x
        assert energy_distance(res.samples, refs[1]) < 4 * floor, (seed, energy_distance(res.samples, refs[1]) / floor)
    if mixture_seed == 2:  # power: the guided path on its worst seed for these weights is > 5x the expected floor
        seed = 2 if weights == "exact" else 3
        refs = exact_references(m, SampleRequest(method="cg-ddpm", label=label, scale=K, steps=200, n=2000, seed=seed))
        bad = smc_tilted(m, label, K, SCHED, steps=200, n=2000, seed=seed, weights=weights, path="guided").samples
        assert energy_distance(bad, refs[1]) > 5 * expected_floor(refs[1], refs[2])


def test_fk_weights_are_flat_at_k_0_and_1():
    for k in (0.0, 1.0):
        res = smc_tilted(MIX, 0, k, SCHED, steps=20, n=200, seed=0, weights="fk", moves=0, final_moves=0)
        assert all(e == pytest.approx(1.0) for e in res.ess) and res.resamples == 0


def test_line_integral_of_the_score_is_the_log_density_difference():
    gen = torch.Generator().manual_seed(0)
    x = MIX.sample(500, gen)[0]
    x_new = x + 0.3 * torch.randn(500, 2, generator=gen, dtype=torch.float64)
    ab = torch.tensor(0.6, dtype=torch.float64)

    def score(p):
        u, g = classifier_gradient(MIX, p, 0, ab)
        return u + K * g

    est, evals = line_integral(score, x, x_new, score(x), score(x_new))
    exact = log_tilted(MIX, x_new, 0, K, ab) - log_tilted(MIX, x, 0, K, ab)
    assert evals == 2 and float((est - exact).abs().max()) < 0.01


def test_hilbert_sorted_resampling_keeps_each_cluster_within_one_particle():
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(600, 2, generator=gen, dtype=torch.float64) * 0.1 + c
                   for c in (torch.tensor([-2.0, 0.0]), torch.tensor([2.0, 1.0]), torch.tensor([0.0, -2.0]))])
    x = x[torch.randperm(1800, generator=gen)]
    logw = torch.randn(1800, generator=gen, dtype=torch.float64)
    nearest = torch.cdist(x, torch.tensor([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.0]], dtype=torch.float64)).argmin(1)
    target = torch.zeros(3, dtype=torch.float64).index_add_(0, nearest, torch.softmax(logw, 0)) * 1800
    order = hilbert_order(x)
    assert sorted(order.tolist()) == list(range(1800))
    for seed in range(5):
        idx = systematic_resample(logw, torch.Generator().manual_seed(seed), order)
        counts = torch.bincount(nearest[idx], minlength=3).double()
        assert float((counts - target).abs().max()) <= 2.0  # a cluster may be split in two runs on the curve


@pytest.mark.parametrize("kw, message", [(dict(n=50), "at least 100 particles"), (dict(weights="tds"), "weights"),
                                         (dict(moves=-1), "moves"), (dict(k=-1.0), "k must"),
                                         (dict(path="straight"), "path")])
def test_bad_smc_settings_are_one_clear_error(kw, message):
    args = dict(n=200, steps=10, weights="exact", moves=1, k=K)
    args.update(kw)
    k = args.pop("k")
    with pytest.raises(InputError, match=message):
        smc_tilted(MIX, 0, k, SCHED, **args)


def test_compare_tilted_counts_the_compute_of_each_sampler():
    from cgd.toy.oracle import CORRECTOR, compare_tilted

    comp = compare_tilted(MIX, 0, K, steps=20, n=200, seed=0, res=256, smc_path="guided")
    rows = {r.key: r for r in comp.rows}
    assert list(rows) == ["sampler", "corrector", "smc-exact", "smc-fk", "rejection"]
    assert rows["sampler"].evals_per_sample == 20 and rows["corrector"].evals_per_sample == 20 * (1 + CORRECTOR[0])
    # SMC: one evaluation per step, one per MALA move (FK: two more for the line integral), 3 moves a step, 10 at the end
    assert rows["smc-exact"].evals_per_sample == 1 + 20 + 3 * 20 + 10
    assert rows["smc-fk"].evals_per_sample == 1 + 20 + 3 * (3 * 20 + 10)
    rej = rows["rejection"]
    assert rej.evals_per_sample == pytest.approx(20 / rej.acceptance)  # draws per kept sample x steps
    assert all(len(r.samples) == 200 for r in comp.rows) and len(rows["smc-fk"].ess) == 21
    # the tempered path: the same steps, then each tempering step at the data with its 10 moves
    tempered = {r.key: r for r in compare_tilted(MIX, 0, K, steps=20, n=200, seed=0, res=256).rows}["smc-exact"]
    assert tempered.temper_levels >= 1 and len(tempered.ess) == 21 + tempered.temper_levels
    assert tempered.evals_per_sample == 1 + 20 + 3 * 20 + 10 * tempered.temper_levels + 10
