"""Shapes and interfaces of the ADM U-Net, the noisy classifier and the judge."""

import pytest
import torch

from cgd.guidance import classifier_grad
from cgd.nn.judge import Judge, JudgeConfig
from cgd.nn.unet import ClassifierConfig, EncoderClassifier, UNet, UNetConfig
from cgd.samplers import ModelOutput

SMALL = dict(model_channels=16, head_channels=16)


@pytest.mark.parametrize("size,ch", [(28, 1), (32, 3)])
def test_unet_shapes_and_null_label(size, ch):
    attn = (size // 4,)
    net = UNet(UNetConfig(image_size=size, in_channels=ch, attention_resolutions=attn, **SMALL))
    x, t = torch.randn(3, ch, size, size), torch.tensor([0, 500, 999])
    eps = net(x, t, torch.tensor([0, 5, 10]))
    assert eps.shape == x.shape
    # y=None means the null label
    torch.testing.assert_close(net(x, t), net(x, t, torch.full((3,), 10)))


def test_learned_sigma_returns_the_raw_second_half_of_the_output_as_v():
    net = UNet(UNetConfig(learn_sigma=True, **SMALL))
    with torch.no_grad():  # a bias of 3 on the v channel: guided-diffusion uses it as it is (frac = 2)
        net.out[-1].bias[1] = 3.0
    out = net(torch.randn(2, 1, 28, 28), torch.tensor([1, 2]), torch.tensor([3, 10]))
    assert isinstance(out, ModelOutput) and out.eps.shape == out.v.shape == (2, 1, 28, 28)
    assert float(out.v.detach().min()) > 1.0


def test_label_changes_the_output_once_trained_weights_are_nonzero():
    torch.manual_seed(0)
    net = UNet(UNetConfig(**SMALL))
    with torch.no_grad():  # zero-initialised residual outputs: perturb as training would
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([100, 100])
    assert not torch.allclose(net(x, t, torch.tensor([0, 0])), net(x, t, torch.tensor([1, 1])))


def test_classifier_and_its_input_gradient():
    clf = EncoderClassifier(ClassifierConfig(**SMALL))
    x = torch.randn(4, 1, 28, 28)
    t = torch.tensor([0, 10, 500, 999])
    assert clf(x, t).shape == (4, 10)
    g = classifier_grad(clf, x, t, torch.tensor([1, 2, 3, 4]))
    assert g.shape == x.shape and float(g.abs().sum()) > 0
    assert all(p.grad is None for p in clf.parameters())


def test_judge_features_and_logits():
    j = Judge(JudgeConfig()).eval()
    x = torch.randn(5, 1, 28, 28)
    assert j.features(x).shape == (5, 128) and j(x).shape == (5, 10)
