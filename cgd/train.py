"""Training CLI for the image models.

    python -m cgd.train diffusion  --dataset mnist --steps 20000 --batch 128 --out checkpoints/mnist/unet.safetensors
    python -m cgd.train classifier --dataset mnist --steps 5000  --out checkpoints/mnist/classifier.safetensors
    python -m cgd.train judge      --dataset mnist --steps 3000  --out checkpoints/mnist/judge.safetensors

Training state goes to ``--state`` (default: ``--out`` with ``.state.pt``) every ``--ckpt-every``
steps; ``--resume`` continues from it. At the end the EMA weights are exported weights-only to
``--out`` (safetensors + config) with a ``.json`` record beside it (command, config, time,
hardware, loss curve).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from cgd.cliutil import Parser
from cgd.checkpoint import atomic_write, load_model, save_model
from cgd.data import DATASETS, load_dataset
from cgd.errors import CGDError
from cgd.nn.judge import Judge, JudgeConfig
from cgd.nn.unet import ClassifierConfig, EncoderClassifier, UNet, UNetConfig
from cgd.losses import hybrid_vlb_weight, vlb_term
from cgd.outputs import ModelOutput
from cgd.schedule import make_schedule
from cgd.device import describe, pick_device, pin_threads
from cgd.trainer import TrainConfig, train, weights_digest, world


def diffusion_loss(data, schedule, batch: int, p_uncond: float, num_classes: int, device="cpu"):
    """Simple DDPM loss ||eps - eps_theta(x_t, t, y)||^2, label replaced by the null label with prob p_uncond.

    Randomness is drawn on the CPU from the trainer's generator (so resume is exact), then moved.
    """
    def loss_fn(model, gen):
        x0, y = data.batch(torch.randint(0, len(data), (batch,), generator=gen))
        t = torch.randint(0, schedule.T, (batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        x_t = schedule.q_sample(x0, t, noise)
        drop = torch.rand(batch, generator=gen) < p_uncond
        y = torch.where(drop, torch.full_like(y, num_classes), y)
        x_t, noise = x_t.to(device), noise.to(device)
        out = model(x_t, t.to(device), y.to(device))
        if isinstance(out, ModelOutput):  # learned variance: the hybrid loss (IDDPM)
            vlb = vlb_term(schedule, x0.to(device), x_t, t.to(device), out.eps, out.v)
            return F.mse_loss(out.eps, noise) + hybrid_vlb_weight(schedule.T) * vlb.mean()
        return F.mse_loss(out, noise)

    return loss_fn


def classifier_loss(data, schedule, batch: int, device="cpu"):
    """Cross-entropy of p_phi(y | x_t, t) on x_t ~ q(x_t | x_0), t uniform over the diffusion's steps."""
    def loss_fn(model, gen):
        x0, y = data.batch(torch.randint(0, len(data), (batch,), generator=gen))
        t = torch.randint(0, schedule.T, (batch,), generator=gen)
        x_t = schedule.q_sample(x0, t, torch.randn(x0.shape, generator=gen))
        return F.cross_entropy(model(x_t.to(device), t.to(device)), y.to(device))

    return loss_fn


def judge_loss(data, batch: int, device="cpu"):
    """Cross-entropy on clean images with random shifts of up to 2 pixels."""

    def loss_fn(model, gen):
        x, y = data.batch(torch.randint(0, len(data), (batch,), generator=gen))
        dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
        x = torch.roll(x, shifts=(dx, dy), dims=(2, 3))
        return F.cross_entropy(model(x.to(device)), y.to(device))

    return loss_fn


def build(args, device="cpu"):
    info = DATASETS[args.dataset]
    data = load_dataset(args.dataset, "train", Path(args.data_root) if args.data_root else None)
    schedule = make_schedule(args.schedule, 1000)
    attn = (info.size // 4,)
    common = dict(image_size=info.size, in_channels=info.channels, model_channels=args.channels,
                  attention_resolutions=attn, num_classes=len(info.classes), schedule=args.schedule)
    if args.model == "diffusion":
        model = UNet(UNetConfig(**common, learn_sigma=args.learn_sigma))
        return model, "unet", diffusion_loss(data, schedule, args.batch, args.p_uncond, len(info.classes), device)
    if args.model == "classifier":
        model = EncoderClassifier(ClassifierConfig(**common))
        return model, "classifier", classifier_loss(data, schedule, args.batch, device)
    model = Judge(JudgeConfig(image_size=info.size, in_channels=info.channels, num_classes=len(info.classes)))
    return model, "judge", judge_loss(data, args.batch, device)


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.train", description="Train the image models.")
    p.add_argument("model", choices=("diffusion", "classifier", "judge"))
    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    p.add_argument("--data-root", default=None)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--p-uncond", type=float, default=0.1, help="label dropout for classifier-free guidance")
    p.add_argument("--schedule", default="linear", choices=("linear", "cosine"))
    p.add_argument("--learn-sigma", action="store_true", help="learned variance, hybrid loss (improved DDPM)")
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--warmup", type=int, default=0, help="linear learning-rate warm-up steps")
    p.add_argument("--decay", default="constant", choices=("constant", "cosine"),
                   help="learning-rate decay to --final-lr-ratio x lr at --steps")
    p.add_argument("--final-lr-ratio", type=float, default=0.1)
    p.add_argument("--snapshot-every", type=int, default=0,
                   help="also export the EMA weights every N steps to SNAPSHOT_DIR/<kind>_stepNNNNNN.safetensors")
    p.add_argument("--snapshot-dir", default=None, help="default: the --state file's folder")
    p.add_argument("--ckpt-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", required=True, help="exported weights (.safetensors)")
    p.add_argument("--state", default=None, help="training state file (default: OUT with .state.pt)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--init", default=None,
                   help="start from these weights (a checkpoint of the same kind and config); ignored on resume")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = p.parse_args(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1  # started by torchrun
    try:
        if args.steps < 1 or args.batch < 1 or args.ckpt_every < 1:
            raise CGDError("steps, batch and ckpt-every must be positive")
        if args.threads:
            pin_threads(args.threads)
        device = pick_device(args.device)
        if distributed:
            local = int(os.environ.get("LOCAL_RANK", "0"))
            if device.type == "cuda":
                device = torch.device("cuda", local)
                torch.cuda.set_device(device)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank, size = world()
        torch.manual_seed(args.seed)
        model, kind, loss_fn = build(args, device)
        if args.init:
            init = load_model(Path(args.init), kind)
            if init.cfg != model.cfg:
                raise CGDError(f"--init {args.init} has config {init.cfg}, this run builds {model.cfg}")
            model.load_state_dict(init.state_dict())
        model.to(device)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        state = Path(args.state) if args.state else out.with_suffix(".state.pt")
        cfg = TrainConfig(steps=args.steps, lr=args.lr, ema_decay=args.ema_decay, ckpt_every=args.ckpt_every,
                          seed=args.seed, warmup=args.warmup, decay=args.decay,
                          final_lr_ratio=args.final_lr_ratio, snapshot_every=args.snapshot_every)
        snap_dir = Path(args.snapshot_dir) if args.snapshot_dir else state.parent

        def snapshot(step, ema_model):
            snap_dir.mkdir(parents=True, exist_ok=True)
            save_model(ema_model, snap_dir / f"{kind}_step{step:06d}.safetensors", kind)
        t0 = time.perf_counter()
        bar = None

        def progress(info):
            nonlocal bar
            if bar is None:  # opened at the first step: a refused resume prints only its error
                bar = tqdm(total=args.steps, desc=f"{kind} {args.dataset}", unit="step", disable=rank != 0)
            bar.n = info["step"]
            bar.set_postfix(loss=f"{info['loss']:.4f}", refresh=False)
            bar.refresh()

        _, ema, history = train(model, loss_fn, cfg, state, resume=args.resume, callback=progress,
                                snapshot=snapshot)
        if bar is not None:
            bar.close()
        digests = [weights_digest(model)]
        if size > 1:
            digests = [None] * size
            dist.all_gather_object(digests, weights_digest(model))
        if rank == 0:
            save_model(ema, out, kind)
            record = {"kind": kind, "dataset": args.dataset,
                      "command": "python -m cgd.train " + " ".join(sys.argv[1:] if argv is None else argv),
                      "config": dataclasses.asdict(ema.cfg), "train_config": dataclasses.asdict(cfg),
                      "batch": args.batch, **({"p_uncond": args.p_uncond} if kind == "unet" else {}),
                      "seconds_this_run": round(time.perf_counter() - t0, 1),
                      "hardware": f"{platform.processor() or platform.machine()}, {describe(device)}, "
                                  f"torch {torch.__version__}" + (f", {size} ranks" if size > 1 else ""),
                      "world_size": size, "rank_weight_sha256": digests,
                      "loss_every_50": [sum(history[i:i + 50]) / len(history[i:i + 50])
                                        for i in range(0, len(history), 50)]}
            atomic_write(out.with_suffix(".json"), json.dumps(record, indent=1).encode())
            print(f"wrote {out} after {len(history)} steps (final loss {history[-1]:.4f})")
        return 0
    except CGDError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if distributed and dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
