"""Shared fixtures: a checkpoint folder of tiny image models in the shipped layout."""

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
