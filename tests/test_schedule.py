"""Noise schedules and the documented equations, checked numerically."""

import math

import pytest
import torch

from cgd.errors import InputError
from cgd.schedule import (SamplingGrid, eps_to_score, eps_to_x0, make_schedule, score_to_eps, x0_to_eps)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_tables_are_float64_and_consistent(kind):
    s = make_schedule(kind, 1000)
    assert s.betas.dtype == torch.float64 and s.alpha_bar.dtype == torch.float64
    # alpha_bar_t = prod_{s<=t} (1 - beta_s), computed independently in log space
    ab = torch.exp(torch.cumsum(torch.log1p(-s.betas), 0))
    torch.testing.assert_close(s.alpha_bar, ab, rtol=1e-12, atol=1e-15)
    assert bool((s.alpha_bar[1:] < s.alpha_bar[:-1]).all())
    torch.testing.assert_close(s.log_snr, torch.log(ab / (1 - ab)), rtol=1e-10, atol=1e-10)


def test_linear_endpoints_and_cosine_formula():
    lin = make_schedule("linear", 1000)
    assert lin.betas[0].item() == pytest.approx(1e-4) and lin.betas[-1].item() == pytest.approx(0.02)
    cos = make_schedule("cosine", 1000)
    t = torch.arange(1, 1001, dtype=torch.float64)
    f = lambda u: torch.cos((u / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    expected = f(t) / f(torch.zeros(1, dtype=torch.float64))
    # identical except where beta was clipped at 0.999 (the very last steps)
    torch.testing.assert_close(cos.alpha_bar[:-5], expected[:-5], rtol=1e-10, atol=1e-12)


def test_posterior_matches_bayes_rule():
    """q(x_{t-1}|x_t,x_0) from the product of two Gaussians, completed square by hand."""
    s = make_schedule("linear", 1000)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(6, 3, dtype=torch.float64, generator=g)
    x_t = torch.randn(6, 3, dtype=torch.float64, generator=g)
    t = torch.tensor([1, 5, 100, 400, 800, 999])
    mean, var = s.q_posterior(x0, x_t, t)
    ab_prev, alpha, beta = s.alpha_bar_prev[t], s.alphas[t], s.betas[t]
    prec = 1 / (1 - ab_prev) + alpha / beta
    want_mean = (ab_prev.sqrt()[:, None] * x0 / (1 - ab_prev)[:, None] + alpha.sqrt()[:, None] * x_t / beta[:, None]) / prec[:, None]
    torch.testing.assert_close(mean, want_mean, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(var, 1 / prec, rtol=1e-9, atol=1e-15)


def test_q_sample_moments():
    s = make_schedule("cosine", 1000)
    x0 = torch.full((200000, 1), 0.7, dtype=torch.float64)
    t = torch.full((200000,), 300)
    x_t = s.q_sample(x0, t, torch.randn(x0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    ab = s.alpha_bar[300].item()
    assert x_t.mean().item() == pytest.approx(0.7 * math.sqrt(ab), abs=5e-3)
    assert x_t.var().item() == pytest.approx(1 - ab, rel=1e-2)


def test_conversions_round_trip():
    g = torch.Generator().manual_seed(2)
    x_t, eps = torch.randn(4, 2, generator=g, dtype=torch.float64), torch.randn(4, 2, generator=g, dtype=torch.float64)
    ab = torch.tensor([0.9, 0.5, 0.1, 0.01], dtype=torch.float64)
    x0 = eps_to_x0(x_t, eps, ab)
    torch.testing.assert_close(x0_to_eps(x_t, x0, ab), eps)
    torch.testing.assert_close(score_to_eps(eps_to_score(eps, ab), ab), eps)
    # x_t = sqrt(ab) x0 + sqrt(1-ab) eps
    torch.testing.assert_close(ab.sqrt()[:, None] * x0 + (1 - ab).sqrt()[:, None] * eps, x_t)


@pytest.mark.parametrize("steps", [1, 2, 7, 50, 1000])
def test_respaced_grid_keeps_marginals(steps):
    s = make_schedule("linear", 1000)
    grid = s.grid(steps)
    assert len(grid) == steps
    assert int(grid.timesteps[0]) == 999 and bool((grid.timesteps[1:] < grid.timesteps[:-1]).all())
    # the respaced betas compose to the training alpha_bar at every grid point
    ab_from_betas = torch.flip(torch.cumprod(torch.flip(1 - grid.betas, [0]), 0), [0])
    torch.testing.assert_close(ab_from_betas, s.alpha_bar[grid.timesteps], rtol=1e-10, atol=0)
    if steps == 1000:
        torch.testing.assert_close(grid.betas, torch.flip(s.betas, [0]))
        torch.testing.assert_close(grid.posterior_variance[:-1], torch.flip(s.posterior_variance, [0])[:-1])


@pytest.mark.parametrize("bad", [0, -3, 1001, 2.5, float("nan"), float("inf"), "ten"])
def test_bad_step_counts_are_refused(bad):
    with pytest.raises(InputError):
        make_schedule("linear", 1000).grid(bad)


def test_unknown_schedule_and_bad_grid():
    with pytest.raises(InputError, match="unknown schedule"):
        make_schedule("sigmoid")
    with pytest.raises(InputError):
        SamplingGrid.from_timesteps(make_schedule(), [1000])
