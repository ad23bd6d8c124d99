"""`python -m cgd.train` on a tiny dataset written here: trains, resumes, exports weights-only."""

import json

import numpy as np
import torch

from cgd.checkpoint import load_model
from cgd.data import save_splits
from cgd.train import main


def _tiny_mnist(root):
    rng = np.random.default_rng(0)
    save_splits("mnist", {"train": (rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
                                    rng.integers(0, 10, 64).astype(np.uint8))}, root)


def test_train_each_model_and_export(tmp_path):
    _tiny_mnist(tmp_path)
    for model, kind in (("diffusion", "unet"), ("classifier", "classifier"), ("judge", "judge")):
        out = tmp_path / f"{kind}.safetensors"
        assert main([model, "--data-root", str(tmp_path), "--steps", "3", "--batch", "4", "--channels", "16",
                     "--ckpt-every", "2", "--out", str(out)]) == 0
        net = load_model(out, kind)
        assert not net.training
        record = json.loads(out.with_suffix(".json").read_text())
        assert record["kind"] == kind and len(record["loss_every_50"]) == 1


def test_resume_continues_at_the_same_step(tmp_path, capsys):
    _tiny_mnist(tmp_path)
    common = ["diffusion", "--data-root", str(tmp_path), "--batch", "4", "--channels", "16", "--ckpt-every", "2"]
    full = tmp_path / "full.safetensors"
    assert main(common + ["--steps", "4", "--out", str(full)]) == 0
    part = tmp_path / "part.safetensors"
    assert main(common + ["--steps", "2", "--out", str(part)]) == 0
    assert main(common + ["--steps", "4", "--out", str(part), "--resume"]) == 0
    a, b = load_model(full, "unet"), load_model(part, "unet")
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), k


def test_missing_data_is_one_line(tmp_path, capsys):
    assert main(["judge", "--data-root", str(tmp_path), "--steps", "1", "--out", str(tmp_path / "j.safetensors")]) == 2
    assert "python -m cgd.data fetch mnist" in capsys.readouterr().err
