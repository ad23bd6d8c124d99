"""APG, CFG++, CFG-Zero* and the rising guidance schedules: each formula against a hand computation of one step, and
APG and CFG-Zero* against numbers diffusers 0.42.1 computed once (its guiders' code is not used here, only their
output on the fixed inputs below: `AdaptiveProjectedGuidance` and `ClassifierFreeZeroStarGuidance`, run with
`guider.set_state(step, 2, t)` then `guider.forward(pred_cond, pred_uncond).pred`, float64 inputs)."""

import math

import numpy as np
import pytest
import torch

from cgd.errors import InputError
from cgd.guidance import (apg_combine, apg_model_fn, cfg_model_fn, cfg_zero_star_model_fn, cfgpp_model_fn,
                          guidance_ramp, zero_star_combine)
from cgd.pipeline import SampleRequest
from cgd.samplers import sample_ddim
from cgd.schedule import eps_to_velocity, flow_coords, make_schedule, velocity_to_eps
from cgd.toy.mixture import load_mixture
from cgd.toy.sampling import toy_sample

SCHED = make_schedule("linear", 1000)
MIX = load_mixture("three_blobs")
NULL = 3

# -- the numbers diffusers 0.42.1 gave (copied, not computed) ------------------------------------------------
C1 = torch.tensor([[0.50, -1.20, 0.30], [2.00, 0.10, -0.70]], dtype=torch.float64)
U1 = torch.tensor([[0.10, -0.40, 0.90], [1.20, -0.30, 0.20]], dtype=torch.float64)
C2 = torch.tensor([[0.60, -1.00, 0.10], [1.50, 0.40, -0.90]], dtype=torch.float64)
U2 = torch.tensor([[0.20, -0.70, 0.50], [1.10, 0.20, 0.10]], dtype=torch.float64)
# AdaptiveProjectedGuidance(guidance_scale=2.0, adaptive_projected_guidance_momentum=-0.5,
# adaptive_projected_guidance_rescale=1.5, eta=0.3, use_original_formulation=True): steps 0 and 1
DIFFUSERS_APG_ORIGINAL = (
    [[0.9146067415730337, -1.8750561797752807, -1.1312359550561797],
     [2.187555555555555, 0.8293777777777778, -2.005644444444444]],
    [[0.993868613138686, -0.7897810218978103, -0.10102189781021895],
     [1.1771739130434782, 0.3139130434782609, -1.806304347826087]])
# the same with guidance_scale=3.0, use_original_formulation=False (diffusers' default formulation)
DIFFUSERS_APG_DEFAULT = (
    [[0.7219101123595506, -1.4125842696629212, -1.2468539325842696],
     [1.4813333333333327, 0.7940666666666667, -1.7584666666666664]],
    [[0.7908029197080291, -0.38467153284671546, 0.19846715328467157],
     [0.6157608695652174, 0.07086956521739135, -1.2594565217391305]])
# ClassifierFreeZeroStarGuidance(guidance_scale=3.0, zero_init_steps=1): step 0 is zero; step 1 on (C2, U2)
DIFFUSERS_ZERO_STAR_STEP1 = [[1.3538461208343504, -1.438461422920227, -0.8153846979141236],
                             [1.6365078449249264, 0.6793650627136231, -2.9603174686431886]]


def test_apg_matches_diffusers_original_formulation_with_momentum_clipping_and_eta():
    """Our w is diffusers' guidance_scale in its original (Ho et al.) formulation: D_c + w (D_perp + eta D_par)."""
    p1, d1 = apg_combine(C1, U1, 2.0, eta=0.3, r=1.5, momentum=-0.5)
    p2, _ = apg_combine(C2, U2, 2.0, eta=0.3, r=1.5, momentum=-0.5, previous=d1)
    torch.testing.assert_close(p1, torch.tensor(DIFFUSERS_APG_ORIGINAL[0], dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(p2, torch.tensor(DIFFUSERS_APG_ORIGINAL[1], dtype=torch.float64), rtol=0, atol=1e-12)


def test_diffusers_default_apg_starts_from_the_unconditional_prediction():
    """diffusers' default (guidance_scale = 1 + w) is D_u + (1 + w) update, not the paper's D_c + w update: with the
    same update, the two differ by Delta - update, which is not zero at eta < 1 (here eta = 0.3)."""
    w = 2.0
    p1, d1 = apg_combine(C1, U1, w, eta=0.3, r=1.5, momentum=-0.5)
    p2, _ = apg_combine(C2, U2, w, eta=0.3, r=1.5, momentum=-0.5, previous=d1)
    for ours, c, u, theirs in ((p1, C1, U1, DIFFUSERS_APG_DEFAULT[0]), (p2, C2, U2, DIFFUSERS_APG_DEFAULT[1])):
        update = (ours - c) / w
        torch.testing.assert_close(u + (1 + w) * update, torch.tensor(theirs, dtype=torch.float64), rtol=0, atol=1e-12)
        assert (ours - torch.tensor(theirs, dtype=torch.float64)).abs().max() > 0.1


def test_apg_one_step_by_hand():
    """x0 from eps, Delta split along x0_hat(c) by hand, eps back: APG's model function at one step."""
    torch.manual_seed(0)
    x = torch.randn(4, 2, dtype=torch.float64)
    y = torch.full((4,), 1)
    t = torch.full((4,), 600)

    def net(x_t, t_, labels):
        return torch.where((labels == NULL)[:, None], 0.5 * x_t + 0.1, -0.2 * x_t + 0.3)

    w, eta = 1.7, 0.25
    out = apg_model_fn(net, y, w, NULL, SCHED, eta=eta)(x, t)
    ab = float(SCHED.alpha_bar[600])
    e_c, e_u = -0.2 * x + 0.3, 0.5 * x + 0.1
    x0_c, x0_u = (x - math.sqrt(1 - ab) * e_c) / math.sqrt(ab), (x - math.sqrt(1 - ab) * e_u) / math.sqrt(ab)
    d = x0_c - x0_u
    par = (d * x0_c).sum(1, keepdim=True) / (x0_c * x0_c).sum(1, keepdim=True) * x0_c
    x0 = x0_c + w * ((d - par) + eta * par)
    torch.testing.assert_close(out.eps, (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab))
    torch.testing.assert_close(out.eps_unguided, e_c)
    # eta = 1, r = inf, no momentum: CFG itself
    plain = apg_model_fn(net, y, w, NULL, SCHED, eta=1.0)(x, t).eps
    torch.testing.assert_close(plain, cfg_model_fn(net, y, w, NULL)(x, t).eps)


def test_apg_clips_the_update_norm_per_sample():
    big = torch.tensor([[10.0, 0.0], [0.1, 0.0]], dtype=torch.float64)
    zero = torch.zeros(2, 2, dtype=torch.float64)
    base = torch.tensor([[0.0, 1.0], [0.0, 1.0]], dtype=torch.float64)  # Delta is orthogonal to x0_c: all of it kept
    x0, _ = apg_combine(base, base - big, 1.0, eta=0.0, r=2.0)  # Delta = big: norm 10 clipped to 2, 0.1 kept
    torch.testing.assert_close(x0 - base, torch.tensor([[2.0, 0.0], [0.1, 0.0]], dtype=torch.float64))
    x0, _ = apg_combine(base, base - zero, 1.0, eta=0.0, r=2.0)  # Delta = 0: nothing to clip, no division by 0
    torch.testing.assert_close(x0, base)


def test_cfgpp_one_ddim_step_by_hand():
    """CFG++: x0_hat from eps_lambda, re-noised with the unconditional eps."""
    torch.manual_seed(1)
    x = torch.randn(5, 2, dtype=torch.float64)
    y = torch.full((5,), 0)

    def net(x_t, t_, labels):
        return torch.where((labels == NULL)[:, None], 0.3 * x_t - 0.2, 0.9 * x_t + 0.4)

    lam = 0.6
    grid = SCHED.grid(4)
    seen = []
    sample_ddim(cfgpp_model_fn(net, y, lam, NULL), x, grid, callback=seen.append)
    ab, ab_prev = float(grid.alpha_bar[0]), float(grid.alpha_bar_prev[0])
    e_u, e_c = 0.3 * x - 0.2, 0.9 * x + 0.4
    e_lam = e_u + lam * (e_c - e_u)
    x0 = (x - math.sqrt(1 - ab) * e_lam) / math.sqrt(ab)
    torch.testing.assert_close(seen[0]["x_next"], math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * e_u)
    torch.testing.assert_close(seen[0]["x0_hat"], x0)


def test_a_cfgpp_step_is_a_cfg_step_at_a_weight_that_grows_with_the_steps():
    """One DDIM step of CFG++ at lambda equals one of CFG at 1 + w = lambda c1 / (c1 - c2); on a finer grid that w
    is larger, and on the oracle the share of class y at a fixed lambda grows with the steps."""
    from cgd.guidance import cfgpp_equivalent_w

    torch.manual_seed(4)
    x = torch.randn(5, 2, dtype=torch.float64)
    y = torch.full((5,), 0)

    def net(x_t, t_, labels):
        return torch.where((labels == NULL)[:, None], 0.3 * x_t - 0.2, 0.9 * x_t + 0.4)

    from cgd.schedule import SamplingGrid

    grid = SamplingGrid.from_timesteps(SCHED, [444, 333])  # one step of a 10-step grid: t = 444 -> 333
    ab, ab_prev = float(grid.alpha_bar[0]), float(grid.alpha_bar_prev[0])
    w = cfgpp_equivalent_w(0.9, ab, ab_prev)
    one = []
    for fn in (cfgpp_model_fn(net, y, 0.9, NULL), cfg_model_fn(net, y, w, NULL)):
        seen = []
        sample_ddim(fn, x, grid, callback=seen.append)
        one.append(seen[0]["x_next"])
    torch.testing.assert_close(one[0], one[1])
    # a 100-step grid's step from the same level goes to t = 434, and its equivalent w is several times larger
    assert cfgpp_equivalent_w(0.9, ab, float(SCHED.alpha_bar[434])) > 5 * w > 0
    mix = load_mixture("overlapping")
    shares = []
    for steps in (10, 40):
        x0 = toy_sample(mix, SampleRequest(method="cfg++", label=0, scale=0.23, steps=steps, n=400, seed=0)).double()
        shares.append(float((mix.class_log_joint(x0, 1.0).argmax(1) == 0).double().mean()))
    assert shares[1] > shares[0] + 0.05, shares


def test_cfgpp_at_lambda_0_is_the_unconditional_ddim_run():
    a = toy_sample(MIX, SampleRequest(method="cfg++", label=1, scale=0.0, steps=20, n=200, seed=3))
    b = toy_sample(MIX, SampleRequest(method="uncond", label=None, scale=0.0, steps=20, n=200, seed=3, sampler="ddim"))
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_flow_conversion_is_exact():
    """x_t = alpha x0 + sigma eps: z = x_t / (alpha + sigma) = (1 - tau) x0 + tau eps, v = eps - x0, eps = z + (1 - tau) v."""
    torch.manual_seed(2)
    x0, eps = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    ab = SCHED.alpha_bar[[10, 200, 400, 600, 800, 999]]
    a, s = ab.sqrt()[:, None], (1 - ab).sqrt()[:, None]
    x_t = a * x0 + s * eps
    z, tau = flow_coords(x_t, ab)
    torch.testing.assert_close(z, (1 - tau) * x0 + tau * eps)
    torch.testing.assert_close(tau, s / (a + s))
    v = eps_to_velocity(x_t, eps, ab)
    torch.testing.assert_close(v, eps - x0)
    torch.testing.assert_close(velocity_to_eps(x_t, v, ab), eps)


def test_zero_star_matches_diffusers_and_the_hand_formula():
    ours = zero_star_combine(C2, U2, 2.0)
    torch.testing.assert_close(ours, torch.tensor(DIFFUSERS_ZERO_STAR_STEP1, dtype=torch.float64), rtol=0, atol=1e-6)
    s_star = (C2 * U2).sum(1, keepdim=True) / (U2 * U2).sum(1, keepdim=True)
    torch.testing.assert_close(ours, s_star * U2 + 3.0 * (C2 - s_star * U2), rtol=1e-7, atol=1e-7)


def test_zero_star_one_step_by_hand_and_zero_init_keeps_z():
    torch.manual_seed(3)
    x = torch.randn(4, 2, dtype=torch.float64)
    y = torch.full((4,), 2)

    def net(x_t, t_, labels):
        return torch.where((labels == NULL)[:, None], -0.4 * x_t + 0.2, 0.7 * x_t - 0.1)

    t = torch.full((4,), 500)
    fn = cfg_zero_star_model_fn(net, y, 1.5, NULL, SCHED, zero_ts=(999,))
    ab = float(SCHED.alpha_bar[500])
    a, s = math.sqrt(ab), math.sqrt(1 - ab)
    v = {}
    for k, e in (("c", 0.7 * x - 0.1), ("u", -0.4 * x + 0.2)):
        v[k] = e - (x - s * e) / a
    s_star = (v["c"] * v["u"]).sum(1, keepdim=True) / (v["u"] * v["u"]).sum(1, keepdim=True)
    vt = s_star * v["u"] + 2.5 * (v["c"] - s_star * v["u"])
    torch.testing.assert_close(fn(x, t).eps, x / (a + s) + a / (a + s) * vt)
    # zero-init: the first step's velocity is 0, so the DDIM step keeps z = x_t / (alpha + sigma)
    grid = SCHED.grid(5)
    seen = []
    first = cfg_zero_star_model_fn(net, y, 1.5, NULL, SCHED, zero_ts=(int(grid.timesteps[0]),))
    sample_ddim(first, x, grid, callback=seen.append)
    z0, _ = flow_coords(x, grid.alpha_bar[0])
    z1, _ = flow_coords(seen[0]["x_next"], grid.alpha_bar_prev[0])
    torch.testing.assert_close(z1, z0)
    assert (seen[1]["x_next"] - seen[0]["x_next"]).abs().max() > 1e-3  # the second step moves


def test_rising_schedules_by_hand():
    lin, cos = guidance_ramp("linear", 1000), guidance_ramp("cosine", 1000)
    t = lambda v: torch.tensor([v])  # noqa: E731
    assert guidance_ramp("constant", 1000) is None
    assert lin(t(0)) == 2.0 and abs(lin(t(500)) - 1.0) < 1e-12 and lin(t(999)) == pytest.approx(0.002)
    assert cos(t(0)) == 2.0 and abs(cos(t(500)) - 1.0) < 1e-12 and cos(t(999)) == pytest.approx(0.0, abs=1e-4)
    # both rise as the noise falls and average 1 over the training steps
    for ramp in (lin, cos):
        vals = [ramp(t(v)) for v in range(1000)]
        assert all(a >= b for a, b in zip(vals, vals[1:])) and abs(sum(vals) / 1000 - 1.0) < 2e-3
    # CFG with the linear schedule at one step: w(t) = w * 2 (1 - t / T)
    x = torch.randn(3, 2, dtype=torch.float64)
    y = torch.zeros(3, dtype=torch.long)

    def net(x_t, t_, labels):
        return torch.where((labels == NULL)[:, None], x_t, -x_t + 1)

    out = cfg_model_fn(net, y, 2.0, NULL, ramp=lin)(x, torch.full((3,), 250)).eps
    w_t = 2.0 * 2 * (1 - 250 / 1000)
    torch.testing.assert_close(out, (1 + w_t) * (-x + 1) - w_t * x)


@pytest.mark.parametrize("kw,match", [
    (dict(method="cfg++", scale=1.5), "λ must be between 0 and 1"),
    (dict(method="apg", options={"r": 0}), "r .* must lie in \\(0"),
    (dict(method="apg", options={"r": -2}), "must lie in"),
    (dict(method="apg", options={"eta": 1.5}), "eta"),
    (dict(method="apg", options={"momentum": 1.0}), "momentum"),
    (dict(method="apg", options={"rr": 3}), "no option 'rr'"),
    (dict(method="cfg", options={"eta": 0}), "takes none"),
    (dict(method="cfg-zero-star", options={"zero_init_steps": 1.5}), "whole"),
    (dict(method="cfg-zero-star", sampler="ddpm"), "probability-flow ODE"),
    (dict(method="cfg++", sampler="dpmpp-2m"), "ddim sampler"),
    (dict(method="cg-ddpm", guidance_schedule="linear"), "no guidance schedule"),
    (dict(method="cfg", guidance_schedule="exponential"), "unknown guidance schedule"),
    (dict(method="apg", corrector_steps=2), "no corrector"),
    (dict(method="magic"), "unknown method"),
])
def test_bad_new_method_requests_are_one_line(kw, match):
    with pytest.raises(InputError, match=match) as e:
        SampleRequest(**{"label": 0, "scale": 1.0, **kw})
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("method,kw", [("apg", {}), ("apg", {"options": {"eta": 1.0, "r": 0.5, "momentum": -0.5}}),
                                       ("cfg++", {}), ("cfg-zero-star", {}), ("cfg-zero-star", {"sampler": "dpmpp-2m"}),
                                       ("cfg", {"guidance_schedule": "cosine"}), ("apg", {"guidance_schedule": "linear"})])
def test_new_methods_run_and_batch_over_scales(method, kw):
    """Each runs on the toy, and a batch over scales is each scale's own run (common random numbers)."""
    scales = (0.2, 0.8)
    req = SampleRequest(method=method, label=1, steps=15, n=60, seed=5, **kw)
    both = toy_sample(MIX, req.at_scales(scales))
    assert torch.isfinite(both).all()
    for k, s in enumerate(scales):
        torch.testing.assert_close(both[k * 60:(k + 1) * 60], toy_sample(MIX, SampleRequest(**{**req.__dict__,
                                                                                           "scale": s})),
                                   rtol=1e-5, atol=1e-5)


def test_toy_cli_runs_the_new_methods(tmp_path, capsys):
    from cgd.toy.__main__ import main

    for method, extra in (("apg", ["--param", "eta=0", "--param", "r=2"]), ("cfg++", ["--scale", "0.5"]),
                          ("cfg-zero-star", ["--guidance-schedule", "linear"])):
        out = tmp_path / f"{method}.npy"
        assert main(["sample", "--method", method, "--steps", "10", "--n", "50", "--out", str(out), *extra]) == 0
        assert np.load(out).shape == (50, 2)
    capsys.readouterr()  # the runs' progress bars
    for extra, match in ((["--method", "cfg++", "--scale", "2"], "λ must be between 0 and 1"),
                         (["--method", "apg", "--param", "r=0"], "must lie in (0"),
                         (["--method", "apg", "--param", "r"], "NAME=VALUE")):
        assert main(["sample", "--steps", "5", "--n", "10", "--out", str(tmp_path / "x.npy"), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and match in err, err


def test_the_zoo_sets_each_method_as_it_says_and_its_notes_read_off_the_run():
    """k-methods at k0 by their tilt; the others at the exact tilted density's class share (grid-exact); the page's
    "what to notice" names the rows the numbers pick."""
    from cgd.toy.zoo import ZooEntry, guidance_zoo, tilted_share_spread
    from ui.zoo import notice, table

    mix = load_mixture("overlapping")
    entries = (ZooEntry("cg-ddpm"), ZooEntry("cfg"), ZooEntry("apg"), ZooEntry("cfg", "linear"))
    zoo = guidance_zoo(mix, 0, k0=2.0, steps=10, n=300, seed=0, entries=entries, res=256)
    rows = {r.key: r for r in zoo.rows}
    assert rows["cg-ddpm"].scale == 2.0 and rows["cfg"].scale == 1.0 and rows["cfg"].matched_by == "k"
    share, spread = tilted_share_spread(mix, 0, (2.0,), res=256)[0]
    assert zoo.target_share == share and zoo.exact_spread == spread
    for key in ("apg", "cfg/linear"):
        assert rows[key].matched_by == "share" and rows[key].reached and abs(rows[key].share_y - share) < 0.05
    best = min(zoo.rows, key=lambda r: r.to_tilted)
    narrow = min(zoo.rows, key=lambda r: r.spread)
    text = " ".join(notice(zoo))
    assert f"Closest to $p(x)\\,p(y\\mid x)^{{2}}$: {best.label}" in text and f"Narrowest: {narrow.label}" in text
    assert len(table(zoo)) == len(entries)
