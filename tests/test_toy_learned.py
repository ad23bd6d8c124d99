"""Learned toy models against the exact ones (how close, stated in the printed figures)."""

import pytest
import torch

from cgd.pipeline import SampleRequest
from cgd.stats import energy_distance
from cgd.toy.mixture import load_mixture
from cgd.toy.sampling import default_schedule, exact_models, learned_models, toy_sample

MIX = load_mixture("three_blobs")
SCHED = default_schedule()


@pytest.fixture(scope="module")
def models():
    return learned_models(MIX, SCHED), exact_models(MIX, SCHED)


@pytest.fixture(scope="module")
def noised():
    g = torch.Generator().manual_seed(0)
    x0, y = MIX.sample(4000, g)
    t = torch.randint(0, SCHED.T, (4000,), generator=g)
    x_t = SCHED.q_sample(x0, t, torch.randn(4000, 2, generator=g, dtype=torch.float64)).float()
    return x_t, t, y


def test_learned_eps_close_to_exact(models, noised):
    (net, _), (exact, _) = models
    x_t, t, y = noised
    with torch.no_grad():
        for labels, what in ((torch.full_like(y, MIX.num_classes), "unconditional"), (y, "conditional")):
            want = exact(x_t.double(), t, labels).float()
            rel = float(((net(x_t, t, labels) - want) ** 2).mean() / (want**2).mean())
            print(f"{what} eps: relative MSE to exact = {rel:.4f}")
            assert rel < 0.02


def test_learned_classifier_close_to_exact(models, noised):
    (_, clf), (_, exact) = models
    x_t, t, _ = noised
    with torch.no_grad():
        tv = 0.5 * (torch.softmax(clf(x_t, t), 1) - torch.softmax(exact(x_t.double(), t), 1).float()).abs().sum(1).mean()
    print(f"classifier: mean total-variation distance to exact p_t(y|x) = {float(tv):.4f}")
    assert float(tv) < 0.03


@pytest.mark.parametrize("method,scale,bound", [("cfg", 0.0, 1e-3), ("cg-ddim", 1.0, 1e-2)])
def test_learned_samples_close_to_exact_samples(models, method, scale, bound):
    learned, _ = models
    req = SampleRequest(method=method, label=0, scale=scale, steps=100, n=3000, seed=1)
    d2 = energy_distance(toy_sample(MIX, req, models=learned, schedule=SCHED), toy_sample(MIX, req, schedule=SCHED))
    print(f"{method} s={scale}: D^2(learned samples, exact-model samples) = {d2:.2e}")
    assert d2 < bound
