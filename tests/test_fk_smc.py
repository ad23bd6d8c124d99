"""cgd.smc: Feynman-Kac SMC with networks (weights from the eps predictions alone), checked on the exact 2D oracle."""

import pytest
import torch

from cgd.errors import InputError
from cgd.pipeline import SampleRequest
from cgd.smc import fk_smc, grad_sq_from_eps
from cgd.toy.mixture import load_mixture, presets
from cgd.toy.oracle import exact_references, measure
from cgd.toy.sampling import default_schedule, exact_models
from cgd.toy.smc import classifier_gradient

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MIX = load_mixture(presets()["overlapping"])
SCHEDULE = default_schedule()
NETS = exact_models(MIX, SCHEDULE)


def _run(method="cg-ddpm", scale=3.0, *, n=2000, steps=100, seed=1, resample=True, label=0):
    req = SampleRequest(method=method, label=label, scale=scale, steps=steps, n=n, seed=seed)
    return req, fk_smc(*NETS, SCHEDULE, req, shape=(2,), num_classes=MIX.num_classes,
                       labels=torch.full((n,), label, dtype=torch.long), dtype=torch.float64, resample=resample)


def test_the_gradient_read_off_the_two_eps_is_the_exact_classifier_gradient():
    """|g|^2 from eps_hat - eps_anchor (CG: anchor the unconditional model, k_anchor 0; CFG: the conditional one,
    k_anchor 1) equals |grad log p_t(y|x)|^2 of the mixture."""
    from cgd.outputs import as_output
    from cgd.pipeline import build_method

    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    t_idx = 400
    ab = SCHEDULE.alpha_bar[t_idx]
    _, g = classifier_gradient(MIX, x, 0, ab)
    want = (g * g).sum(1)
    y, null = torch.zeros(64, dtype=torch.long), torch.full((64,), MIX.num_classes, dtype=torch.long)
    for method, scale, k, k0 in (("cg-ddpm", 3.0, 3.0, 0.0), ("cfg", 2.0, 3.0, 1.0), ("cond+cg", 2.0, 3.0, 1.0)):
        r = SampleRequest(method=method, label=0, scale=scale, steps=100, n=64, seed=0).validated(2, SCHEDULE.T)
        built = build_method(*NETS, SCHEDULE, r, grid=SCHEDULE.grid(100), y=y, null=null, scale=scale, num_classes=2)
        out = as_output((built.score_fn or built.model_fn)(x, torch.full((64,), t_idx, dtype=torch.long)))
        got = grad_sq_from_eps(out.eps, out.eps_unguided, k, k0, ab)
        assert torch.allclose(got, want, rtol=1e-6, atol=1e-9), method


def test_fk_smc_reaches_the_tilted_density_where_the_plain_sampler_does_not():
    """overlapping, y = 0, k = 3, 100 steps, n = 2000: the same proposal without weights is 25-55x the two-sample
    noise floor from exact samples of p(x) p(y|x)^3 (seeds 1-4); with FK weights and resampling 1.3-6.2x."""
    for seed in (1, 2, 3):
        req, smc = _run(seed=seed)
        _, plain = _run(seed=seed, resample=False)
        r = req.validated(2, SCHEDULE.T)
        refs = exact_references(MIX, r)
        m_smc, m_plain = (measure(MIX, r, x0=run.x, references=refs) for run in (smc, plain))
        assert m_plain.to_tilted > 15 * m_plain.noise_floor, (seed, m_plain)
        assert m_smc.to_tilted < 8 * m_smc.noise_floor and m_smc.to_tilted < m_plain.to_tilted / 4, (seed, m_smc)
        assert smc.ancestors < 1.0 == plain.ancestors and len(smc.ess) == 100


def test_cg_and_cfg_with_exact_models_are_one_smc_and_k_1_needs_no_weights():
    _, cg = _run("cg-ddpm", 3.0, n=500, steps=50)
    _, cfg = _run("cfg", 2.0, n=500, steps=50)  # k = 1 + w = 3: the same score field, the same g
    assert torch.allclose(cg.x, cfg.x, atol=1e-9)
    _, one = _run("cg-ddpm", 1.0, n=500, steps=50)  # k (k - 1) = 0: flat weights, nothing resampled
    _, plain = _run("cg-ddpm", 1.0, n=500, steps=50, resample=False)
    assert min(one.ess) > 1 - 1e-12 and sum(one.resampled) == 0 and torch.equal(one.x, plain.x)


@pytest.mark.parametrize("kw, words", [(dict(method="autoguidance", scale=2.0), "not by a power of p(y|x)"),
                                       (dict(method="cg-ddpm", scale=0.0), "SMC needs a guided scale"),
                                       (dict(method="cfg", scale=0.0), "SMC needs a guided scale")])
def test_bad_requests_are_one_line(kw, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        _run(**kw, n=100, steps=5)


def test_labels_must_match_the_particles():
    req = SampleRequest(method="cg-ddpm", label=0, scale=3.0, steps=5, n=100, seed=0)
    for labels in (torch.zeros(99, dtype=torch.long), torch.full((100,), 2)):
        with pytest.raises(InputError, match="labels must be 100 classes in 0..1"):
            fk_smc(*NETS, SCHEDULE, req, shape=(2,), num_classes=2, labels=labels)
