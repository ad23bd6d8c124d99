"""The image page's live path, change by change, against a plain implementation, in one run.

    python bench/live_path.py [--rounds 3] [--threads N] [--compile]

One request, the page's default (CG-DDIM, 16 images, 25 steps, MNIST shipped models). Every variant
is timed once per round, the rounds interleaved (a shared machine drifts within minutes), and each
variant's best round is reported with its ratio to the plain implementation of ``bench/run.py``
(fp32 eager, einsum attention, ``.backward()`` for the classifier gradient, a host sync per step) and
to the FLOP floor (counted FLOPs at the measured matmul peak). Variants:

* ``shipped``: what the page runs (``cgd.models.sample_images``: chunks of ``CPU_CHUNK`` rows, on the
  compute thread with every core, as the app sets it up);
* ``chunks of 8, half the cores``: the same run with the thread count of the plain one;
* ``chunk 4`` / ``chunk 16`` / ``whole batch``: other chunkings (half the cores);
* ``classifier weights require grad``: oneDNN's convolution only serves autograd when the weights
  require grad; with frozen weights the classifier's forward falls back to a slower kernel;
* ``torch.compile`` (``--compile``; minutes of compiling first).

Prints JSON lines like ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as plain  # noqa: E402 - bench/run.py: the baseline and the floor
from cgd.compute import fixed_batch  # noqa: E402
from cgd import compute  # noqa: E402
from cgd.models import CPU_CHUNK, sample_images  # noqa: E402
from cgd.nn.unet import AttentionBlock  # noqa: E402
from cgd.pipeline import SampleRequest, sample_together  # noqa: E402

REQ = SampleRequest(method="cg-ddim", label=3, scale=4.0, steps=25, n=16, seed=0, x0_mode="clip")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                   help="torch threads (default: what the app pins, half the cores)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd networks")
    args = p.parse_args()
    cores = os.cpu_count() or 1
    compute.serve(cores)  # as ui.common.setup: the compute thread takes every core, every other thread 1
    torch.set_num_threads(args.threads)  # the variants below that run here (a second team: see the README)
    models, source = plain.image_models()
    unet, clf = models.unet, models.classifier
    clf_grad = copy.deepcopy(clf).requires_grad_(True)

    def run_with(net, classifier):
        return lambda: sample_together(net, classifier, models.schedule, [REQ], shape=models.shape,
                                       num_classes=models.num_classes)

    def baseline():
        orig = AttentionBlock.forward
        AttentionBlock.forward = plain.einsum_attention
        try:
            return plain.baseline_cg_ddim(unet, clf, models.schedule, 16, 25, 3, 4.0, 0)
        finally:
            AttentionBlock.forward = orig

    variants = {
        "plain implementation": baseline,
        f"shipped (chunks of {CPU_CHUNK}, {cores} threads)": lambda: sample_images(models, REQ),
        f"chunks of {CPU_CHUNK}, {args.threads} threads": run_with(fixed_batch(unet, CPU_CHUNK),
                                                                   fixed_batch(clf, CPU_CHUNK)),
        "chunk 4": run_with(fixed_batch(unet, 4), fixed_batch(clf, 4)),
        "chunk 16": run_with(fixed_batch(unet, 16), fixed_batch(clf, 16)),
        "whole batch": run_with(unet, clf),
        "classifier weights require grad": run_with(fixed_batch(unet, CPU_CHUNK), fixed_batch(clf_grad, CPU_CHUNK)),
    }
    if args.compile:
        t0 = time.perf_counter()
        cu, cc = torch.compile(unet, dynamic=False), torch.compile(clf_grad, dynamic=False)
        compiled = run_with(fixed_batch(cu, CPU_CHUNK), fixed_batch(cc, CPU_CHUNK))
        compiled()
        plain.emit("torch_compile_s", time.perf_counter() - t0, "s", note="compiling both networks, first run")
        variants["torch.compile"] = compiled
    best = {k: float("inf") for k in variants}
    for fn in variants.values():  # warm-up
        fn()
    for r in range(args.rounds):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
        print(json.dumps({"round": r + 1, "of": args.rounds}), file=sys.stderr, flush=True)
    # what sharing a batch gains here: four students' distinct requests, one after another or as one batch
    four = [SampleRequest(method="cg-ddim", label=k, scale=2.0 + k, steps=25, n=16, seed=k, x0_mode="clip")
            for k in range(4)]
    net8, clf8 = fixed_batch(unet, CPU_CHUNK), fixed_batch(clf, CPU_CHUNK)
    kw = dict(shape=models.shape, num_classes=models.num_classes)
    apart = together = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        for r in four:
            sample_together(net8, clf8, models.schedule, [r], **kw)
        apart = min(apart, time.perf_counter() - t0)
        t0 = time.perf_counter()
        sample_together(net8, clf8, models.schedule, four, **kw)
        together = min(together, time.perf_counter() - t0)
    plain.emit("four_distinct_requests_one_after_another_s", apart, "s", threads=args.threads)
    plain.emit("four_distinct_requests_one_batch_s", together, "s", gain=round(apart / together, 3),
               threads=args.threads)
    x, t, y = torch.randn(16, *models.shape), torch.full((16,), 500), torch.full((16,), 3)
    net_f, clf_f = plain.guided_step_flops(unet, clf, x, t, y)
    peak = max(plain.matmul_peak(torch.float32), plain.matmul_peak(torch.bfloat16, repeat=2))
    floor = 25 * (net_f + clf_f) / peak
    base = best["plain implementation"]
    for name, s in best.items():
        plain.emit(f"live_cg_ddim_16x25: {name}", s, "s", speedup_vs_plain=round(base / s, 3),
                   over_floor=round(s / floor, 2), threads=args.threads, weights=source)
    plain.emit("live_cg_ddim_16x25_floor_s", floor, "s", note="counted FLOPs / measured matmul peak")


if __name__ == "__main__":
    main()
