"""Guided sampling in the 2D world with exact or learned models."""

from __future__ import annotations

from typing import Callable, Optional

import torch

import threading

from cgd import methods as registry
from cgd.pipeline import SampleRequest, guided_sample
from cgd.schedule import NoiseSchedule, make_schedule
from cgd.toy.exact import ExactClassifier, ExactEps
from cgd.toy.learned import ToyTrainConfig, train_toy_models
from cgd.toy.mixture import Mixture

__all__ = ["default_schedule", "exact_models", "weak_exact_model", "learned_models", "networks", "toy_sample"]


def default_schedule() -> NoiseSchedule:
    """The toy world's diffusion: linear betas, T = 1000 (DDPM's)."""
    return make_schedule("linear", 1000)


def exact_models(mixture: Mixture, schedule: NoiseSchedule):
    """(eps-network, classifier) computed in closed form from the mixture."""
    memo = threading.local()  # the pair shares its last unconditional score (one per thread)
    return ExactEps(mixture, schedule, memo), ExactClassifier(mixture, schedule, memo)


def weak_exact_model(mixture: Mixture, schedule: NoiseSchedule, inflate: float = 2.0):
    """The exact eps-network of the mixture with covariances x ``inflate``: autoguidance's weak model.

    A model that spreads each component too wide is the error an underfit network makes (the
    smaller or early-stopped model of Karras et al.); here it is known exactly.
    """
    return ExactEps(mixture.inflated(inflate), schedule)


def learned_models(mixture: Mixture, schedule: NoiseSchedule, train_cfg: ToyTrainConfig = ToyTrainConfig(),
                   callback: Optional[Callable[[dict], None]] = None):
    """(eps-network, classifier) trained on samples of the mixture (seconds on a CPU)."""
    eps_net, clf, _ = train_toy_models(mixture, schedule, train_cfg=train_cfg, callback=callback)
    return eps_net, clf


def networks(mixture: Mixture, request: SampleRequest, models=None, schedule: Optional[NoiseSchedule] = None,
             weak=None) -> tuple:
    """``(net, classifier, weak)`` for a request on the mixture: ``models`` (default: the exact ones), and
    autoguidance's weak model for a method that needs one (``weak``, or :func:`weak_exact_model`; None otherwise)."""
    schedule = schedule or default_schedule()
    net, clf = models if models is not None else exact_models(mixture, schedule)
    if weak is None and "weak" in registry.get(request.method).needs:
        weak = weak_exact_model(mixture, schedule)
    return net, clf, weak


def toy_sample(mixture: Mixture, request: SampleRequest, *, models=None, schedule: Optional[NoiseSchedule] = None,
               callback: Optional[Callable[[dict], None]] = None, dtype=torch.float32,
               weak=None) -> torch.Tensor:
    """Draw ``request.n`` guided samples ``[n, 2]``; models default to the exact ones.

    ``request.scales``: one run per scale in one batch, ``[len(scales) * n, 2]`` (see :func:`cgd.pipeline.guided_sample`).
    weak: autoguidance's weak model (default for a method that needs one: :func:`weak_exact_model` of the mixture).
    """
    schedule = schedule or default_schedule()
    net, clf, weak = networks(mixture, request, models, schedule, weak)
    return guided_sample(net, clf, schedule, request, shape=(2,), num_classes=mixture.num_classes,
                         callback=callback, dtype=dtype, weak_net=weak)
