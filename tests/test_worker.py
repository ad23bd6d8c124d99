"""The worker process that runs the exact 2D sampling off the server's GIL."""

import os
import signal

import numpy as np
import pytest

from cgd.errors import InputError
from cgd.pipeline import SampleRequest
from cgd.toy.mixture import load_mixture
from cgd.toy.sampling import default_schedule, exact_models
from cgd.toy.views import run_guided_scales, sweep_scales
from ui import toy, worker

MJ = toy.preset_json("overlapping")
REQ = SampleRequest(method="cg-ddim", label=1, steps=30, n=50, seed=4)


@pytest.fixture(autouse=True)
def fresh_worker(monkeypatch):
    monkeypatch.setenv("CGD_WORKER", "1")
    worker.shutdown()
    yield
    worker.shutdown()


def test_worker_runs_are_the_in_process_runs():
    far = worker.run(run_guided_scales, MJ, REQ.at_scales((0.5, 3.0)), record=4, keep=10)
    assert worker.worker_pid() not in (None, os.getpid())  # it really ran elsewhere
    here = run_guided_scales(load_mixture("overlapping"), REQ.at_scales((0.5, 3.0)), record=4, keep=10)
    for a, b in zip(far, here):
        np.testing.assert_array_equal(a.samples, b.samples)
        np.testing.assert_array_equal(a.path, b.path)
    sweep = worker.run(sweep_scales, MJ, REQ.at_scales((0.0, 4.0)))
    assert sweep[1].share_y > sweep[0].share_y


def test_errors_in_the_worker_come_back_as_the_engine_raised_them():
    with pytest.raises(InputError, match="class label 7"):
        worker.run(run_guided_scales, MJ, SampleRequest(method="cg-ddim", label=7, steps=5, n=4), record=2, keep=4)


def test_a_killed_worker_is_replaced_and_the_call_still_answered():
    first = worker.run(run_guided_scales, MJ, REQ.at_scales((2.0,)), record=2, keep=5)
    pid = worker.worker_pid()
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    again = worker.run(run_guided_scales, MJ, REQ.at_scales((2.0,)), record=2, keep=5)  # a new worker, or this process, answers
    np.testing.assert_array_equal(first[0].samples, again[0].samples)
    worker.run(run_guided_scales, MJ, REQ.at_scales((2.0,)), record=2, keep=5)
    assert worker.worker_pid() not in (None, pid)  # a new worker took over


def test_a_worker_dying_mid_call_leaves_the_answer_to_this_process(monkeypatch):
    worker.run(run_guided_scales, MJ, REQ.at_scales((2.0,)), record=2, keep=5)
    pid = worker.worker_pid()
    real_send = worker._send

    def send_then_kill(stream, obj):
        real_send(stream, obj)
        os.kill(pid, signal.SIGKILL)  # dies before it can answer

    monkeypatch.setattr(worker, "_send", send_then_kill)
    runs = worker.run(run_guided_scales, MJ, REQ.at_scales((2.0,)), record=2, keep=5)
    assert len(runs) == 1 and worker._PROC is None


def test_worker_off_runs_in_this_process(monkeypatch):
    monkeypatch.setenv("CGD_WORKER", "0")
    runs = worker.run(run_guided_scales, MJ, REQ.at_scales((1.0,)), record=2, keep=5)
    assert len(runs) == 1 and worker.worker_pid() is None


def test_only_the_views_can_be_run():
    with pytest.raises(ValueError, match="not a view the worker runs"):
        worker.run(os.getcwd, MJ)


def test_learned_models_run_here_with_the_models_given():
    mixture = load_mixture("overlapping")
    net, clf = exact_models(mixture, default_schedule())  # stand-ins for learned MLPs: models given run here
    runs = worker.run(run_guided_scales, MJ, REQ.at_scales((2.0,)), models=(net, clf), record=2, keep=5)
    assert worker.worker_pid() is None  # no worker was started for them
    here = run_guided_scales(mixture, REQ.at_scales((2.0,)), record=2, keep=5)
    np.testing.assert_array_equal(runs[0].samples, here[0].samples)
