"""ADM U-Net (Dhariwal & Nichol 2021, sec. 3) and the noisy classifier built on its encoder.

Architecture, following the paper's ablations:

* residual blocks whose GroupNorm is *adaptive* (AdaGN): the timestep and class embedding give a
  per-channel scale and shift, ``h = GN(h) * (1 + scale) + shift``;
* BigGAN-style residual blocks for down- and up-sampling (``resblock_updown``);
* multi-head self-attention at chosen resolutions (``F.scaled_dot_product_attention``);
* a class embedding with a *null label* (index ``num_classes``), so one network is unconditional,
  conditional, and serves classifier-free guidance when trained with label dropout;
* optional learned variance: a second output ``v``, frac = (v + 1) / 2 interpolating log beta and
  log beta_tilde (improved DDPM, eq. 15); v is the raw output, as in guided-diffusion.

The noisy classifier (``EncoderClassifier``) is the U-Net's downsampling trunk plus the middle
block, time-conditioned only, with attention pooling into ``num_classes`` logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from cgd.nn.embed import timestep_embedding
from cgd.outputs import ModelOutput

__all__ = ["UNetConfig", "ClassifierConfig", "UNet", "EncoderClassifier"]


@dataclass(frozen=True)
class _TrunkConfig:
    """Fields shared by the U-Net and the classifier built on its encoder."""

    image_size: int = 28
    in_channels: int = 1
    model_channels: int = 32
    channel_mult: tuple = (1, 2, 2)
    num_res_blocks: int = 1
    attention_resolutions: tuple = (7,)
    head_channels: int = 32
    dropout: float = 0.0
    num_classes: Optional[int] = 10
    T: int = 1000
    schedule: str = "linear"  # the noise schedule the network was trained with (cgd.schedule.make_schedule)

    def __post_init__(self):  # JSON round trips give lists: keep the config hashable
        object.__setattr__(self, "channel_mult", tuple(self.channel_mult))
        object.__setattr__(self, "attention_resolutions", tuple(self.attention_resolutions))


@dataclass(frozen=True)
class UNetConfig(_TrunkConfig):
    """num_classes None: no class embedding at all; otherwise index num_classes is the null label."""

    learn_sigma: bool = False


@dataclass(frozen=True)
class ClassifierConfig(_TrunkConfig):
    """The noisy classifier: time-conditioned encoder, num_classes logits."""


def _norm(ch: int) -> nn.GroupNorm:
    groups = 32 if ch % 32 == 0 else 8 if ch % 8 == 0 else 1
    return nn.GroupNorm(groups, ch)


def _zero(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """Residual block with AdaGN; ``updown`` = 'up' / 'down' / None resamples both paths."""

    def __init__(self, ch: int, emb_ch: int, out_ch: int, dropout: float, updown: Optional[str] = None):
        super().__init__()
        self.updown = updown
        self.in_norm = _norm(ch)
        self.in_conv = nn.Conv2d(ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_ch, 2 * out_ch)
        self.out_norm = _norm(out_ch)
        self.dropout = nn.Dropout(dropout)
        self.out_conv = _zero(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip = nn.Identity() if ch == out_ch else nn.Conv2d(ch, out_ch, 1)

    def _resample(self, x):
        if self.updown == "up":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if self.updown == "down":
            return F.avg_pool2d(x, 2)
        return x

    def forward(self, x, emb):
        h = F.silu(self.in_norm(x))
        h = self.in_conv(self._resample(h))
        x = self._resample(x)
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.out_norm(h) * (1 + scale) + shift
        h = self.out_conv(self.dropout(F.silu(h)))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """Multi-head self-attention over the H*W positions, residual, zero-initialised output."""

    def __init__(self, ch: int, head_channels: int):
        super().__init__()
        self.heads = max(ch // head_channels, 1)
        self.norm = _norm(ch)
        self.qkv = nn.Conv1d(ch, 3 * ch, 1)
        self.proj = _zero(nn.Conv1d(ch, ch, 1))

    def forward(self, x, emb=None):
        B, C, H, W = x.shape
        qkv = self.qkv(self.norm(x).reshape(B, C, H * W))  # [B, 3C, L]
        q, k, v = qkv.reshape(B, 3, self.heads, C // self.heads, H * W).transpose(-1, -2).unbind(1)
        h = F.scaled_dot_product_attention(q, k, v)  # [B, heads, L, C/heads]
        h = h.transpose(-1, -2).reshape(B, C, H * W)
        return x + self.proj(h).reshape(B, C, H, W)


class _Seq(nn.ModuleList):
    """A list of layers called with (x, emb)."""

    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, (ResBlock, AttentionBlock)) else layer(x)
        return x


def _encoder(cfg, emb_ch: int):
    """Input conv + down path + middle block; returns (input_blocks, middle, skip channels, ch, resolution)."""
    ch = cfg.model_channels
    blocks = nn.ModuleList([_Seq([nn.Conv2d(cfg.in_channels, ch, 3, padding=1)])])
    skips, res = [ch], cfg.image_size
    for level, mult in enumerate(cfg.channel_mult):
        for _ in range(cfg.num_res_blocks):
            layers = [ResBlock(ch, emb_ch, mult * cfg.model_channels, cfg.dropout)]
            ch = mult * cfg.model_channels
            if res in cfg.attention_resolutions:
                layers.append(AttentionBlock(ch, cfg.head_channels))
            blocks.append(_Seq(layers))
            skips.append(ch)
        if level != len(cfg.channel_mult) - 1:
            blocks.append(_Seq([ResBlock(ch, emb_ch, ch, cfg.dropout, updown="down")]))
            skips.append(ch)
            res //= 2
    middle = _Seq([ResBlock(ch, emb_ch, ch, cfg.dropout), AttentionBlock(ch, cfg.head_channels),
                   ResBlock(ch, emb_ch, ch, cfg.dropout)])
    return blocks, middle, skips, ch, res


class _TimeEmbed(nn.Module):
    def __init__(self, ch: int, T: int):
        super().__init__()
        self.ch, self.t_scale = ch, 1000.0 / T
        self.mlp = nn.Sequential(nn.Linear(ch, 4 * ch), nn.SiLU(), nn.Linear(4 * ch, 4 * ch))

    def forward(self, t):
        return self.mlp(timestep_embedding(t.float() * self.t_scale, self.ch))


class UNet(nn.Module):
    """eps_theta(x_t, t, y): ``x_t [B, C, H, W]``, ``t [B] long``, ``y [B] long`` (num_classes = null).

    Returns eps ``[B, C, H, W]``, or ``ModelOutput(eps, v)`` when ``learn_sigma``.
    """

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        emb_ch = 4 * cfg.model_channels
        self.time_embed = _TimeEmbed(cfg.model_channels, cfg.T)
        self.label_embed = nn.Embedding(cfg.num_classes + 1, emb_ch) if cfg.num_classes else None
        self.input_blocks, self.middle, skips, ch, res = _encoder(cfg, emb_ch)
        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(cfg.channel_mult))[::-1]:
            for i in range(cfg.num_res_blocks + 1):
                out_ch = mult * cfg.model_channels
                layers = [ResBlock(ch + skips.pop(), emb_ch, out_ch, cfg.dropout)]
                ch = out_ch
                if res in cfg.attention_resolutions:
                    layers.append(AttentionBlock(ch, cfg.head_channels))
                if level and i == cfg.num_res_blocks:
                    layers.append(ResBlock(ch, emb_ch, ch, cfg.dropout, updown="up"))
                    res *= 2
                self.output_blocks.append(_Seq(layers))
        out_ch = cfg.in_channels * (2 if cfg.learn_sigma else 1)
        self.out = nn.Sequential(_norm(ch), nn.SiLU(), _zero(nn.Conv2d(ch, out_ch, 3, padding=1)))

    @property
    def num_classes(self) -> Optional[int]:
        return self.cfg.num_classes

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor] = None):
        emb = self.time_embed(t)
        if self.label_embed is not None:
            if y is None:
                y = torch.full_like(t, self.cfg.num_classes)
            emb = emb + self.label_embed(y)
        h, hs = x_t, []
        for block in self.input_blocks:
            h = block(h, emb)
            hs.append(h)
        h = self.middle(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        out = self.out(h).to(x_t.dtype)
        if self.cfg.learn_sigma:
            eps, v = out.chunk(2, dim=1)
            return ModelOutput(eps, v)
        return out


class AttentionPool2d(nn.Module):
    """CLIP/ADM attention pooling: the mean token attends over all positions, then a projection."""

    def __init__(self, ch: int, spatial: int, head_channels: int, out_dim: int):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(ch, spatial * spatial + 1) / ch**0.5)
        self.heads = max(ch // head_channels, 1)
        self.qkv = nn.Conv1d(ch, 3 * ch, 1)
        self.proj = nn.Conv1d(ch, out_dim, 1)

    def forward(self, x):
        B, C = x.shape[:2]
        x = x.reshape(B, C, -1)
        x = torch.cat([x.mean(dim=-1, keepdim=True), x], dim=-1) + self.pos[None].to(x.dtype)
        q, k, v = self.qkv(x).reshape(B, 3, self.heads, C // self.heads, -1).transpose(-1, -2).unbind(1)
        h = F.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(B, C, -1)
        return self.proj(h)[:, :, 0]


class EncoderClassifier(nn.Module):
    """p_phi(y | x_t, t): the U-Net encoder with attention pooling; returns logits ``[B, num_classes]``."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        emb_ch = 4 * cfg.model_channels
        self.time_embed = _TimeEmbed(cfg.model_channels, cfg.T)
        self.input_blocks, self.middle, _, ch, res = _encoder(cfg, emb_ch)
        self.head = nn.Sequential(_norm(ch), nn.SiLU())
        self.pool = AttentionPool2d(ch, res, cfg.head_channels, cfg.num_classes)

    @property
    def num_classes(self) -> int:
        return self.cfg.num_classes

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(t)
        h = x_t
        for block in self.input_blocks:
            h = block(h, emb)
        h = self.middle(h, emb)
        return self.pool(self.head(h)).float()
