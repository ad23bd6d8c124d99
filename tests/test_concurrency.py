"""Shared models, many users: the same seed gives bit-identical images alone or with others at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from cgd import compute
from cgd.device import pin_threads
from cgd.models import load_image_models, sample_images
from cgd.pipeline import SampleRequest


@pytest.fixture
def pinned():
    """The app pins torch's thread count once per process (ui.common.setup); so does this test."""
    before = torch.get_num_threads()
    yield pin_threads(2)
    pin_threads(before)


def test_same_seed_same_images_alone_or_eight_at_once(tiny_root, monkeypatch, pinned):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    models = load_image_models("mnist")  # one read-only copy, as in st.cache_resource
    before = {k: v.clone() for k, v in models.classifier.state_dict().items()}
    reqs = [SampleRequest(method=m, label=k % 10, scale=3.0, steps=4, n=3, seed=100 + k, x0_mode="clip")
            for k, m in enumerate(["cg-ddim", "cg-ddpm", "cfg", "cond+cg"] * 2)]
    alone = [sample_images(models, r) for r in reqs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda r: sample_images(models, r), reqs))
    for a, b in zip(alone, together):
        assert torch.equal(a, b)
    # different users' seeds give different images: nobody sees another's randomness
    assert not torch.equal(alone[0], alone[4])
    for k, v in models.classifier.state_dict().items():  # the shared weights were never written
        assert torch.equal(v, before[k]), k
    assert all(p.grad is None for p in models.classifier.parameters())


def _steps(n, callback=None, delay=0.0, done=None):
    done = [] if done is None else done
    for i in range(n):
        time.sleep(delay)
        done.append(i)
        if callback is not None:
            callback({"i": i, "thread": threading.current_thread().name})
    return done


def test_compute_thread_relays_progress_to_the_caller():
    seen = []
    assert compute.run(_steps, 3, callback=lambda e: seen.append((e, threading.current_thread().name))) == [0, 1, 2]
    assert [e["i"] for e, _ in seen] == [0, 1, 2]
    assert all(e["thread"].startswith("cgd-compute") for e, _ in seen)  # ran on the compute thread
    assert all(name == threading.current_thread().name for _, name in seen)  # reported in ours


def test_a_caller_that_stops_cancels_its_run_and_frees_the_thread():
    class Stop(Exception):
        pass

    def stop_at_two(event):
        if event["i"] == 2:
            raise Stop

    progress = []
    with pytest.raises(Stop):
        compute.run(_steps, 1000, callback=stop_at_two, delay=0.01, done=progress)
    # one run at a time: when the next one is done, the cancelled one has ended, at its next step
    assert compute.run(_steps, 2) == [0, 1]
    assert len(progress) < 10


def test_errors_of_the_run_reach_the_caller():
    def broken(callback=None):
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        compute.run(broken)


def test_the_callers_autocast_and_grad_mode_hold_on_the_compute_thread():
    def probe(callback=None):
        return torch.is_grad_enabled(), torch.is_autocast_enabled("cpu"), (torch.ones(2, 2) @ torch.ones(2, 2)).dtype

    assert compute.run(probe) == (True, False, torch.float32)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert compute.run(probe) == (False, True, torch.bfloat16)
