"""A model-agnostic training loop: Adam, EMA, atomic checkpoints, exact resume.

The trainer knows nothing of the model: it gets a module, a ``loss_fn(model, step_generator) -> loss``
and a :class:`TrainConfig`. Its state file (``torch.save`` of tensors and plain values only, read
back with ``weights_only=True``) holds the weights, the EMA weights, the optimizer, the step, the
loss history and the RNG state, so ``resume=True`` continues at the same step with the same
random stream as an uninterrupted run.

Distributed data parallel: when ``torch.distributed`` is initialised (``torchrun``), the module is
wrapped in ``DistributedDataParallel`` (gradients all-reduced, so every rank holds the same
weights), each rank draws its own batches (generator seeded ``seed + rank``), and only rank 0
writes the state file; every rank's generator state is kept in it, so resume is exact per rank.
"""

from __future__ import annotations

import copy
import io
import pickle
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.distributed as dist

from cgd.fileio import atomic_write
from cgd.errors import InputError

__all__ = ["TrainConfig", "lr_at", "train", "world", "weights_digest"]


def world() -> tuple:
    """``(rank, world_size)``; ``(0, 1)`` outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of the parameters' bytes, in state-dict order (equal digests: identical weights)."""
    import hashlib

    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 10_000
    lr: float = 2e-4
    ema_decay: float = 0.999
    ckpt_every: int = 500
    seed: int = 0
    grad_clip: float = 1.0
    warmup: int = 0  # linear learning-rate warm-up over this many steps
    decay: str = "constant"  # "constant", or "cosine": lr falls to lr * final_lr_ratio at ``steps``
    final_lr_ratio: float = 0.1
    snapshot_every: int = 0  # hand the EMA model to ``snapshot`` every this many steps (0: never)

    def __post_init__(self):
        if self.decay not in ("constant", "cosine"):
            raise InputError(f"decay must be 'constant' or 'cosine', got {self.decay!r}")
        if self.warmup < 0 or self.snapshot_every < 0 or not 0.0 <= self.final_lr_ratio <= 1.0:
            raise InputError("warmup and snapshot_every must be >= 0 and final_lr_ratio in [0, 1]")


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate for optimisation step ``step`` (0-based): linear warm-up, then constant or cosine decay.

    A pure function of the step, so a resumed run follows the same schedule as an uninterrupted one.
    """
    import math

    if cfg.warmup and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.decay == "constant":
        return cfg.lr
    span = max(1, cfg.steps - cfg.warmup)
    frac = min(1.0, (step - cfg.warmup) / span)
    return cfg.lr * (cfg.final_lr_ratio + (1.0 - cfg.final_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * frac)))


def _state(model, ema, opt, step, history, gens, cfg) -> dict:
    return {"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(), "step": step,
            "history": list(history), "generator": gens[0], "generators": list(gens), "train_config": asdict(cfg)}


def _save(path: Path, state: dict) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write(path, buf.getvalue())


def train(model: torch.nn.Module, loss_fn: Callable, cfg: TrainConfig, state_path: Path, *, resume: bool = False,
          callback: Optional[Callable[[dict], None]] = None,
          snapshot: Optional[Callable[[int, torch.nn.Module], None]] = None):
    """Run ``cfg.steps`` optimisation steps; returns ``(model, ema_model, history)``.

    loss_fn(model, generator) draws its own batch from ``generator`` (a CPU torch.Generator
    whose state is checkpointed) and returns a scalar loss. ``snapshot(step, ema_model)`` is called
    every ``cfg.snapshot_every`` steps on rank 0 (an early EMA model, e.g. for autoguidance).
    """
    state_path = Path(state_path)
    rank, size = world()
    gen = torch.Generator().manual_seed(cfg.seed + rank)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    step, history = 0, []
    if resume and state_path.is_file():
        try:
            st = torch.load(state_path, map_location="cpu", weights_only=True)
            model.load_state_dict(st["model"])
            ema.load_state_dict(st["ema"])
            opt.load_state_dict(st["optimizer"])
            gens = st.get("generators", [st["generator"]])
            if len(gens) == size:
                gen.set_state(gens[rank])
            step, history = int(st["step"]), list(st["history"])
        except pickle.UnpicklingError:
            raise InputError(f"cannot resume from {state_path}: it holds more than tensors and plain values "
                             "(loading it could run code); refused, nothing was run") from None
        except Exception as e:  # noqa: BLE001 - any failure means the file is not ours or is damaged
            raise InputError(f"cannot resume from {state_path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    model.train()
    net = model
    if size > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model)  # broadcasts rank 0's weights, all-reduces gradients
    while step < cfg.steps:
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, step)
        loss = loss_fn(net, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        with torch.no_grad():
            # EMA with warm-up: the decay grows to cfg.ema_decay as (1 + step) / (10 + step), so the
            # random initial weights do not linger (0.999^1000 would still hold 37% of them)
            decay = min(cfg.ema_decay, (1.0 + step) / (10.0 + step))
            for e, p in zip(ema.parameters(), model.parameters()):
                e.lerp_(p, 1.0 - decay)
            for e, b in zip(ema.buffers(), model.buffers()):
                e.copy_(b)
        step += 1
        loss = loss.detach()
        if size > 1:  # the record holds the mean loss over ranks
            dist.all_reduce(loss)
            loss = loss / size
        history.append(float(loss))
        if callback is not None:
            callback({"step": step, "steps": cfg.steps, "loss": history[-1]})
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            gens = [gen.get_state()]
            if size > 1:
                gens = [None] * size
                dist.all_gather_object(gens, gen.get_state())
            if rank == 0:
                _save(state_path, _state(model, ema, opt, step, history, gens, cfg))
            if size > 1:
                dist.barrier()
        if snapshot is not None and cfg.snapshot_every and step % cfg.snapshot_every == 0 and rank == 0:
            snapshot(step, ema)
    model.eval()
    return model, ema, history
