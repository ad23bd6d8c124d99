"""Serving checkpoints: bit-identical round trip, atomic writes, bad files refused clearly."""

import pickle

import pytest
import torch

from cgd.checkpoint import atomic_write, load_model, save_model
from cgd.errors import InputError
from cgd.nn.judge import Judge, JudgeConfig
from cgd.nn.unet import UNet, UNetConfig

CFG = UNetConfig(model_channels=16, head_channels=16)


def test_round_trip_is_bit_identical(tmp_path):
    torch.manual_seed(0)
    net = UNet(CFG)
    save_model(net, tmp_path / "u.safetensors", "unet")
    back = load_model(tmp_path / "u.safetensors", "unet")
    assert back.cfg == CFG and not back.training
    for (k, a), (_, b) in zip(net.state_dict().items(), back.state_dict().items()):
        assert torch.equal(a, b), k
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([3, 700])
    assert torch.equal(net.eval()(x, t), back(x, t))
    assert not list(tmp_path.glob(".*tmp"))


def test_bad_checkpoints_are_refused(tmp_path):
    good = tmp_path / "u.safetensors"
    save_model(UNet(CFG), good, "unet")
    cases = {"missing": None, "empty": b"", "truncated": good.read_bytes()[:-100], "garbage": b"\x00" * 64}
    for name, data in cases.items():
        p = tmp_path / f"{name}.safetensors"
        if data is not None:
            p.write_bytes(data)
        with pytest.raises(InputError, match="checkpoint"):
            load_model(p, "unet")
    with pytest.raises(InputError, match="expected 'judge'"):
        load_model(good, "judge")
    j = tmp_path / "j.safetensors"
    save_model(Judge(JudgeConfig()), j, "judge")
    with pytest.raises(InputError, match="expected 'unet'"):
        load_model(j, "unet")


def test_pickle_payload_is_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    p = tmp_path / "evil.safetensors"
    p.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InputError):
        load_model(p, "unet")
    assert not marker.exists()


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "f.bin"
    atomic_write(p, b"old")
    atomic_write(p, b"new contents")
    assert p.read_bytes() == b"new contents" and [q.name for q in tmp_path.iterdir()] == ["f.bin"]
