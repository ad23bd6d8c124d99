"""Speed of one U-Net training step against the FLOP floor; prints one JSON object per line.

    python bench/train_step.py [--threads 2] [--steps 5]

The step is the one ``python -m cgd.train diffusion`` runs (``cgd.train.diffusion_loss``, backward, Adam),
on the shipped MNIST U-Net's architecture at batch 64, with random images in place of the data set (the
cost does not depend on them). Its FLOPs are counted by torch (forward and backward); the floor is those
FLOPs at the fp32 matmul peak measured in the same run, so the fraction is a ratio of two timings taken
side by side on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import best_of, emit, matmul_peak  # noqa: E402

from cgd.data import DATASETS, ImageData  # noqa: E402
from cgd.device import pin_threads  # noqa: E402
from cgd.models import checkpoint_root  # noqa: E402
from cgd.nn.unet import UNet  # noqa: E402
from cgd.schedule import make_schedule  # noqa: E402
from cgd.train import diffusion_loss  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5, help="timed steps (the best is kept)")
    args = p.parse_args()
    pin_threads(args.threads)
    from cgd.checkpoint import load_model

    cfg = load_model(checkpoint_root() / "mnist" / "unet.safetensors", "unet").cfg
    net = UNet(cfg).train()
    gen = torch.Generator().manual_seed(0)
    data = ImageData(DATASETS["mnist"], torch.randint(0, 256, (1024, 1, 28, 28), dtype=torch.uint8, generator=gen),
                     torch.randint(0, 10, (1024,), generator=gen))
    schedule = make_schedule("linear", cfg.T)
    loss_fn = diffusion_loss(data, schedule, 64, 0.2, cfg.num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)  # what cgd.trainer uses

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net, gen).backward()
        opt.step()

    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        loss_fn(net, gen).backward()
    flops = fc.get_total_flops()
    dt = best_of(step, args.steps)
    peak = matmul_peak(torch.float32)
    emit("train_step_batch64_s", dt, "s", threads=args.threads)
    emit("train_step_gflop", flops / 1e9, "GFLOP", note="forward + backward, counted by torch")
    emit("matmul_peak_fp32_gflops", peak / 1e9, "GFLOP/s")
    emit("train_step_fraction_of_peak", flops / dt / peak, "fraction", better="higher")
    emit("train_12000_steps_floor_h", 12000 * flops / peak / 3600, "h", note="12000 steps at the matmul peak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
