"""The 2D page's numbers: exact densities, recorded runs and scale sweeps."""

import numpy as np
import pytest
import torch

from cgd.pipeline import SampleRequest
from cgd.toy.mixture import load_mixture, presets
from cgd.toy.sampling import default_schedule
from cgd.toy.views import (class_posterior_grid, density_grid, run_guided, run_guided_scales, snapshot_steps,
                            sweep_scales)

MIX = load_mixture(presets()["three_blobs"])
OVERLAP = load_mixture(presets()["overlapping"])  # classes overlap: the scale matters


def test_tilted_density_at_s1_is_the_class_conditional_and_at_s0_the_marginal():
    g1 = density_grid(MIX, 1, 1.0, res=90)
    g0 = density_grid(MIX, 1, 0.0, res=90)
    cell = (g1.xs[1] - g1.xs[0]) ** 2
    for z in (g1.cond, g1.tilted, g1.marginal):
        assert abs(z.sum() * cell - 1) < 1e-9
    np.testing.assert_allclose(g1.tilted, g1.cond, atol=1e-9 * g1.cond.max())
    np.testing.assert_allclose(g0.tilted, g0.marginal, atol=1e-9 * g0.marginal.max())
    o1, o5 = density_grid(OVERLAP, 1, 1.0, res=90), density_grid(OVERLAP, 1, 5.0, res=90)
    assert np.abs(o5.tilted - o1.cond).max() > 0.1 * o1.cond.max()


def test_class_posterior_tends_to_the_prior_at_high_noise():
    _, post = class_posterior_grid(MIX, 0, 1e-8, res=30)
    np.testing.assert_allclose(post, float(MIX.class_weights[0]), atol=1e-3)
    _, sharp = class_posterior_grid(MIX, 0, 1.0, res=30)
    assert sharp.max() > 0.99 and sharp.min() < 0.01


def test_snapshot_steps_cover_first_and_last():
    assert snapshot_steps(100, 5) == [0, 25, 50, 74, 99]
    assert snapshot_steps(3, 20) == [0, 1, 2]


def test_recorded_mean_shift_is_s_sigma_times_the_exact_classifier_gradient():
    s = 2.0
    run = run_guided(MIX, SampleRequest(method="cg-ddpm", label=0, scale=s, steps=50, n=64, seed=3),
                     record=5, keep=16)
    assert run.samples.shape == (64, 2) and run.path.shape == (6, 16, 2)
    sched = default_schedule()
    for snap in run.snapshots:
        x = torch.from_numpy(snap.x_t)
        ab = sched.alpha_bar[snap.t]
        g = (MIX.score(x, ab, 0) - MIX.score(x, ab)).numpy()
        np.testing.assert_allclose(snap.shift, s * snap.var * g, rtol=1e-4, atol=1e-6)
    zero = run_guided(MIX, SampleRequest(method="cg-ddpm", label=0, scale=0.0, steps=20, n=8), record=3, keep=8)
    assert all(np.abs(sn.shift).max() == 0 for sn in zero.snapshots)


@pytest.mark.parametrize("method", ["cg-ddpm", "cfg"])
def test_larger_scale_is_more_typical_and_less_diverse(method):
    req = SampleRequest(method=method, label=1, scales=(0.0, 1.0, 4.0), steps=50, n=600, seed=0)
    pts = sweep_scales(OVERLAP, req)
    assert pts[0].share_y < pts[1].share_y <= pts[2].share_y
    assert pts[2].spread < pts[0].spread
    assert pts[2].mean_log_post > pts[1].mean_log_post


def test_arrow_gain_is_a_round_factor_that_never_overshoots_nor_magnifies_noise():
    from ui.figures import MAX_ARROW_GAIN, arrow_gain

    shift = np.array([[0.03, 0.0], [0.04, 0.0], [0.05, 0.0]])
    assert arrow_gain(shift, 6.0) == 5.0  # wants 0.36 / 0.04 = 9: the round factor below it
    assert arrow_gain(shift / 10, 6.0) == MAX_ARROW_GAIN == 20.0  # wants 90: capped
    assert arrow_gain(np.full((3, 2), 1e-9), 6.0) == MAX_ARROW_GAIN  # noise is never blown up 10^8 times
    assert arrow_gain(np.array([[1.0, 0.0]]), 6.0) == 1.0
    assert arrow_gain(np.zeros((3, 2)), 6.0) == 1.0


def test_runs_at_several_scales_in_one_batch_are_the_separate_runs():
    req = SampleRequest(method="cg-ddpm", label=1, steps=30, n=40, seed=5)
    runs = run_guided_scales(OVERLAP, req.at_scales((0.0, 1.5, 4.0)), record=4, keep=10)
    for s, run in zip((0.0, 1.5, 4.0), runs):
        alone = run_guided(OVERLAP, req.at_scales((s,)), record=4, keep=10)
        np.testing.assert_allclose(run.samples, alone.samples, atol=1e-5)
        np.testing.assert_allclose(run.path, alone.path, atol=1e-5)
        assert [sn.t for sn in run.snapshots] == [sn.t for sn in alone.snapshots]
        for a, b in zip(run.snapshots, alone.snapshots):
            np.testing.assert_allclose(a.shift, b.shift, atol=1e-5)
    assert np.abs(runs[0].samples - runs[2].samples).max() > 0.1
