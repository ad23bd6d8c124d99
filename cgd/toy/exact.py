"""Exact eps-network and noisy classifier of a Gaussian mixture (the oracle).

They have the same interfaces as the learned networks:
``ExactEps(x_t, t, y) -> eps`` with null label C, and ``ExactClassifier(x_t, t) -> logits``
(here the exact log p_t(x, y), whose log-softmax is log p_t(y | x)).
"""

from __future__ import annotations

import threading

import torch
from torch import nn

from cgd.schedule import NoiseSchedule
from cgd.toy.mixture import Mixture

__all__ = ["ExactEps", "ExactClassifier"]


class _ExactBase(nn.Module):
    def __init__(self, mixture: Mixture, schedule: NoiseSchedule, memo: threading.local | None = None):
        super().__init__()
        self.mixture = mixture
        # the last (x_t, t) -> unconditional score of this thread, shared by an eps net and a
        # classifier built together: a guided step asks both at the same x_t and t
        self._memo = memo if memo is not None else threading.local()
        self.num_classes = mixture.num_classes
        self.register_buffer("alpha_bar", schedule.alpha_bar.clone(), persistent=False)
        self._tables = {torch.float64: mixture.component_terms(schedule.alpha_bar.cpu())}  # [T, K] each

    def _table(self, dtype: torch.dtype) -> dict:
        """The per-step component terms in ``dtype`` (converted once per dtype, not once per call)."""
        table = self._tables.get(dtype)
        if table is None:
            table = {k: v.to(dtype) for k, v in self._tables[torch.float64].items()}
            self._tables = {**self._tables, dtype: table}  # replaced whole: safe for concurrent readers
        return table

    @staticmethod
    def _index(t: torch.Tensor):
        """t[0] (0-d) when the batch shares one step (samplers), else t ``[B]``."""
        t = t.cpu()
        if t.numel() and (t.stride(0) == 0 or bool(torch.eq(*torch.aminmax(t)))):
            return t[0]
        return t

    def _ab(self, t: torch.Tensor):
        """alpha_bar at t: a 0-d tensor when the batch shares one step, else ``[B]``."""
        return self.alpha_bar.cpu()[self._index(t)]

    def _scores(self, x_t, t, y):
        """(unconditional, conditional or None) exact scores at (x_t, t)."""
        memo = getattr(self._memo, "last", None)
        if memo is not None and memo[0] is x_t and memo[1] == x_t._version and memo[2] is t:
            terms, uncond = memo[3], memo[4]
            if y is None:
                return uncond, None
        else:
            idx = self._index(t)
            terms = {k: v[idx] for k, v in self._table(x_t.dtype).items()}
            uncond = None
        if uncond is None or y is not None:
            pair = self.mixture.scores_from_terms(x_t, terms, y, uncond=uncond)
            uncond = pair[0]
        else:
            pair = (uncond, None)
        self._memo.last = (x_t, x_t._version, t, terms, uncond)
        return pair


class ExactEps(_ExactBase):
    """eps(x_t, t, y) = -sqrt(1 - alpha_bar_t) grad log p_t(x_t | y) (y = C: unconditional)."""

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        ab = self._ab(t)
        score = self._scores(x_t, t, y)[1 if y is not None else 0]
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
        uncond, cond = self._scores(x_t, t, y)
        return cond - uncond
