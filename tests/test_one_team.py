"""One multi-threaded OpenMP team per process, whatever the entry point (cgd.compute's rule).

Each check runs in a fresh process: the test process itself has run torch ops on several threads.
A second team shows as more OS threads that Python did not start (the teams' workers) than one team
of the compute thread's size has, and as a thread other than the compute thread whose torch thread
count is above 1. Both fail on the code before the rule (checked: the app's path had two teams, a CLI
two as well, one in its main thread and one in the compute thread).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cgd import compute
from cgd.models import load_image_models, sample_images
from cgd.pipeline import SampleRequest

ROOT = Path(__file__).resolve().parents[1]
THREADS = 2  # the compute thread's count in every check: a team of 2 has 1 worker
ONE_TEAM = 2 * (THREADS - 1)  # its worker and torch's pthreadpool's (cgd.compute.native_threads)


def _run(code: str, tiny_root, *argv) -> dict:
    # numpy's OpenBLAS starts a thread pool of its own at import (pthreads, not OpenMP): one thread, so
    # that every thread Python did not start belongs to an OpenMP team
    env = {**os.environ, "CGD_CHECKPOINTS": str(tiny_root), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(THREADS),
           "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, *map(str, argv)], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


SERVER = f"""
import json, threading, torch
from cgd import compute
from cgd.models import load_image_models, sample_images
from cgd.pipeline import SampleRequest

compute.serve({THREADS})  # what ui.common.setup does once per server
counts, lock = {{}}, threading.Lock()
x = torch.randn(8, 16, 32, 32)
w = torch.randn(16, 16, 3, 3)

def session(k):  # a script thread: loads the models, asks for images, draws with torch
    models = load_image_models("mnist")
    req = SampleRequest(method=("cg-ddim", "cfg")[k % 2], label=k, scale=2.0, steps=3, n=4, seed=k, x0_mode="clip")
    sample_images(models, req)
    torch.nn.functional.conv2d(x, w)  # a parallel op of its own
    with lock:
        counts[threading.current_thread().name] = torch.get_num_threads()

threads = [threading.Thread(target=session, args=(k,), name=f"script-{{k}}") for k in range(4)]
for t in threads:
    t.start()
    t.join() if t.name == "script-0" else None  # the first loads alone, then three at once
for t in threads[1:]:
    t.join()
torch.nn.functional.conv2d(x, w)  # the server's own thread
counts["main"] = torch.get_num_threads()
counts["compute"] = compute._EXECUTOR.submit(torch.get_num_threads).result()
import time
native = []
for _ in range(10):  # a joined Python thread's OS thread may take a moment to go (a loaded machine): least of 10
    time.sleep(0.2)
    native.append(compute.native_threads())
print(json.dumps({{"counts": counts, "native": min(native)}}))
"""


def test_the_app_serving_path_has_one_team(tiny_root):
    got = _run(SERVER, tiny_root)
    counts = got["counts"]
    assert counts.pop("compute") == THREADS
    assert counts and all(n == 1 for n in counts.values()), counts  # every other thread that touched torch
    assert got["native"] <= ONE_TEAM, got  # the compute thread's team, and no second one


CLI = f"""
import atexit, json, runpy, sys
from cgd import compute

def report():  # the teams' workers outlive the threads that made them
    sys.stdout.write("\\n" + json.dumps({{"native": compute.native_threads()}}) + "\\n")

atexit.register(report)
module, sys.argv = sys.argv[1], sys.argv[1:]
try:
    runpy.run_module(module, run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
"""


@pytest.fixture(scope="module")
def with_reference(tiny_root):
    """tiny_root plus the judge's reference statistics that cgd.evaluate needs."""
    import numpy as np

    from cgd.evaluate import Reference, judge_outputs, save_reference

    models = load_image_models("mnist", root=tiny_root, need=("unet", "judge"))
    feats, _ = judge_outputs(models.judge, torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    save_reference(Reference(feats.mean(0), np.cov(feats, rowvar=False), feats.astype(np.float32), 32),
                   tiny_root / "mnist" / "reference.npz")
    return tiny_root


@pytest.mark.parametrize("argv", [
    ["cgd.sample", "--method", "cg-ddim", "--label", "3", "--steps", "3", "--n", "4", "--out", "{tmp}/g.png"],
    ["cgd.evaluate", "--methods", "cg-ddpm,cfg", "--scales", "0,2", "--n", "8", "--steps", "2", "--out",
     "{tmp}/r.json"],
    ["cgd.atlas", "build", "--dataset", "mnist", "--root", "{root}", "--methods", "cfg", "--n", "2",
     "--steps", "2", "--trajectory-seeds", "1", "--work", "{tmp}/work"],
], ids=["sample", "evaluate", "atlas"])
def test_each_cli_path_has_one_team(with_reference, tmp_path, argv):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(with_reference, root)
    got = _run(CLI, root, *[a.format(tmp=tmp_path, root=root) for a in argv])
    assert got["native"] <= ONE_TEAM, got


def test_a_seed_gives_the_same_bits_from_a_cli_and_from_the_server(tiny_root):
    """Runs in the caller's thread (a CLI) and on the compute thread (the app) at the same thread count agree."""
    models = load_image_models("mnist", root=tiny_root)
    req = SampleRequest(method="cg-ddim", label=3, scale=3.0, steps=3, n=5, seed=7, x0_mode="clip")
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        here = sample_images(models, req)
        compute.serve(THREADS)
        try:
            served = sample_images(models, req)
        finally:
            compute.stop_serving()
    finally:
        torch.set_num_threads(before)
    assert torch.equal(here, served)


# The shipped MNIST models' bits before the one-team rule (torch 2.13.0, AVX512 kernels, 2 threads):
# sha256 of sample_images(..., SampleRequest(method, label=3, scale, steps=5, n=8, seed=0)) as float32.
SHIPPED_BITS = {("cg-ddim", 4.0): "d15ab4180941df0c", ("cg-ddpm", 4.0): "2bd3971a4082ffdb",
                ("cfg", 0.5): "123985ccb06a9053"}


@pytest.mark.skipif(torch.__version__.split("+")[0] != "2.13.0" or torch.backends.cpu.get_cpu_capability() != "AVX512",
                    reason="the recorded bits are those of torch 2.13.0's AVX512 kernels")
def test_the_shipped_models_give_the_bits_they_gave_before(monkeypatch):
    import hashlib

    monkeypatch.delenv("CGD_CHECKPOINTS", raising=False)
    models = load_image_models("mnist")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for (method, scale), digest in SHIPPED_BITS.items():
            x = sample_images(models, SampleRequest(method=method, label=3, scale=scale, steps=5, n=8, seed=0,
                                                    x0_mode="clip"))
            assert hashlib.sha256(x.numpy().tobytes()).hexdigest()[:16] == digest, method
    finally:
        torch.set_num_threads(before)
