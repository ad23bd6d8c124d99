"""`python -m cgd.sample` with tiny checkpoints written here: same seed same images, formats, bad input."""

import numpy as np
import pytest
import torch

from cgd.checkpoint import save_model
from cgd.nn.unet import ClassifierConfig, EncoderClassifier, UNet, UNetConfig
from cgd.sample import main


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    net = UNet(UNetConfig(model_channels=16, head_channels=16))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    save_model(net, d / "unet.safetensors", "unet")
    save_model(EncoderClassifier(ClassifierConfig(model_channels=16, head_channels=16)), d / "classifier.safetensors", "classifier")
    return d


@pytest.mark.parametrize("method", ["uncond", "cond", "cg-ddpm", "cg-ddim", "cfg", "cond+cg"])
def test_every_method_writes_uint8_and_png(ckpt, tmp_path, method):
    npy, png = tmp_path / "s.npy", tmp_path / "g.png"
    args = ["--checkpoint-dir", str(ckpt), "--method", method, "--label", "3", "--steps", "3", "--n", "4",
            "--out", str(png), "--out-npy", str(npy)]
    assert main(args) == 0
    x = np.load(npy)
    assert x.shape == (4, 28, 28) and x.dtype == np.uint8 and png.stat().st_size > 0
    assert main(args[:-2] + ["--out-npy", str(tmp_path / "t.npy")]) == 0
    assert np.array_equal(x, np.load(tmp_path / "t.npy"))


@pytest.mark.parametrize("extra,match", [
    (["--scale", "nan"], "finite"), (["--label", "10"], "outside"), (["--steps", "0"], "steps"),
    (["--n", "0"], "n must"), (["--seed", "-1"], "seed"), (["--checkpoint", "/nonexistent.safetensors"], "not found"),
    (["--scale", "-1"], "between 0 and"), (["--scale", "1e6"], "between 0 and"), (["--scale", "inf"], "finite"),
    (["--seed", str(2**64)], "seed"), (["--n", "100000"], "n must"), (["--n", "-3"], "n must"),
    (["--label", "-1"], "outside"), (["--label", "2.5"], "whole number"), (["--steps", "5000"], "steps"),
    (["--method", "magic"], "invalid choice"), (["--dataset", "imagenet"], "invalid choice"),
    (["--sampler", "heun"], "invalid choice"), (["--method", "cg-ddpm", "--sampler", "dpmpp-2m"], "mean-shift"),
    (["--method", "cg-ddim", "--sampler", "dpmpp-2m", "--eta", "0.5"], "no eta"),
    (["--method", "cg-ddim", "--sampler", "dpmpp-2m", "--steps", "0"], "steps"),
])
def test_bad_input_is_one_line(ckpt, tmp_path, capsys, extra, match):
    try:
        code = main(["--checkpoint-dir", str(ckpt), "--steps", "2", "--n", "2",
                     "--out-npy", str(tmp_path / "x.npy")] + extra)
    except SystemExit as e:  # argparse's own refusals (bad choices) exit through the parser
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err, err
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize("damage, match", [
    ("empty", "is empty"), ("truncated", "not a readable safetensors"), ("garbage", "not a readable safetensors"),
    ("wrong-kind", "holds a 'classifier' model"),
])
def test_damaged_checkpoint_is_one_line(ckpt, tmp_path, capsys, damage, match):
    bad = tmp_path / "unet.safetensors"
    good = (ckpt / "unet.safetensors").read_bytes()
    bad.write_bytes({"empty": b"", "truncated": good[: len(good) // 2], "garbage": b"\x00\x01not a model" * 50,
                     "wrong-kind": (ckpt / "classifier.safetensors").read_bytes()}[damage])
    assert main(["--checkpoint-dir", str(ckpt), "--checkpoint", str(bad), "--method", "cond", "--steps", "2",
                 "--n", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err, err


@pytest.mark.parametrize("extra", [["--scale", "0"], ["--steps", "1"]])
def test_edge_values_that_are_valid_run(ckpt, tmp_path, extra):
    out = tmp_path / "x.npy"
    assert main(["--checkpoint-dir", str(ckpt), "--method", "cg-ddim", "--steps", "2", "--n", "2",
                 "--out-npy", str(out)] + extra) == 0
    x = np.load(out)
    assert x.shape == (2, 28, 28) and x.dtype == np.uint8


def test_missing_classifier_says_so(ckpt, tmp_path, capsys):
    (tmp_path / "unet.safetensors").write_bytes((ckpt / "unet.safetensors").read_bytes())
    assert main(["--checkpoint-dir", str(tmp_path), "--method", "cg-ddim", "--steps", "2", "--n", "2"]) == 2
    assert "classifier.safetensors not found" in capsys.readouterr().err
