"""The exact mixture world: densities, scores, p_t(y|x), file validation, presets."""

import json

import pytest
import torch

from cgd.errors import InputError
from cgd.toy.mixture import MAX_FILE_BYTES, Mixture, load_mixture, presets
from cgd.toy.sampling import default_schedule, exact_models


def test_presets_load_and_cover_the_required_cases():
    names = set(presets())
    assert {"three_blobs", "overlapping", "multimodal_class"} <= names and len(names) >= 4
    blobs = load_mixture("three_blobs")
    assert blobs.num_classes == 3 and blobs.num_components == 3
    multi = load_mixture("multimodal_class")
    assert (multi.labels == 0).sum() >= 2  # one class with several components
    for path in presets().values():
        m = load_mixture(path)
        assert Mixture.from_dict(json.loads(path.read_text())).to_dict() == m.to_dict()


def test_noised_mixture_matches_monte_carlo_moments():
    m = load_mixture("tilted_pair")
    sched = default_schedule()
    g = torch.Generator().manual_seed(0)
    x0, _ = m.sample(400000, g)
    ab = sched.alpha_bar[300]
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    means, covs = m.noised(ab)
    w = m.weights[:, None]
    mean = (w * means).sum(0)
    second = (m.weights[:, None, None] * (covs + means[:, :, None] * means[:, None, :])).sum(0)
    torch.testing.assert_close(x_t.mean(0), mean, atol=5e-3, rtol=0)
    torch.testing.assert_close(torch.cov(x_t.T), second - mean[:, None] * mean[None], atol=1e-2, rtol=0)


def test_density_integrates_to_one_and_score_is_its_gradient():
    m = load_mixture("multimodal_class")
    ab = 0.7
    lin = torch.linspace(-5, 5, 401, dtype=torch.float64)
    xx, yy = torch.meshgrid(lin, lin, indexing="xy")
    grid = torch.stack([xx.ravel(), yy.ravel()], 1)
    cell = (lin[1] - lin[0]) ** 2
    assert float(m.log_prob(grid, ab).exp().sum() * cell) == pytest.approx(1.0, abs=1e-4)
    assert float(m.log_prob(grid, ab, y=0).exp().sum() * cell) == pytest.approx(1.0, abs=1e-4)
    x = torch.randn(30, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    for y in (None, 0, 1):
        (auto,) = torch.autograd.grad(m.log_prob(x, ab, y=y).sum(), x)
        torch.testing.assert_close(m.score(x.detach(), ab, y), auto)


def test_exact_classifier_is_bayes_posterior():
    m = load_mixture("overlapping")
    sched = default_schedule()
    eps_net, clf = exact_models(m, sched)
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    t = torch.full((64,), 250)
    p = torch.softmax(clf(x, t), 1)
    torch.testing.assert_close(p.sum(1), torch.ones(64, dtype=torch.float64))
    ab = sched.alpha_bar[250]
    want = m.log_prob(x, ab, y=1) + torch.log(m.class_weights[1]) - m.log_prob(x, ab)
    torch.testing.assert_close(torch.log(p[:, 1]), want)
    # unconditional eps is the p(y)-weighted mix in score space: score = sum_y p(y|x) score_y
    s_mix = sum(p[:, y:y + 1] * m.score(x, ab, y) for y in range(2))
    torch.testing.assert_close(m.score(x, ab), s_mix)
    torch.testing.assert_close(eps_net(x, t, torch.full((64,), 2)), -(1 - ab).sqrt() * s_mix)


def _good():
    return {"name": "t", "means": [[0, 0], [1, 1]], "covs": [[[1, 0], [0, 1]], [[0.5, 0.1], [0.1, 0.5]]],
            "weights": [1, 2], "labels": [0, 1]}


@pytest.mark.parametrize("mutate,match", [
    (lambda d: d.pop("covs"), "missing"),
    (lambda d: d.update(covs=[[[1, 2], [2, 1]], [[1, 0], [0, 1]]]), "positive definite"),
    (lambda d: d.update(covs=[[[1, 0.5], [0, 1]], [[1, 0], [0, 1]]]), "symmetric"),
    (lambda d: d.update(means=[[0, 0], [1, float("nan")]]), "finite"),
    (lambda d: d.update(means=[[0, 0, 0], [1, 1, 1]]), "pairs"),
    (lambda d: d.update(weights=[1, -1]), "positive"),
    (lambda d: d.update(weights=[1]), "one per component"),
    (lambda d: d.update(labels=[0, 2]), "unused"),
    (lambda d: d.update(labels=[0, 0.5]), "whole"),
    (lambda d: d.update(means="abc"), "numbers"),
    (lambda d: d.update(means=[[0, 0], [1]]), "numbers"),
])
def test_malformed_mixtures_are_refused(mutate, match):
    d = _good()
    Mixture.from_dict(d)
    mutate(d)
    with pytest.raises(InputError, match=match):
        Mixture.from_json(json.dumps(d))


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="not valid JSON"):
        Mixture.from_json(b"{not json")
    with pytest.raises(InputError, match="larger"):
        Mixture.from_json(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="UTF-8"):
        Mixture.from_json(b"\xff\xfe")
    with pytest.raises(InputError, match="JSON object"):
        Mixture.from_json("[1, 2]")
    with pytest.raises(InputError, match="no preset or file"):
        load_mixture(tmp_path / "missing.json")


def test_exact_networks_per_sample_steps_and_labels_match_autograd():
    """Mixed t and mixed labels (null label C included) in one batch: each row is its own exact answer."""
    m = load_mixture("multimodal_class")
    sched = default_schedule()
    eps_net, clf = exact_models(m, sched)
    g = torch.Generator().manual_seed(3)
    x = 2 * torch.randn(12, 2, dtype=torch.float64, generator=g)
    t = torch.randint(0, sched.T, (12,), generator=g)
    y = torch.tensor([0, 1, 2] * 4)  # C = 2 is the null label
    eps, gap = eps_net(x, t, y), clf.log_prob_grad(x, t, y.clamp(max=1))
    for i in range(12):
        ab = sched.alpha_bar[t[i]]
        xi = x[i:i + 1].clone().requires_grad_(True)
        yi = None if y[i] == 2 else int(y[i])
        (score,) = torch.autograd.grad(m.log_prob(xi, ab, y=yi).sum(), xi)
        torch.testing.assert_close(eps[i], -(1 - ab).sqrt() * score[0])
        (lp_y,) = torch.autograd.grad(torch.log_softmax(m.class_log_joint(xi, ab), 1)[0, int(y[i].clamp(max=1))], xi)
        torch.testing.assert_close(gap[i], lp_y[0])
