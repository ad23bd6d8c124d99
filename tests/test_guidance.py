"""Guidance wrappers and samplers: identities, determinism, the t the classifier sees, bad input."""

import math

import pytest
import torch

from cgd.errors import InputError, NonFiniteError
from cgd.guidance import (cfg_model_fn, check_labels, check_scale, classifier_grad, classifier_guided_eps,
                          conditional_model_fn, make_mean_shift)
from cgd.pipeline import SampleRequest, by_scale
from cgd.samplers import sample_ddim, sample_ddpm, threshold_x0
from cgd.toy.learned import ToyClassifier, ToyNetConfig
from cgd.toy.mixture import load_mixture
from cgd.toy.sampling import default_schedule, exact_models, toy_sample

MIX = load_mixture("three_blobs")
SCHED = default_schedule()


def _sample(**kw):
    base = dict(label=2, scale=1.0, steps=50, n=300, seed=3)
    base.update(kw)
    return toy_sample(MIX, SampleRequest(**base))


def test_cfg_with_w_zero_is_the_conditional_model():
    torch.testing.assert_close(_sample(method="cfg", scale=0.0), _sample(method="cond"), rtol=0, atol=0)
    torch.testing.assert_close(_sample(method="cfg", scale=0.0, sampler="ddim"),
                               _sample(method="cond", sampler="ddim"), rtol=0, atol=0)


@pytest.mark.parametrize("method", ["cg-ddpm", "cg-ddim"])
def test_scale_zero_is_unguided(method):
    sampler = "ddim" if method == "cg-ddim" else "ddpm"
    torch.testing.assert_close(_sample(method=method, scale=0.0),
                               _sample(method="uncond", sampler=sampler), rtol=0, atol=0)


def test_cond_plus_cg_at_zero_is_conditional():
    torch.testing.assert_close(_sample(method="cond+cg", scale=0.0), _sample(method="cond"), rtol=0, atol=0)


def test_guidance_changes_the_samples():
    assert not torch.equal(_sample(method="cg-ddpm", scale=3.0), _sample(method="cg-ddpm", scale=1.0))


def test_ddim_eta_zero_is_deterministic():
    net, clf = exact_models(MIX, SCHED)
    y = torch.full((64,), 1)
    model_fn = classifier_guided_eps(conditional_model_fn(net, torch.full((64,), 3)), clf, y, 2.0, SCHED)
    x_T = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    grid = SCHED.grid(20)
    a = sample_ddim(model_fn, x_T, grid, generator=torch.Generator().manual_seed(1))
    b = sample_ddim(model_fn, x_T, grid, generator=torch.Generator().manual_seed(999))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    # same seed through the pipeline: identical; another seed: different
    torch.testing.assert_close(_sample(method="cg-ddim", seed=4), _sample(method="cg-ddim", seed=4), rtol=0, atol=0)
    assert not torch.equal(_sample(method="cg-ddim", seed=4), _sample(method="cg-ddim", seed=5))
    # eta > 0 draws noise from the generator
    c = sample_ddim(model_fn, x_T, grid, generator=torch.Generator().manual_seed(1), eta=1.0)
    d = sample_ddim(model_fn, x_T, grid, generator=torch.Generator().manual_seed(2), eta=1.0)
    assert not torch.equal(c, d)


def test_ddpm_same_seed_same_samples():
    torch.testing.assert_close(_sample(method="cg-ddpm", seed=9), _sample(method="cg-ddpm", seed=9), rtol=0, atol=0)


class RecordingClassifier(torch.nn.Module):
    """Wraps a classifier and records every t it is called with."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, x, t):
        self.seen.extend(t.unique().tolist())
        return self.inner(x, t)


@pytest.mark.parametrize("method,at", [("cg-ddpm", "x_t"), ("cg-ddpm", "mu"), ("cg-ddim", "x_t")])
def test_classifier_gets_original_training_t_under_respacing(method, at):
    net, exact_clf = exact_models(MIX, SCHED)
    clf = RecordingClassifier(exact_clf)  # no closed-form gradient: autograd path
    req = SampleRequest(method=method, label=0, scale=1.0, steps=10, n=8, seed=0, gradient_at=at)
    from cgd.pipeline import guided_sample

    guided_sample(net, clf, SCHED, req, shape=(2,), num_classes=MIX.num_classes)
    grid_t = SCHED.grid(10).timesteps.tolist()
    expected = grid_t if at == "x_t" else grid_t[1:] + [0]
    assert clf.seen == expected
    assert max(clf.seen) >= 888 and clf.seen[:3] != [0, 1, 2]  # training t, not the grid index i


def test_autograd_gradient_matches_closed_form():
    _, clf = exact_models(MIX, SCHED)
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2
    t = torch.randint(0, 1000, (50,), generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (50,), generator=torch.Generator().manual_seed(2))
    closed = clf.log_prob_grad(x, t, y)
    auto = classifier_grad(RecordingClassifier(clf), x, t, y)
    torch.testing.assert_close(auto, closed, rtol=1e-7, atol=1e-9)


def test_classifier_grad_never_writes_shared_weights():
    clf = ToyClassifier(ToyNetConfig(num_classes=3))
    x = torch.randn(16, 2)
    g = classifier_grad(clf, x, torch.full((16,), 500), torch.zeros(16, dtype=torch.long))
    assert g.shape == x.shape and bool(torch.isfinite(g).all()) and g.abs().sum() > 0
    assert all(p.grad is None for p in clf.parameters())
    assert not x.requires_grad


def test_eps_form_is_the_tilted_score():
    """eps_hat = -sqrt(1-ab) (score + s grad log p(y|x)): exact at any t."""
    net, clf = exact_models(MIX, SCHED)
    x = torch.randn(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    t = torch.full((40,), 600)
    y = torch.full((40,), 1)
    s = 2.5
    guided = classifier_guided_eps(conditional_model_fn(net, torch.full((40,), 3)), clf, y, s, SCHED)(x, t)
    ab = SCHED.alpha_bar[600]
    score = MIX.score(x, ab) + s * (MIX.score(x, ab, y) - MIX.score(x, ab))
    torch.testing.assert_close(guided.eps, -(1 - ab).sqrt() * score)


def test_mean_shift_and_eps_forms_agree_as_steps_grow():
    """Same x_T and noise: DDPM with the mean shift s*Sigma*g vs DDPM with the eps form.

    Per step the two means differ by s g (Sigma - beta/sqrt(alpha)) = O(beta^2), so the final
    coupled samples converge as the grid gets finer.
    """
    net, clf = exact_models(MIX, SCHED)
    n, s = 2000, 1.0
    y = torch.full((n,), 0)
    null = torch.full((n,), 3)
    x_T = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    gaps = {}
    for steps in (25, 100, 400):
        grid = SCHED.grid(steps)
        a = sample_ddpm(conditional_model_fn(net, null), x_T, grid, generator=torch.Generator().manual_seed(1),
                        mean_shift=make_mean_shift(clf, y, s))
        b = sample_ddpm(classifier_guided_eps(conditional_model_fn(net, null), clf, y, s, SCHED), x_T, grid,
                        generator=torch.Generator().manual_seed(1))
        gaps[steps] = (a - b).norm(dim=1).mean().item()
    print("mean |x_meanshift - x_eps| by steps:", {k: f"{v:.4f}" for k, v in gaps.items()})
    assert gaps[100] < gaps[25] and gaps[400] < gaps[100]
    assert gaps[400] < 0.02


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 1e6, "x", None])
def test_bad_scales_are_refused(bad):
    with pytest.raises(InputError):
        check_scale(bad)
    with pytest.raises(InputError):
        toy_sample(MIX, SampleRequest(method="cg-ddpm", label=0, scale=bad, steps=5, n=4))


@pytest.mark.parametrize("label", [-1, 3, 99, 1.5, float("nan")])
def test_bad_labels_are_refused(label):
    with pytest.raises(InputError):
        check_labels(label, 3, 4)
    with pytest.raises(InputError):
        toy_sample(MIX, SampleRequest(method="cg-ddim", label=label, steps=5, n=4))


@pytest.mark.parametrize("field,value", [("steps", 0), ("steps", 1001), ("n", 0), ("n", 10**7), ("seed", -1),
                                         ("seed", 2**64), ("method", "magic"), ("eta", 2.0),
                                         ("gradient_at", "x0")])
def test_bad_requests_are_refused(field, value):
    kw = dict(method="cg-ddpm", label=0, steps=5, n=4)
    kw[field] = value
    with pytest.raises(InputError):
        toy_sample(MIX, SampleRequest(**kw))


def test_one_step_works():
    x = _sample(method="cg-ddim", steps=1)
    assert x.shape == (300, 2) and bool(torch.isfinite(x).all())


def test_non_finite_state_stops_sampling():
    def bad_model(x_t, t):
        return torch.where(t[:, None] < 500, torch.full_like(x_t, math.nan), torch.zeros_like(x_t))

    x = torch.randn(4, 2)
    for sampler in (sample_ddpm, sample_ddim):
        with pytest.raises(NonFiniteError, match="non-finite"):
            sampler(bad_model, x, SCHED.grid(10))


def test_huge_scale_gives_error_not_nan():
    """A scale the engine accepts but that blows the state up ends with a clear error."""
    def exploding(x_t, t):
        return x_t * 1e30

    with pytest.raises(NonFiniteError):
        sample_ddpm(exploding, torch.randn(4, 2), SCHED.grid(50))


def test_callback_reports_mean_variance_and_shift():
    steps = []
    net, clf = exact_models(MIX, SCHED)
    y = torch.full((32,), 0)
    sample_ddpm(conditional_model_fn(net, torch.full((32,), 3)), torch.randn(32, 2), SCHED.grid(10),
                mean_shift=make_mean_shift(clf, y, 2.0), callback=steps.append)
    assert [s["i"] for s in steps] == list(range(10))
    for s in steps[:-1]:
        # shift = s * Sigma * g exactly
        g = clf.log_prob_grad(s["x_t"], torch.full((32,), s["t"]), y)
        torch.testing.assert_close(s["shift"], 2.0 * s["var"] * g)
        assert set(s) >= {"x_t", "x0_hat", "mu", "var", "shift", "x_next", "t"}


def test_cfg_batches_both_passes_in_one_call():
    calls = []

    def net(x, t, y):
        calls.append(len(x))
        return torch.where((y == 3)[:, None], torch.ones_like(x), 2 * torch.ones_like(x))

    out = cfg_model_fn(net, torch.zeros(5, dtype=torch.long), 1.5, 3)(torch.zeros(5, 2), torch.zeros(5, dtype=torch.long))
    assert calls == [10]
    torch.testing.assert_close(out.eps, torch.full((5, 2), 2.5 * 2 - 1.5 * 1))


def test_thresholding():
    x0 = torch.tensor([[0.5, -3.0], [0.2, 0.3]])
    torch.testing.assert_close(threshold_x0(x0, "clip"), torch.tensor([[0.5, -1.0], [0.2, 0.3]]))
    dyn = threshold_x0(x0, "dynamic", percentile=1.0)
    torch.testing.assert_close(dyn[0], torch.tensor([0.5 / 3, -1.0]))
    torch.testing.assert_close(dyn[1], x0[1])  # inside [-1, 1]: unchanged
    assert threshold_x0(x0, None) is x0


@pytest.mark.parametrize("method,kw", [("cg-ddpm", {}), ("cg-ddpm", {"gradient_at": "mu"}), ("cg-ddim", {"eta": 0.5}),
                                       ("cfg", {}), ("cfg", {"sampler": "ddim"}), ("cond+cg", {})])
def test_scales_batch_is_each_scale_run_on_its_own(method, kw):
    """One batch over several scales (common random numbers) gives every scale's own run."""
    scales = (0.0, 0.5, 2.0, 6.0)
    req = SampleRequest(method=method, label=1, steps=40, n=50, seed=7, **kw)
    both = toy_sample(MIX, req.at_scales(scales))
    assert both.shape == (len(scales) * 50, 2)
    rows = by_scale(both, req.at_scales(scales).validated(MIX.num_classes, SCHED.T))
    assert list(rows) == list(scales)  # keyed by the asked values, in order
    for s in scales:
        alone = toy_sample(MIX, SampleRequest(**{**req.__dict__, "scale": s}))
        torch.testing.assert_close(rows[s], alone, rtol=1e-5, atol=1e-5)
    # different scales really differ (the copies are not one run repeated)
    assert (both[:50] - both[-50:]).abs().max() > 0.1


def test_scales_batch_with_a_network_matches_separate_runs():
    """The same with a (random) MLP classifier through autograd, where batch size changes the kernels."""
    torch.manual_seed(0)
    clf = ToyClassifier(ToyNetConfig(MIX.num_classes, hidden=32, depth=2))
    net, _ = exact_models(MIX, SCHED)
    req = SampleRequest(method="cg-ddpm", label=0, steps=20, n=30, seed=1)
    both = toy_sample(MIX, req.at_scales((1.0, 3.0)), models=(net, clf))
    for k, s in enumerate((1.0, 3.0)):
        alone = toy_sample(MIX, SampleRequest(**{**req.__dict__, "scale": s}), models=(net, clf))
        torch.testing.assert_close(both[k * 30:(k + 1) * 30], alone, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("scales", [(), (1.0, float("nan")), (1.0, -2.0), ("x",), tuple(range(30)), (1.0, 2.0, 1.0),
                                    3.0])
def test_bad_scale_lists_are_refused(scales):
    with pytest.raises(InputError):
        SampleRequest(method="cg-ddim", label=0, steps=5, n=4000, scales=scales).validated(MIX.num_classes, SCHED.T)


def test_a_multi_scale_request_keeps_no_single_scale():
    """A request always carries a tuple of scales, checked once when built: ``scale=x`` is ``scales=(x,)`` and,
    given, replaces ``scales`` (so ``replace(r, scale=x)`` is r at x); a multi-scale request has no single scale."""
    from dataclasses import replace

    r = SampleRequest(method="cfg", label=0, scales=(0, 2)).validated(MIX.num_classes, SCHED.T)
    assert r.scales == (0.0, 2.0)
    with pytest.raises(ValueError, match="2 scales"):
        r.scale
    assert SampleRequest(method="cfg", label=0, scale=7.0, scales=(0, 2)).scales == (7.0,)
    assert replace(r, scale=3.0).scales == (3.0,) and replace(r, scale=3.0).scale == 3.0
    with pytest.raises(InputError, match="w must"):
        SampleRequest(method="cfg", label=0, scales=(1.0, -1.0))


def test_per_sample_scale_tensor_is_checked_element_by_element():
    torch.testing.assert_close(check_scale(torch.tensor([0.0, 2.5])), torch.tensor([0.0, 2.5], dtype=torch.float64))
    for bad in ([1.0, float("nan")], [1.0, -2.0], [2e3, 1.0]):
        with pytest.raises(InputError, match="scale must"):
            check_scale(torch.tensor(bad))


def test_noise_sampler_draws_every_step_but_the_last():
    drawn = []

    def zeros(like):
        drawn.append(tuple(like.shape))
        return torch.zeros_like(like)

    x = torch.randn(6, 2)
    net, _ = exact_models(MIX, SCHED)
    model_fn = conditional_model_fn(net, torch.full((6,), 3))
    quiet = sample_ddpm(model_fn, x, SCHED.grid(10), noise_sampler=zeros)
    assert drawn == [(6, 2)] * 9
    noisy = sample_ddpm(model_fn, x, SCHED.grid(10), generator=torch.Generator().manual_seed(0))
    assert (quiet - noisy).abs().max() > 1e-3  # the hook's zeros replaced real noise
    drawn.clear()
    sample_ddim(model_fn, x, SCHED.grid(10), eta=1.0, noise_sampler=zeros)
    assert drawn == [(6, 2)] * 9


class _ConstantGradient:
    """A classifier whose grad_x log p(y | x_t, t) is a fixed ``g`` (the closed-form hook of classifier_grad)."""

    def __init__(self, g):
        self.g = g

    def log_prob_grad(self, x, t, y):
        return self.g.expand_as(x)


def test_cg_ddim_guides_after_thresholding_so_a_black_background_is_not_rectified():
    # Two background pixels whose unguided x0_hat lies below the data range (-1.5, clipped to -1) get
    # opposite classifier gradients +c and -c. guided-diffusion's order (threshold, then guide) moves
    # them by exactly -/+ s (1 - alpha_bar) / sqrt(alpha_bar) c around -1; thresholding the guided
    # x0_hat instead would cut the downward push and keep the upward one: a bright speckle on average.
    from cgd.pipeline import guided_sample
    from cgd.schedule import x0_to_eps

    ab = SCHED.alpha_bar

    def net(x_t, t, y):  # predicts x0 = -1.5 everywhere
        return x0_to_eps(x_t, torch.full_like(x_t, -1.5), ab[t.cpu()])

    c, s = 3.0, 5.0
    g = torch.tensor([c, -c]).reshape(1, 1, 1, 2)
    seen = []
    req = SampleRequest(method="cg-ddim", label=0, scale=s, steps=4, n=3, seed=0, x0_mode="clip")
    x0 = guided_sample(net, _ConstantGradient(g), SCHED, req, shape=(1, 1, 2), num_classes=2,
                       callback=seen.append)
    for step in seen[:-1]:
        t = step["t"]
        delta = s * (1 - ab[t]) / ab[t].sqrt() * c
        want = torch.tensor([-1.0 + delta, -1.0 - delta]).reshape(1, 1, 1, 2).expand(3, 1, 1, 2)
        torch.testing.assert_close(step["x0_hat"].double(), want, atol=1e-5, rtol=1e-5)
    assert float(x0.min()) >= -1.0 and float(x0.max()) <= 1.0  # the image itself stays in range


def test_the_cg_ddim_corrector_follows_the_guided_score_with_nothing_thresholded(monkeypatch):
    # The sampler's step thresholds the unguided x0_hat before guiding; the Langevin corrector's target is
    # the guided score itself (p_t(x) p_t(y|x)^s), so its eps must be the raw one minus s sqrt(1 - ab) g.
    import cgd.pipeline as pipeline
    from cgd.pipeline import guided_sample
    from cgd.schedule import x0_to_eps

    ab = SCHED.alpha_bar

    def net(x_t, t, y):  # predicts x0 = -1.5 everywhere, outside the data range
        return x0_to_eps(x_t, torch.full_like(x_t, -1.5), ab[t.cpu()])

    seen = {}

    def spy(score_fn, alpha_bar, steps, size):
        seen["score_fn"] = score_fn
        return lambda x, t, noise_sampler: x

    monkeypatch.setattr(pipeline, "langevin_corrector", spy)
    c, s = 3.0, 5.0
    g = torch.tensor([c, -c]).reshape(1, 1, 1, 2)
    req = SampleRequest(method="cg-ddim", label=0, scale=s, steps=4, n=2, seed=0, x0_mode="clip", corrector_steps=1)
    guided_sample(net, _ConstantGradient(g), SCHED, req, shape=(1, 1, 2), num_classes=2)
    x = torch.randn(2, 1, 1, 2, generator=torch.Generator().manual_seed(0))
    t = torch.full((2,), 500)
    want = net(x, t, None) - s * (1 - ab[500]).sqrt().float() * g
    torch.testing.assert_close(seen["score_fn"](x, t).eps, want)
