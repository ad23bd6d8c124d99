"""The 1D pictures of the scale explorer against closed forms."""

import math

import numpy as np
import pytest

from cgd.toy.scale1d import TWO_CLASSES, Mixture1D, power_of_gaussian, sharpen, taylor_check, total_variation
from cgd.toy.sampling import default_schedule

XS = np.linspace(-6, 6, 4001)


@pytest.mark.parametrize("s", [0.5, 1.0, 4.0])
def test_power_of_standard_normal_is_normal_with_variance_one_over_s(s):
    xs = np.linspace(-15, 15, 6001)
    want = np.exp(-0.5 * xs**2 * s) / math.sqrt(2 * math.pi / s)
    np.testing.assert_allclose(power_of_gaussian(xs, s), want, atol=1e-9)


def test_power_of_gaussian_is_exact_on_a_short_grid_too():
    xs = np.linspace(-4, 4, 801)  # N(0, 4) has 2.3% of its mass outside [-4, 4]: no renormalising on the grid
    np.testing.assert_allclose(power_of_gaussian(xs, 0.25), np.exp(-xs**2 / 8) / math.sqrt(8 * math.pi), rtol=1e-12)


def test_guidance_is_not_a_temperature_of_p_x_given_y():
    """p(x) p(y|x)^s tempers only the classifier: at s = 3 it is much wider than p(x|y) at T = 1/3."""
    from cgd.toy.scale1d import density_sd, tempered_conditional

    guided = sharpen(XS, 1, [3.0])[3.0][1]
    cold = tempered_conditional(XS, 1, 3.0)
    assert abs(density_sd(XS, cold) - 0.6 / math.sqrt(3)) < 1e-6  # N(1, 0.36)^3 = N(1, 0.12)
    assert abs(density_sd(XS, guided) - 0.52) < 0.01
    assert density_sd(XS, guided) > 1.4 * density_sd(XS, cold)
    np.testing.assert_allclose(tempered_conditional(XS, 1, 1.0), sharpen(XS, 1, [1.0])[1.0][1], atol=1e-9)


def test_power_must_be_positive():
    with pytest.raises(ValueError):
        power_of_gaussian(XS, 0.0)


def test_sharpen_interpolates_marginal_conditional_and_beyond():
    curves = sharpen(XS, 1, [0.0, 1.0, 8.0])
    px = np.exp(TWO_CLASSES.log_px(XS))
    p_x_given_1 = np.exp(-0.5 * (XS - 1) ** 2 / 0.36) / math.sqrt(2 * math.pi * 0.36)
    np.testing.assert_allclose(curves[0.0][1], px, atol=1e-6)
    np.testing.assert_allclose(curves[1.0][1], p_x_given_1, atol=1e-6)
    # larger s: less mass on the wrong side of the boundary, p(y|x)^s never above 1
    left = XS < 0
    assert np.trapezoid(curves[8.0][1][left], XS[left]) < 0.1 * np.trapezoid(curves[1.0][1][left], XS[left])
    assert curves[8.0][0].max() <= 1.0 + 1e-12


def test_grad_log_post_matches_finite_differences():
    m = Mixture1D(means=(-1.0, 0.5, 2.0), sds=(0.4, 0.7, 0.5), weights=(1, 2, 1), labels=(0, 1, 0))
    x = np.linspace(-3, 3, 13)
    h = 1e-5
    for ab in (1.0, 0.4):
        fd = (m.log_post(x + h, 0, ab) - m.log_post(x - h, 0, ab)) / (2 * h)
        np.testing.assert_allclose(m.grad_log_post(x, 0, ab), fd, rtol=1e-5, atol=1e-7)


def test_gaussian_shift_is_good_with_many_steps_and_breaks_with_few():
    sched = default_schedule()
    fine = taylor_check(-0.5, 1, 4.0, sched, 1000, [250, 500, 750])
    coarse = taylor_check(-0.5, 1, 4.0, sched, 10, [5, 6, 7])
    assert max(r.tv for r in fine) < 0.02
    assert max(r.tv for r in coarse) > 0.3
    for r in fine + coarse:  # both densities are normalised
        assert abs(np.trapezoid(r.exact, r.xs) - 1) < 1e-6 and abs(np.trapezoid(r.approx, r.xs) - 1) < 1e-6


def test_total_variation_bounds():
    p = power_of_gaussian(XS, 1.0)
    assert total_variation(p, p, XS) == 0.0
    far = np.exp(-0.5 * (XS - 5.9) ** 2 / 1e-3)
    far /= np.trapezoid(far, XS)
    assert total_variation(power_of_gaussian(XS, 100.0), far, XS) > 0.99
