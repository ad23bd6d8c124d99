"""Shared fixtures: a checkpoint folder of tiny image models in the shipped layout; torch on one thread."""

import os

import pytest
import torch

os.environ.setdefault("CGD_WARM", "0")  # no background warm-up of the Lesson inside the test process

from cgd.checkpoint import save_model
from cgd.nn.judge import Judge, JudgeConfig
from cgd.nn.unet import ClassifierConfig, EncoderClassifier, UNet, UNetConfig


def write_tiny_models(folder, seed: int = 0):
    """unet / classifier / judge of the right kinds and image size, small enough for tests."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    net = UNet(UNetConfig(model_channels=16, head_channels=16))
    with torch.no_grad():  # zero-initialised output layers would make every sample identical
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    save_model(net, folder / "unet.safetensors", "unet")
    save_model(EncoderClassifier(ClassifierConfig(model_channels=16, head_channels=16)),
               folder / "classifier.safetensors", "classifier")
    save_model(Judge(JudgeConfig(channels=(8, 16, 16), feature_dim=32)), folder / "judge.safetensors", "judge")
    return folder


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    """A checkpoint root with ``mnist/`` holding tiny models (random weights)."""
    root = tmp_path_factory.mktemp("checkpoints")
    write_tiny_models(root / "mnist")
    return root


@pytest.fixture(scope="session")
def tiny_atlas_root(tiny_root, tmp_path_factory):
    """A copy of ``tiny_root`` with a scale atlas (default grids, 4 seeds, 2 steps) beside the models."""
    import shutil

    from cgd.atlas import AtlasConfig, build_atlas, save_atlas
    from cgd.models import load_image_models

    root = tmp_path_factory.mktemp("with_atlas") / "checkpoints"
    shutil.copytree(tiny_root, root)
    cfg = AtlasConfig(dataset="mnist", n=4, steps=2, trajectory_seeds=2, trajectory_every=1)
    arrays = build_atlas(load_image_models("mnist", root=root), cfg, root / "mnist")
    save_atlas(arrays, cfg, root / "mnist", command="python -m cgd.atlas build --dataset mnist --n 4 --steps 2",
               device="cpu")
    return root


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module's tests: the 2D oracle's small eager ops and small MLPs gain nothing from a
    second OpenMP thread and, on a busy 2-core machine, ran up to 20x slower with one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
