"""Small learned models of the 2D world, interchangeable with the exact ones.

``ToyEpsNet(x_t, t, y) -> eps`` (null label C for classifier-free guidance, trained with
label dropout) and ``ToyClassifier(x_t, t) -> logits`` trained on q(x_t | x_0) with the
diffusion's own schedule. Each trains in seconds on a CPU (:func:`train_toy_models`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import nn

from cgd.nn.embed import timestep_embedding
from cgd.schedule import NoiseSchedule
from cgd.toy.mixture import Mixture

__all__ = ["ToyNetConfig", "ToyTrainConfig", "ToyEpsNet", "ToyClassifier", "train_toy_models"]


@dataclass(frozen=True)
class ToyNetConfig:
    num_classes: int
    hidden: int = 128
    depth: int = 3
    t_dim: int = 32
    T: int = 1000


@dataclass(frozen=True)
class ToyTrainConfig:
    steps: int = 2500
    batch: int = 512
    lr: float = 2e-3
    p_uncond: float = 0.15
    seed: int = 0
    classifier_steps: int = 1200


class _MLP(nn.Module):
    def __init__(self, cfg: ToyNetConfig, cond_classes: int, out_dim: int):
        super().__init__()
        self.cfg = cfg
        self.t_proj = nn.Linear(cfg.t_dim, cfg.hidden)
        self.y_emb = nn.Embedding(cond_classes, cfg.hidden) if cond_classes else None
        self.inp = nn.Linear(2, cfg.hidden)
        self.blocks = nn.ModuleList(nn.Sequential(nn.SiLU(), nn.Linear(cfg.hidden, cfg.hidden)) for _ in range(cfg.depth))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(cfg.hidden, out_dim))

    def _h(self, x, t, y=None):
        # scale t to [0, 1000) so the embedding frequencies suit any T
        emb = self.t_proj(timestep_embedding(t.float() * (1000.0 / self.cfg.T), self.cfg.t_dim))
        if self.y_emb is not None:
            emb = emb + self.y_emb(y)
        h = self.inp(x.float()) + emb
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class ToyEpsNet(_MLP):
    """eps_theta(x_t, t, y); y = num_classes is the null label."""

    def __init__(self, cfg: ToyNetConfig):
        super().__init__(cfg, cfg.num_classes + 1, 2)

    def forward(self, x_t, t, y):
        return self._h(x_t, t, y).to(x_t.dtype)


class ToyClassifier(_MLP):
    """logits of p_phi(y | x_t, t)."""

    def __init__(self, cfg: ToyNetConfig):
        super().__init__(cfg, 0, cfg.num_classes)

    def forward(self, x_t, t):
        return self._h(x_t, t)


def train_toy_models(mixture: Mixture, schedule: NoiseSchedule, net_cfg: Optional[ToyNetConfig] = None,
                     train_cfg: ToyTrainConfig = ToyTrainConfig(),
                     callback: Optional[Callable[[dict], None]] = None):
    """Train the eps-network and the noisy classifier on fresh mixture samples.

    callback(dict(model=..., step=..., steps=..., loss=..., net=...)) is called every 50 steps; ``net`` is the
    network being trained, to be looked at (under ``torch.no_grad``), not changed.
    Returns ``(eps_net, classifier, history)`` with history = {'eps': [...], 'classifier': [...]}
    (loss every 50 steps). Deterministic for a seed.
    """
    net_cfg = net_cfg or ToyNetConfig(num_classes=mixture.num_classes, T=schedule.T)
    gen = torch.Generator().manual_seed(train_cfg.seed)
    torch.manual_seed(train_cfg.seed)
    eps_net, clf = ToyEpsNet(net_cfg), ToyClassifier(net_cfg)
    history = {"eps": [], "classifier": []}

    def batch():
        x0, y = mixture.sample(train_cfg.batch, gen)
        t = torch.randint(0, schedule.T, (train_cfg.batch,), generator=gen)
        noise = torch.randn(train_cfg.batch, 2, generator=gen)
        return schedule.q_sample(x0.float(), t, noise), t, y, noise

    def eps_loss():
        x_t, t, y, noise = batch()
        drop = torch.rand(train_cfg.batch, generator=gen) < train_cfg.p_uncond
        y = torch.where(drop, torch.full_like(y, mixture.num_classes), y)
        return ((eps_net(x_t, t, y) - noise) ** 2).mean()

    def clf_loss():
        x_t, t, y, _ = batch()
        return nn.functional.cross_entropy(clf(x_t, t), y)

    for name, model, loss_fn, steps in (("eps", eps_net, eps_loss, train_cfg.steps),
                                         ("classifier", clf, clf_loss, train_cfg.classifier_steps)):
        opt = torch.optim.Adam(model.parameters(), lr=train_cfg.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        running = 0.0
        for step in range(1, steps + 1):
            loss = loss_fn()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss.detach())
            if step % 50 == 0 or step == steps:
                k = 50 if step % 50 == 0 else step % 50
                history[name].append(running / k)
                running = 0.0
                if callback is not None:
                    callback(dict(model=name, step=step, steps=steps, loss=history[name][-1], net=model))
        model.eval().requires_grad_(False)
    return eps_net, clf, history

