"""What a model function returns: shared by the networks, the guidance wrappers and the samplers.

A neutral module, so that a network (``cgd/nn``) need not import the samplers to say what it returns.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch

__all__ = ["ModelOutput", "as_output"]


class ModelOutput(NamedTuple):
    """What a model function may return instead of a bare eps tensor.

    eps: the (possibly guided) noise prediction, like x_t.
    v: learned-variance output in [-1, 1] (improved DDPM eq. 15), or None for fixed variance.
    eps_unguided: the prediction before guidance, so samplers can report the shift.
    eps_direction: the noise the DDIM step re-noises with, when it is not ``eps`` (CFG++, Chung et al. 2024:
        x0_hat comes from the guided eps, the step back to the next level from the unconditional one).
    """

    eps: torch.Tensor
    v: Optional[torch.Tensor] = None
    eps_unguided: Optional[torch.Tensor] = None
    eps_direction: Optional[torch.Tensor] = None


def as_output(out) -> ModelOutput:
    if isinstance(out, ModelOutput):
        return out
    if isinstance(out, tuple):
        return ModelOutput(*out)
    return ModelOutput(out)
