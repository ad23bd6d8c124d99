"""The shipped MNIST checkpoints, through the sampling CLI, at the README's recommended scales."""

import numpy as np
import pytest
import torch

from cgd.models import CHECKPOINT_ROOT, load_image_models
from cgd.sample import main

pytestmark = pytest.mark.skipif(not (CHECKPOINT_ROOT / "mnist" / "unet.safetensors").is_file(),
                                reason="no shipped MNIST checkpoints")


@pytest.mark.parametrize("method", ["cg-ddim", "cfg"])
def test_guided_samples_are_the_asked_digit(tmp_path, monkeypatch, method):
    monkeypatch.delenv("CGD_CHECKPOINTS", raising=False)
    judge = load_image_models("mnist", need=("unet", "judge")).judge
    hits = 0
    for label in (3, 7):
        out = tmp_path / f"{label}.npy"
        assert main(["--dataset", "mnist", "--method", method, "--label", str(label), "--steps", "25",
                     "--n", "12", "--seed", "0", "--out-npy", str(out)]) == 0
        x = torch.from_numpy(np.load(out)).float().div(127.5).sub(1).unsqueeze(1)
        hits += int((judge(x).argmax(1) == label).sum())
    assert hits / 24 >= 0.9
