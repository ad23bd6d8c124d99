"""Exact eps-network and noisy classifier of a Gaussian mixture (the oracle).

They have the same interfaces as the learned networks:
``ExactEps(x_t, t, y) -> eps`` with null label C, and ``ExactClassifier(x_t, t) -> logits``
(here the exact log p_t(x, y), whose log-softmax is log p_t(y | x)).
"""

from __future__ import annotations

import torch
from torch import nn

from cgd.schedule import NoiseSchedule
from cgd.toy.mixture import Mixture

__all__ = ["ExactEps", "ExactClassifier"]


class _ExactBase(nn.Module):
    def __init__(self, mixture: Mixture, schedule: NoiseSchedule):
        super().__init__()
        self.mixture = mixture
        self.num_classes = mixture.num_classes
        self.register_buffer("alpha_bar", schedule.alpha_bar.clone(), persistent=False)

    def _ab(self, t: torch.Tensor):
        """alpha_bar at t: a 0-d tensor when the batch shares one step (samplers), else ``[B]``."""
        t = t.cpu()
        if t.numel() and bool((t == t[0]).all()):
            return self.alpha_bar.cpu()[t[0]]
        return self.alpha_bar.cpu()[t]


class ExactEps(_ExactBase):
    """eps(x_t, t, y) = -sqrt(1 - alpha_bar_t) grad log p_t(x_t | y) (y = C: unconditional)."""

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        ab = self._ab(t)
        score = self.mixture.score(x_t, ab, y)
        c = (1.0 - ab).sqrt().to(x_t)
        return -(c.unsqueeze(1) if c.ndim else c) * score


class ExactClassifier(_ExactBase):
    """logits(x_t, t) = log p_t(x_t, y) for every class; softmax gives the exact p_t(y | x_t)."""

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.mixture.class_log_joint(x_t, self._ab(t))

    def log_prob_grad(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Closed-form grad_x log p_t(y | x) = grad log p_t(x | y) - grad log p_t(x) (Bayes' rule).

        :func:`cgd.guidance.classifier_grad` uses it instead of autograd when present; a test
        checks the two agree.
        """
        return self.mixture.class_score_gap(x_t, self._ab(t), y)
