"""SIGKILL during a checkpoint write: the last checkpoint stays loadable and resume matches an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cgd.data import save_splits
from cgd.train import main

ROOT = Path(__file__).resolve().parents[1]

# Runs the training CLI with os.fsync patched: the second fsync of the state's temp file announces
# itself with a marker file and then hangs, so the parent can SIGKILL the process mid-write.
HANG_IN_SECOND_STATE_WRITE = r"""
import os, sys, time
marker, argv = sys.argv[1], sys.argv[2:]
real_fsync, seen = os.fsync, []
def fsync(fd):
    try:
        name = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        name = ""
    if name.endswith(".tmp") and ".state.pt." in name:
        seen.append(name)
        if len(seen) == 2:
            open(marker, "w").close()
            time.sleep(600)
    real_fsync(fd)
os.fsync = fsync
from cgd.train import main
sys.exit(main(argv))
"""


def _data(root):
    rng = np.random.default_rng(0)
    save_splits("mnist", {"train": (rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
                                    rng.integers(0, 10, 64).astype(np.uint8))}, root)


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_sigkill_during_checkpoint_write_then_resume(tmp_path, restore_threads):
    _data(tmp_path)
    # one thread in every run: how many threads split a reduction changes the last bits, and the
    # killed run (a child process) and the resumed one (this process) must do the same arithmetic
    args = ["diffusion", "--data-root", str(tmp_path), "--batch", "4", "--channels", "16", "--steps", "6",
            "--ckpt-every", "2", "--device", "cpu", "--threads", "1"]
    killed_out = tmp_path / "killed.safetensors"
    marker = tmp_path / "writing"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HANG_IN_SECOND_STATE_WRITE, str(marker), *args,
                             "--out", str(killed_out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, "training ended before the second checkpoint write"
            assert time.monotonic() < deadline, "the second checkpoint write never started"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    state_path = killed_out.with_suffix(".state.pt")
    leftovers = list(tmp_path.glob(".killed.state.pt.*.tmp"))
    assert leftovers, "the kill should have hit the temp file"
    st = torch.load(state_path, map_location="cpu", weights_only=True)  # the last complete checkpoint
    assert st["step"] == 2 and len(st["history"]) == 2

    assert main(args + ["--out", str(killed_out), "--resume"]) == 0
    full_out = tmp_path / "full.safetensors"
    assert main(args + ["--out", str(full_out)]) == 0
    resumed = torch.load(state_path, weights_only=True)
    full = torch.load(full_out.with_suffix(".state.pt"), weights_only=True)
    assert resumed["step"] == full["step"] == 6
    assert resumed["history"] == full["history"]  # the same loss curve, bit for bit
    for k, v in full["ema"].items():
        assert torch.equal(v, resumed["ema"][k]), k
    rec = json.loads(killed_out.with_suffix(".json").read_text())
    assert rec["rank_weight_sha256"] == json.loads(full_out.with_suffix(".json").read_text())["rank_weight_sha256"]
