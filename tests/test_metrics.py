"""Metrics on cases with known answers."""

import numpy as np
import pytest
import torch

from cgd.metrics import (background_speckle, fid, frechet_distance, inception_score, judge_accuracy,
                         precision_recall)

RNG = np.random.default_rng(0)


def test_fid_of_a_set_with_itself_is_zero():
    x = RNG.normal(size=(2000, 16))
    assert fid(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.zeros(4), np.array([1.0, -2.0, 0.5, 0.0])
    v1, v2 = np.array([1.0, 2.0, 0.5, 3.0]), np.array([4.0, 0.5, 0.5, 1.0])
    want = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(want, rel=1e-9)


def test_frechet_distance_of_rotated_covariances():
    # S2 = R S1 R^T does not commute with S1: check against the scalar 2D formula
    s1 = np.diag([4.0, 1.0])
    th = 0.7
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    s2 = R @ s1 @ R.T
    # tr sqrt(S1 S2) for 2x2: sqrt(tr(S1 S2) + 2 sqrt(det(S1 S2)))
    M = s1 @ s2
    tr_sqrt = np.sqrt(np.trace(M) + 2 * np.sqrt(np.linalg.det(M)))
    want = np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(want, rel=1e-9)


def test_fid_of_samples_approaches_the_population_value():
    a = RNG.normal(0, 1, size=(20000, 3))
    b = RNG.normal(1, 2, size=(20000, 3))
    want = 3 * 1.0 + 3 * (1 + 4 - 2 * 2)
    assert fid(a, b) == pytest.approx(want, rel=0.05)


def test_singular_covariances_are_handled():
    x = RNG.normal(size=(50, 100))  # N < D: rank-deficient covariances
    y = RNG.normal(size=(50, 100)) + 0.1
    v = fid(x, y)
    assert np.isfinite(v) and v > 0


def test_inception_score_uniform_vs_one_hot():
    C = 10
    assert inception_score(np.full((100, C), 1 / C)) == pytest.approx(1.0)
    one_hot = np.eye(C)[np.arange(1000) % C]
    assert inception_score(one_hot) == pytest.approx(C, rel=1e-6)
    only_class_0 = np.eye(C)[np.zeros(1000, int)]
    assert inception_score(only_class_0) == pytest.approx(1.0)


def test_precision_recall_on_controlled_overlap():
    real = RNG.uniform(0, 1, size=(2000, 2))
    same = RNG.uniform(0, 1, size=(2000, 2))
    p, r = precision_recall(real, same)
    assert p > 0.9 and r > 0.9
    # fakes cover only the left half of the real square: precise but half the recall
    half = RNG.uniform(0, 1, size=(2000, 2)) * np.array([0.5, 1.0])
    p, r = precision_recall(real, half)
    assert p > 0.9 and 0.4 < r < 0.6
    # fakes half inside, half far away: half the precision
    mixed = np.concatenate([RNG.uniform(0, 1, size=(1000, 2)), RNG.uniform(5, 6, size=(1000, 2))])
    p, r = precision_recall(real, mixed)
    assert 0.4 < p < 0.6 and r > 0.85
    far = RNG.uniform(5, 6, size=(500, 2))
    assert precision_recall(real, far) == (0.0, 0.0)


def test_judge_accuracy():
    probs = np.eye(3)[[0, 1, 2, 2]]
    assert judge_accuracy(probs, [0, 1, 2, 0]) == 0.75


def test_background_speckle_counts_only_pixels_more_than_three_px_from_a_stroke():
    row = torch.full((1, 1, 1, 8), -1.0)
    row[..., 0] = 1.0  # the stroke
    row[..., 2] = -0.2  # intensity 0.4, 2 px from the stroke: not background
    row[..., 6] = -0.2  # intensity 0.4, 6 px away: background
    assert background_speckle(row) == pytest.approx(0.4 / 4)  # pixels 4..7 are more than 3 px away
    no_stroke = torch.full((2, 5, 5), -0.5)  # intensity 0.25 < 0.5 everywhere: all background
    assert background_speckle(no_stroke) == pytest.approx(0.25)
    below = torch.full((1, 5, 5), -3.0)  # shown clipped to black: no negative intensities
    assert background_speckle(below) == 0.0
    with pytest.raises(ValueError):
        background_speckle(torch.zeros(1, 3, 5, 5))


def test_class_shares_count_each_rows_most_probable_class():
    from cgd.metrics import class_shares

    probs = np.array([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4], [0.2, 0.1, 0.7]])
    assert np.allclose(class_shares(probs), [2 / 3, 0, 1 / 3])  # class 1 never wins: still listed, at 0
