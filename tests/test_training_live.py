"""The Training page's live 2D run: what it draws is exact where it says so, drawing does not change the training,
and the trained networks are the ones the 2D page then uses."""

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from cgd.toy.learned import ToyTrainConfig, train_toy_models
from cgd.toy.live import classifier_grid, learned_histogram
from cgd.toy.mixture import load_mixture, presets
from cgd.toy.sampling import default_schedule, exact_models

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_views_of_the_exact_models_are_exact():
    mix, sched = load_mixture(presets()["three_blobs"]), default_schedule()
    net, clf = exact_models(mix, sched)
    grid = classifier_grid(clf, mix, sched, t=0, res=31)
    assert np.abs(grid["learned"] - grid["exact"]).max() < 1e-4  # the exact classifier is the exact posterior
    hist = learned_histogram(net, None, mix, sched, n=2000, steps=100, bins=20)
    assert abs(hist["learned"].sum() + hist["exact"].sum() - 2) < 0.02  # both are shares of (nearly) everything
    assert hist["tv"] < hist["tv_exact"] + 0.05  # exact samples and the exact model's differ by noise only
    untrained = learned_histogram(lambda x, t, y: torch.zeros_like(x), None, mix, sched, n=2000, steps=100, bins=20)
    assert untrained["tv"] > hist["tv"] + 0.3  # eps = 0 collapses the samples: far from p(x)


def test_looking_at_the_networks_while_they_train_changes_nothing():
    mix, sched = load_mixture(presets()["overlapping"]), default_schedule()
    cfg = ToyTrainConfig(steps=100, classifier_steps=100, seed=3)
    seen = []

    def look(d):
        if d["model"] == "eps":
            seen.append(learned_histogram(d["net"], None, mix, sched, n=200, steps=10, bins=10)["tv"])
        else:
            seen.append(classifier_grid(d["net"], mix, sched, res=11)["learned"].sum())

    a = train_toy_models(mix, sched, train_cfg=cfg, callback=look)
    b = train_toy_models(mix, sched, train_cfg=cfg)
    assert len(seen) == 4
    for net_a, net_b in zip(a[:2], b[:2]):
        for pa, pb in zip(net_a.parameters(), net_b.parameters()):
            assert torch.equal(pa, pb)
    assert a[2] == b[2]


def test_training_page_keeps_the_run_for_the_2d_page(monkeypatch, tmp_path):
    from ui import toy, training

    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path))  # no image models: the page's 2D part only
    at = AppTest.from_file(str(ROOT / "pages" / "4_Training.py"), default_timeout=300).run()
    at.selectbox(key="train_mixture").set_value("tilted_pair")
    at.select_slider(key="train_steps").set_value(100)
    at.number_input(key="train_seed").set_value(7)
    at.button(key="train").click().run()
    assert not at.exception and not at.error
    assert "trained here: 100 steps, seed 7" in at.success[0].value
    mixture_json = toy.preset_json("tilted_pair")
    assert at.session_state[training.SESSION_KEY][mixture_json] == [(100, 7)]
    kind = training.kind_of(100, 7)
    eps_net, clf, history = training.trained(mixture_json, 100, 7)
    assert toy.models(mixture_json, kind) == (eps_net, clf)  # the same objects: not trained again
    assert len(history["eps"]) == len(history["classifier"]) == 2
    # the page draws both losses, the learned density and the classifier's map, and says how close they are
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    assert any("Total-variation distance" in c.value for c in at.caption)
    assert any("pick the same class on" in c.value for c in at.caption)
