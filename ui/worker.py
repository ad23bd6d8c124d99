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

__all__ = ["enabled", "call", "shutdown", "worker_pid", "exact_runs", "exact_sweep", "exact_sampler_sweep",
           "exact_compare", "exact_corrector_sweep"]

ROOT = Path(__file__).resolve().parents[1]
_HEADER = struct.Struct("<Q")
_LOCK = threading.Lock()  # one call in flight; held while waiting, which releases the GIL
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


def call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in the worker; fn is one of this module's tasks, the arguments pickle.

    The engine's own errors (bad input, a diverging run) come back raised as they were. Runs in this
    process when the worker is switched off or has died (a new one starts on the next call).
    """
    if fn.__name__ not in _TASKS:
        raise ValueError(f"{fn.__name__} is not a worker task")
    if not enabled():
        return fn(*args, **kwargs)
    global _PROC
    with _LOCK:
        try:
            if _PROC is None or _PROC.poll() is not None:
                _PROC = _start()
            _send(_PROC.stdin, (fn.__name__, args, kwargs))
            status, value = _recv(_PROC.stdout)
        except (OSError, EOFError, pickle.UnpicklingError, struct.error):
            dead, _PROC = _PROC, None
            if dead is not None:
                dead.kill()
            status = None
    if status is None:
        return fn(*args, **kwargs)
    if status == "err":
        raise value
    return value


# -- what runs in the worker (plain functions of picklable values) ------------------------------

@functools.lru_cache(maxsize=16)
def _exact(mixture_json: str):
    from cgd.toy.mixture import Mixture
    from cgd.toy.sampling import default_schedule, exact_models

    mixture = Mixture.from_json(mixture_json)
    schedule = default_schedule()
    return mixture, schedule, exact_models(mixture, schedule)


def exact_runs(mixture_json: str, request, scales: tuple, record: int, keep: int) -> tuple:
    """:func:`cgd.toy.views.run_guided_scales` with the exact models of the mixture."""
    from cgd.toy.views import run_guided_scales

    mixture, schedule, models = _exact(mixture_json)
    return run_guided_scales(mixture, request, scales, models=models, schedule=schedule, record=record, keep=keep)


def exact_sweep(mixture_json: str, request, scales: tuple) -> list:
    """:func:`cgd.toy.views.sweep_scales` with the exact models of the mixture."""
    from cgd.toy.views import sweep_scales

    mixture, schedule, models = _exact(mixture_json)
    return sweep_scales(mixture, request, scales, models=models, schedule=schedule)


def exact_sampler_sweep(mixture_json: str, request, scales: tuple) -> list:
    """:func:`cgd.toy.views.sampler_sweep` with the exact models of the mixture."""
    from cgd.toy.views import sampler_sweep

    mixture, schedule, models = _exact(mixture_json)
    return sampler_sweep(mixture, request, scales, models=models, schedule=schedule)


def exact_compare(mixture_json: str, request, methods: tuple, scales: tuple) -> list:
    """:func:`cgd.toy.views.compare_guidance` with the exact models (autoguidance: the default weak model)."""
    from cgd.toy.views import compare_guidance

    mixture, schedule, models = _exact(mixture_json)
    return compare_guidance(mixture, request, methods, scales, models=models, schedule=schedule)


def exact_corrector_sweep(mixture_json: str, request, ks: tuple) -> list:
    """:func:`cgd.toy.views.corrector_sweep` with the exact models."""
    from cgd.toy.views import corrector_sweep

    mixture, schedule, models = _exact(mixture_json)
    return corrector_sweep(mixture, request, ks, models=models, schedule=schedule)


_TASKS = {"exact_runs": exact_runs, "exact_sweep": exact_sweep, "exact_sampler_sweep": exact_sampler_sweep,
          "exact_compare": exact_compare, "exact_corrector_sweep": exact_corrector_sweep}


def serve() -> None:
    """The worker's loop: read a call, answer it, until the server closes the pipe."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print in a library goes to stderr, not into the answers
    inp = sys.stdin.buffer
    import torch

    torch.set_num_threads(1)  # one core for the worker, the rest for the server
    while True:
        try:
            name, args, kwargs = _recv(inp)
        except EOFError:
            return
        try:
            answer = ("ok", _TASKS[name](*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed back to the caller, raised there
            answer = ("err", e)
        try:
            _send(out, answer)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            _send(out, ("err", RuntimeError(f"worker answer did not pickle: {e}")))


if __name__ == "__main__":
    serve()
