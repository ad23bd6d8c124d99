"""Speed benchmark of the sampling core; prints one JSON object per line.

    python bench/run.py [--quick]

Each line: {"name", "value", "unit", "target", "met", ...}. Everything is measured warm, on whatever
machine runs it (CUDA figures only where a GPU exists). Beside our figures, a *baseline* — the same
sampler and networks as people usually first write them (fp32, eager, einsum attention,
``.backward()`` for the classifier gradient, a host sync per step) — is timed, and the speed-ups
over it are reported. The image sampling figures (shipped path, unguided path, baseline) each run in
a fresh process of their own with every core (``--threads``), in that process's main thread, the
sides alternating round by round (``bench/fresh.py`` says why).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fresh  # noqa: E402 - bench/fresh.py
from cgd.device import pin_threads  # noqa: E402
from cgd.models import checkpoint_root, load_image_models, sample_images  # noqa: E402
from cgd.nn.unet import AttentionBlock, ClassifierConfig, EncoderClassifier, UNet, UNetConfig  # noqa: E402
from cgd.methods import cg_on, unconditional  # noqa: E402
from cgd.pipeline import SampleRequest  # noqa: E402
from cgd.schedule import make_schedule  # noqa: E402


def emit(name, value, unit, target=None, better="lower", **extra):
    met = None if target is None else (value <= target if better == "lower" else value >= target)
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, "target": target, "met": met, **extra}),
          flush=True)


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def image_models():
    """The shipped MNIST models, or same-shaped random ones (reported as such) when none are shipped."""
    try:
        return load_image_models("mnist", need=("unet", "classifier")), "shipped"
    except Exception:  # noqa: BLE001 - fall back to the same architecture
        from cgd.data import DATASETS
        from cgd.models import ImageModels

        return ImageModels(DATASETS["mnist"], UNet(UNetConfig()).eval().requires_grad_(False),
                           EncoderClassifier(ClassifierConfig()).eval().requires_grad_(False), None,
                           make_schedule("linear", 1000), torch.device("cpu")), "random (no shipped checkpoint)"


# -- the baseline, as usually first written ------------------------------------------------
def einsum_attention(self, x, emb=None):
    B, C, H, W = x.shape
    qkv = self.qkv(self.norm(x).reshape(B, C, H * W))
    q, k, v = qkv.reshape(B * self.heads, 3 * C // self.heads, H * W).chunk(3, dim=1)
    scale = 1 / (C // self.heads) ** 0.25
    w = torch.einsum("bct,bcs->bts", q * scale, k * scale).softmax(dim=-1)
    h = torch.einsum("bts,bcs->bct", w, v).reshape(B, C, H * W)
    return x + self.proj(h).reshape(B, C, H, W)


def baseline_cg_ddim(unet, clf, schedule, n, steps, label, scale, seed):
    """Classifier-guided DDIM written plainly: .backward() on the input, .item() every step."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=gen)
    grid = schedule.grid(steps)
    y = torch.full((n,), label)
    null = torch.full((n,), 10)
    for i in range(len(grid)):
        t = torch.full((n,), int(grid.timesteps[i]))
        ab, ab_prev = grid.alpha_bar[i].float(), grid.alpha_bar_prev[i].float()
        with torch.no_grad():
            eps = unet(x, t, null)
        x_in = x.detach().clone().requires_grad_(True)
        logp = F.log_softmax(clf(x_in, t), -1)[torch.arange(n), y].sum()
        logp.backward()
        eps = eps - scale * (1 - ab).sqrt() * x_in.grad
        x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
        eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
        x = ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * eps
        assert torch.isfinite(x).all().item()  # host sync per step
    return x


# -- figures --------------------------------------------------------------------------------
GUIDED = SampleRequest(method=cg_on("ddim"), label=3, scale=4.0, steps=25, n=16, seed=0, x0_mode="clip")
UNGUIDED = SampleRequest(method=unconditional(), label=None, scale=0.0, steps=25, n=16, seed=0, sampler="ddim",
                         x0_mode="clip")


def _side_shipped():
    models, _ = image_models()
    return lambda: sample_images(models, GUIDED)


def _side_unguided():
    models, _ = image_models()
    return lambda: sample_images(models, UNGUIDED)


def _side_plain():
    models, _ = image_models()
    AttentionBlock.forward = einsum_attention  # this process runs nothing else
    return lambda: baseline_cg_ddim(models.unet, models.classifier, models.schedule, 16, 25, 3, 4.0, 0)


SIDES = {"shipped": _side_shipped, "unguided": _side_unguided, "plain": _side_plain}


def bench_images(quick: bool, threads: int):
    models, source = image_models()
    rounds, repeat = (2, 2) if quick else (3, 3)
    best = {k: min(v) for k, v in fresh.alternate(__file__, SIDES, rounds=rounds, repeat=repeat,
                                                     args=["--threads", str(threads)]).items()}
    ours = best["shipped"]
    emit("mnist_cg_ddim_16x25_cpu_s", ours, "s", 1.0, weights=source, threads=threads, process="fresh")
    emit("guidance_overhead_ratio", ours / best["unguided"], "x", 1.5)
    emit("baseline_mnist_cg_ddim_16x25_cpu_s", best["plain"], "s", threads=threads, process="fresh")
    emit("speedup_mnist_cg_ddim_vs_baseline", best["plain"] / ours, "x", better="higher")

    repeat = 2 if quick else 5
    unguided = UNGUIDED
    # sampler overhead: the share of an (unguided) run spent outside the U-Net calls
    net_time = {"s": 0.0}
    unet, clf = models.unet, models.classifier

    def timed_unet(*a, **k):
        t0 = time.perf_counter()
        out = unet(*a, **k)
        net_time["s"] += time.perf_counter() - t0
        return out

    timed_models = dataclasses.replace(models, unet=timed_unet)
    totals, nets = [], []
    for _ in range(repeat + 1):
        net_time["s"] = 0.0
        t0 = time.perf_counter()
        sample_images(timed_models, unguided)
        totals.append(time.perf_counter() - t0)
        nets.append(net_time["s"])
    k = min(range(1, len(totals)), key=lambda j: totals[j])
    emit("sampler_overhead_fraction", max(0.0, 1 - nets[k] / totals[k]), "fraction", 0.05)

    return models, ours


def matmul_peak(dtype, n=1024, repeat=5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    t = best_of(lambda: a @ b, repeat)
    return 2 * n**3 / t


def bench_unet_peak(models, quick: bool):
    from torch.utils.flop_counter import FlopCounterMode

    unet = models.unet
    x, t, y = torch.randn(64, 1, 28, 28), torch.randint(0, 1000, (64,)), torch.randint(0, 10, (64,))
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        unet(x, t, y)
    flops = fc.get_total_flops()
    with torch.no_grad():
        dt = best_of(lambda: unet(x, t, y), 2 if quick else 5)
    peak32, peak16 = matmul_peak(torch.float32), matmul_peak(torch.bfloat16, repeat=2)
    peak = peak32  # the networks run in fp32; a bf16 peak (AMX on some of these machines) is no floor for them
    emit("matmul_peak_fp32_gflops", peak32 / 1e9, "GFLOP/s")
    emit("matmul_peak_bf16_gflops", peak16 / 1e9, "GFLOP/s", note="not used: no bf16 path is built")
    emit("unet_gflops_fp32_batch64", flops / dt / 1e9, "GFLOP/s", flops_per_image=flops / 64)
    emit("unet_fraction_of_peak", flops / dt / peak, "fraction", 0.30, better="higher",
         peak="fp32 matmul measured here")
    return peak


def guided_step_flops(net, classifier, x, t, y) -> int:
    """FLOPs of one classifier-guided step, counted by torch: the eps network's forward plus the
    classifier's forward and input-gradient backward (a private copy, weights frozen)."""
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(x, t, y)
    clf = copy.deepcopy(classifier).requires_grad_(False)
    x_in = x.detach().clone().requires_grad_(True)
    with FlopCounterMode(display=False) as fc2:
        torch.log_softmax(clf(x_in, t).float(), -1).gather(1, y[:, None]).sum().backward()
    return fc.get_total_flops(), fc2.get_total_flops()


def image_floor(models, peak: float):
    """The fastest 16x25 guided DDIM run could be: its counted FLOPs at the measured matmul peak."""
    x, t, y = torch.randn(16, *models.shape), torch.full((16,), 500), torch.full((16,), 3)
    net, clf = guided_step_flops(models.unet, models.classifier, x, t, y)
    flops = 25 * (net + clf)
    emit("mnist_cg_ddim_16x25_floor_s", flops / peak, "s", gflop=flops / 1e9,
         note="counted FLOPs / measured matmul peak: no run on this machine can beat it")
    emit("guidance_flop_ratio", (net + clf) / net, "x",
         note="FLOPs of a guided step over an unguided one: the least guidance_overhead_ratio can be")
    return flops / peak


def bench_toy(quick: bool, peak: float):
    from cgd.toy.mixture import load_mixture
    from cgd.toy.sampling import default_schedule, exact_models, toy_sample

    mix, sched = load_mixture("three_blobs"), default_schedule()
    models = exact_models(mix, sched)
    req = SampleRequest(method=cg_on("ddpm"), label=1, scale=2.0, steps=1000, n=10_000, seed=0)
    dt = best_of(lambda: toy_sample(mix, req, models=models, schedule=sched), 1 if quick else 3)
    emit("toy_exact_10k_x1000_cpu_s", dt, "s", 0.5)
    # the 2D page's unit of work: 1000 points, 100 steps, one scale or 20 slider values in one batch
    page_req = SampleRequest(method=cg_on("ddpm"), label=1, scale=2.0, steps=100, n=1000, seed=0)
    one = best_of(lambda: toy_sample(mix, page_req, models=models, schedule=sched), 3)
    twenty = best_of(lambda: toy_sample(mix, page_req.at_scales(k / 10 for k in range(20)), models=models,
                                        schedule=sched), 3)
    emit("toy_exact_1k_x100_cpu_s", one, "s", note="one scale")
    emit("toy_exact_20_scales_1k_x100_cpu_s", twenty, "s", per_scale_s=round(twenty / 20, 4),
         note="20 scales in one batch with common random numbers (what the 2D page samples at once)")
    from cgd.toy.learned import ToyTrainConfig
    from cgd.toy.sampling import learned_models

    learned = learned_models(mix, sched, ToyTrainConfig(steps=50, classifier_steps=50))  # speed only: weights do not matter
    dt = best_of(lambda: toy_sample(mix, req, models=learned, schedule=sched), 1 if quick else 3)
    emit("toy_learned_10k_x1000_cpu_s", dt, "s", 1.5)
    x, t, y = torch.randn(10_000, 2), torch.full((10_000,), 500), torch.full((10_000,), 1)
    flops = 1000 * sum(guided_step_flops(learned[0], learned[1], x, t, y))
    emit("toy_learned_10k_x1000_floor_s", flops / peak, "s", gflop=flops / 1e9,
         note="counted FLOPs / measured matmul peak")


def bench_page(quick: bool):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "1_Guidance_in_2D.py"), default_timeout=300).run()
    times = []
    # 2.5 and 4.5 open new chunks of 20 slider values (ui/toy.py: sampled in one batch); the others
    # are served from a chunk already made
    for k, s in enumerate([1.5, 2.5, 3.5, 4.5, 5.5][: 3 if quick else 5]):
        at.slider(key="scale").set_value(s)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(at.exception[0].value)
    slowest = max(times)
    times.sort()
    emit("page_2d_rerun_s", times[len(times) // 2], "s", 0.5, slowest_s=round(slowest, 4),
         note="median over scale changes, AppTest; slowest: a change into a chunk not sampled yet")


def bench_cuda():
    if not torch.cuda.is_available():
        return
    models = load_image_models("mnist", need=("unet", "classifier"), device="cuda")
    req = SampleRequest(method=cg_on("ddim"), label=3, scale=4.0, steps=50, n=1024, seed=0, x0_mode="clip")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        dt = best_of(lambda: (sample_images(models, req), torch.cuda.synchronize()), 3)
    emit("mnist_cg_ddim_images_per_s_cuda", 1024 / dt, "images/s", 1000, better="higher")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="fewer repeats (about two minutes)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--side", choices=sorted(SIDES), help="(internal) time one image side in this fresh process")
    p.add_argument("--repeat", type=int, default=3, help="(with --side) timed runs after the warm-up")
    args = p.parse_args()
    pin_threads(args.threads)  # this process samples in its main thread: one OpenMP team (cgd.compute)
    if args.side:
        return fresh.main_side(SIDES, args.side, args.repeat)
    print(json.dumps({"name": "machine", "value": None, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "checkpoints": str(checkpoint_root())}), flush=True)
    models, ours = bench_images(args.quick, args.threads)
    peak = bench_unet_peak(models, args.quick)
    floor = image_floor(models, peak)
    emit("mnist_cg_ddim_16x25_over_floor", ours / floor, "x", 1.3, note="shipped path over the FLOP floor")
    bench_toy(args.quick, peak)
    bench_page(args.quick)
    bench_cuda()


if __name__ == "__main__":
    main()
