"""Exact 2D sampling runs in a worker process, off the web server's GIL.

A 2D run is thousands of small torch ops, and each one hands the GIL back. In the server process
those hand-backs queue behind every other session's Python (script reruns, figure building): under
60 students a 0.25 s batched run took 2 to 4 s (``bench/load.py``, wave 1). In one worker process
it keeps its speed and uses the second core, while the server's threads go on answering.

The worker is a plain ``python -m ui.worker`` child that reads calls from its stdin and writes the
results to its stdout (length-prefixed pickles, only between these two processes). Not
``multiprocessing``: its spawn start re-runs the parent's ``__main__``, which inside Streamlit is
whichever page script is running at that moment. One worker, started on first use and shared by
every session; calls queue on a lock. ``CGD_WORKER=0`` runs everything in the server process. If
the worker dies, the call is answered in the server process and the next call starts a new one.
Only exact-model runs go there: they are rebuilt from the mixture JSON, while the learned MLPs
live in the server process that trained them.
"""

from __future__ import annotations

import functools
import os
import pickle
import struct
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["VIEWS", "enabled", "run", "shutdown", "worker_pid"]

ROOT = Path(__file__).resolve().parents[1]
_HEADER = struct.Struct("<Q")
_LOCK = threading.Lock()  # one call in flight; held while waiting, which releases the GIL
# Runs with the learned MLPs (and exact ones with the worker off) run in the server process, one at a time,
# whichever session asks: a run is ~100 steps of small torch ops, each releasing the GIL, and 60 sessions
# running them at once on 2 cores spent most of their CPU handing the GIL and the caches back and forth
# (bench/load.py: 128 s of server CPU for the first wave). Queued on this lock, they finish one after another.
_RUN_LOCK = threading.Lock()
_PROC: subprocess.Popen | None = None


def enabled() -> bool:
    return os.environ.get("CGD_WORKER", "1") != "0"


def _read_exact(stream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError("worker pipe closed")
        buf += chunk
    return bytes(buf)


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream):
    (n,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    return pickle.loads(_read_exact(stream, n))


def _start() -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return subprocess.Popen([sys.executable, "-m", "ui.worker"], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def worker_pid() -> int | None:
    """The worker's pid while one is running (tests, benchmarks)."""
    proc = _PROC
    return proc.pid if proc is not None and proc.poll() is None else None


def shutdown() -> None:
    """Stop the worker (a later call starts a new one)."""
    global _PROC
    with _LOCK:
        proc, _PROC = _PROC, None
    if proc is not None:
        proc.stdin.close()  # the worker's read ends: it exits
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# the views of cgd.toy.views the worker runs: each takes (mixture, ...) and the keywords models= and schedule=
VIEWS = ("run_guided_scales", "sweep_scales", "sampler_sweep", "compare_guidance", "corrector_sweep")


@functools.lru_cache(maxsize=16)
def _exact(mixture_json: str):
    from cgd.toy.mixture import Mixture
    from cgd.toy.sampling import default_schedule, exact_models

    mixture = Mixture.from_json(mixture_json)
    schedule = default_schedule()
    return mixture, schedule, exact_models(mixture, schedule)


def _view(name: str):
    from cgd.toy import views

    return getattr(views, name)


def run(view, mixture_json: str, *args, models=None, **kwargs):
    """``view(mixture, *args, models=..., schedule=..., **kwargs)`` of the mixture's JSON; ``view`` is one of
    :data:`VIEWS` (a function of :mod:`cgd.toy.views`), the arguments pickle.

    ``models`` None: the mixture's exact models, in the worker process (here when the worker is switched off
    or has died; a new one starts on the next call). ``models`` given (``(eps_net, classifier)``: learned MLPs,
    which live in this process): here, one run at a time whichever session asks. The engine's own errors
    (bad input, a diverging run) come back raised as they were.
    """
    name = view.__name__
    if name not in VIEWS:
        raise ValueError(f"{name} is not a view the worker runs")
    if models is not None or not enabled():
        mixture, schedule, exact = _exact(mixture_json)
        with _RUN_LOCK:
            return view(mixture, *args, models=exact if models is None else models, schedule=schedule, **kwargs)
    global _PROC
    with _LOCK:
        try:
            if _PROC is None or _PROC.poll() is not None:
                _PROC = _start()
            _send(_PROC.stdin, (name, mixture_json, args, kwargs))
            status, value = _recv(_PROC.stdout)
        except (OSError, EOFError, pickle.UnpicklingError, struct.error):
            dead, _PROC = _PROC, None
            if dead is not None:
                dead.kill()
            status = None
    if status is None:
        return run(view, mixture_json, *args, models=_exact(mixture_json)[2], **kwargs)
    if status == "err":
        raise value
    return value


def serve() -> None:
    """The worker's loop: read a call, answer it, until the server closes the pipe."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print in a library goes to stderr, not into the answers
    inp = sys.stdin.buffer
    import torch

    torch.set_num_threads(1)  # one core for the worker, the rest for the server
    while True:
        try:
            name, mixture_json, args, kwargs = _recv(inp)
        except EOFError:
            return
        try:
            mixture, schedule, models = _exact(mixture_json)
            answer = ("ok", _view(name)(mixture, *args, models=models, schedule=schedule, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed back to the caller, raised there
            answer = ("err", e)
        try:
            _send(out, answer)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            _send(out, ("err", RuntimeError(f"worker answer did not pickle: {e}")))


if __name__ == "__main__":
    serve()
