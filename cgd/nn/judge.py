"""The judge: a classifier of *clean* images, used only to evaluate samples, never for guidance.

``Judge(x) -> logits``; ``Judge.features(x) -> [B, feature_dim]`` are the penultimate
activations, standing in for Inception features on 28x28 data (FID, precision/recall).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["JudgeConfig", "Judge"]


@dataclass(frozen=True)
class JudgeConfig:
    image_size: int = 28
    in_channels: int = 1
    channels: tuple = (32, 64, 128)
    feature_dim: int = 128
    num_classes: int = 10
    dropout: float = 0.3

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))


class Judge(nn.Module):
    def __init__(self, cfg: JudgeConfig):
        super().__init__()
        self.cfg = cfg
        layers, ch = [], cfg.in_channels
        for i, out in enumerate(cfg.channels):
            layers += [nn.Conv2d(ch, out, 3, padding=1), nn.GroupNorm(8, out), nn.SiLU(),
                       nn.Conv2d(out, out, 3, padding=1), nn.GroupNorm(8, out), nn.SiLU()]
            if i < len(cfg.channels) - 1:
                layers.append(nn.MaxPool2d(2))
            ch = out
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(ch, cfg.feature_dim)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.feature_dim, cfg.num_classes)

    @property
    def num_classes(self) -> int:
        return self.cfg.num_classes

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, C, H, W] in [-1, 1] -> [B, feature_dim] float32."""
        h = self.body(x).mean(dim=(2, 3))
        return F.silu(self.fc(h)).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(x)))
