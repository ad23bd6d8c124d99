"""The image page's live path against a CLI's run and a plain implementation, each in a fresh process.

    python bench/live_path.py [--rounds 3] [--repeat 2] [--threads N] [--compile]

One request, the page's default (CG-DDIM, 16 images, 25 steps, MNIST shipped models). Every variant runs
in a fresh process of its own with ``--threads`` threads (default: every core), the variants alternating
round by round (``bench/fresh.py``); each variant's best is reported with its ratio to the plain
implementation of ``bench/run.py`` (fp32 eager, einsum attention, ``.backward()`` for the classifier
gradient, a host sync per step) and to the FLOP floor (counted FLOPs at the measured matmul peak).

* ``plain``: that plain implementation, in the process's main thread;
* ``sample_images``: what a CLI runs (``cgd.models.sample_images`` in the main thread: chunks of
  ``CPU_CHUNK`` rows);
* ``app``: what the server runs: ``compute.serve(threads)`` as ``ui.common.setup`` calls it, the models
  loaded in one script thread and the request made from another, sampled on the compute thread;
* ``chunk 4`` / ``chunk 8`` / ``whole batch``: other chunkings of the same run;
* ``classifier weights require grad``: oneDNN's convolution only serves autograd when the weights
  require grad; with frozen weights the classifier's forward falls back to another kernel;
* ``torch.compile`` (``--compile``; minutes of compiling first).

Prints JSON lines like ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import threading
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fresh  # noqa: E402 - bench/fresh.py
import run as plain  # noqa: E402 - bench/run.py: the baseline and the floor
from cgd import compute  # noqa: E402
from cgd.compute import fixed_batch  # noqa: E402
from cgd.device import pin_threads  # noqa: E402
from cgd.models import CPU_CHUNK, sample_images  # noqa: E402
from cgd.methods import cg_on  # noqa: E402
from cgd.pipeline import SampleRequest, sample_together  # noqa: E402

REQ = SampleRequest(method=cg_on("ddim"), label=3, scale=4.0, steps=25, n=16, seed=0, x0_mode="clip")
THREADS = {"n": os.cpu_count() or 1}


def _chunked(size, grad_weights=False):
    def build():
        models, _ = plain.image_models()
        clf = copy.deepcopy(models.classifier).requires_grad_(True) if grad_weights else models.classifier
        net, c = (models.unet, clf) if size is None else (fixed_batch(models.unet, size), fixed_batch(clf, size))
        return lambda: sample_together(net, c, models.schedule, [REQ], shape=models.shape,
                                       num_classes=models.num_classes)
    return build


def _app():
    """As the server: serve() once, models loaded in a script thread, each request from a new script thread."""
    compute.serve(THREADS["n"])
    box = {}
    loader = threading.Thread(target=lambda: box.update(models=plain.image_models()[0]))
    loader.start()
    loader.join()

    def request():
        t = threading.Thread(target=lambda: sample_images(box["models"], REQ))
        t.start()
        t.join()
    return request


def _compiled():
    models, _ = plain.image_models()
    cu = torch.compile(models.unet, dynamic=False)
    cc = torch.compile(copy.deepcopy(models.classifier).requires_grad_(True), dynamic=False)
    net, clf = fixed_batch(cu, CPU_CHUNK), fixed_batch(cc, CPU_CHUNK)
    return lambda: sample_together(net, clf, models.schedule, [REQ], shape=models.shape,
                                   num_classes=models.num_classes)


SIDES = {"plain": plain.SIDES["plain"], "sample_images": plain.SIDES["shipped"], "app": _app,
         "chunk 4": _chunked(4), "chunk 8": _chunked(8), "whole batch": _chunked(None),
         "classifier weights require grad": _chunked(CPU_CHUNK, grad_weights=True), "torch.compile": _compiled}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=2, help="timed runs per process after its warm-up")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads of every side")
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd networks")
    p.add_argument("--side", choices=sorted(SIDES), help="(internal) time one side in this fresh process")
    args = p.parse_args()
    THREADS["n"] = args.threads
    if args.side:
        if args.side != "app":
            pin_threads(args.threads)  # the main thread samples: the one team
        return fresh.main_side(SIDES, args.side, args.repeat)
    pin_threads(args.threads)
    names = [k for k in SIDES if args.compile or k != "torch.compile"]
    runs = fresh.alternate(__file__, names, rounds=args.rounds, repeat=args.repeat,
                           args=["--threads", str(args.threads)])
    best = {k: min(v) for k, v in runs.items()}

    models, source = plain.image_models()
    unet, clf = models.unet, models.classifier
    # what sharing a batch gains here: four students' distinct requests, one after another or as one batch
    four = [SampleRequest(method=cg_on("ddim"), label=k, scale=2.0 + k, steps=25, n=16, seed=k, x0_mode="clip")
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
    peak = plain.matmul_peak(torch.float32)  # the networks run in fp32
    floor = 25 * (net_f + clf_f) / peak
    base = best["plain"]
    for name, s in best.items():
        plain.emit(f"live_cg_ddim_16x25: {name}", s, "s", speedup_vs_plain=round(base / s, 3),
                   over_floor=round(s / floor, 2), threads=args.threads, weights=source, rounds=runs[name])
    plain.emit("app_over_sample_images", best["app"] / best["sample_images"], "x", 1.1,
               note="the server's compute thread against a CLI's main thread, same request and threads")
    plain.emit("live_cg_ddim_16x25_floor_s", floor, "s", note="counted FLOPs / measured matmul peak")


if __name__ == "__main__":
    main()
