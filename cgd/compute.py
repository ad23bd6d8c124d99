"""One compute thread for the shared image models.

Every image sampling run, whichever thread asks (a CLI, an evaluation, one of many app sessions),
runs on one long-lived worker thread, one run at a time. Two reasons:

- the same seed gives the same bits: floating-point results depend on how many threads split a
  reduction, and BLAS/OpenMP keep parts of that setting per calling thread, so runs started from
  many different server threads could differ in their last bits; on one thread they cannot;
- no oversubscription: each run uses all of torch's intra-op threads, instead of many concurrent
  runs fighting over a few cores.

The caller's grad mode and autocast (thread-local in torch) hold in the run too. Progress
callbacks are relayed back and called in the asking thread (Streamlit elements can only
be updated from their own script thread). If the callback raises (a user moved a widget and
Streamlit stops the script), the run is cancelled at its next step and the exception propagates.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import torch

from cgd.device import use_pinned_threads

_PREFIX = "cgd-compute"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_PREFIX)


class Cancelled(Exception):
    """Raised inside the compute thread when the asking thread gave up on a run."""


def on_compute_thread() -> bool:
    return threading.current_thread().name.startswith(_PREFIX)


def _autocast_state() -> list:
    return [(d, torch.get_autocast_dtype(d)) for d in ("cpu", "cuda") if torch.is_autocast_enabled(d)]


def run(fn: Callable, *args, callback: Optional[Callable[[dict], None]] = None, **kwargs):
    """``fn(*args, callback=..., **kwargs)`` on the compute thread; returns its result or raises its error."""
    if on_compute_thread():  # already there (a run that starts another): no queue, no deadlock
        return fn(*args, callback=callback, **kwargs)
    events: queue.SimpleQueue = queue.SimpleQueue()
    cancelled = threading.Event()

    def relay(event: dict) -> None:
        if cancelled.is_set():
            raise Cancelled("the caller stopped waiting")
        events.put(("event", event))

    grad, casts = torch.is_grad_enabled(), _autocast_state()  # thread-local in torch: carried over

    def job():
        use_pinned_threads()
        with torch.set_grad_enabled(grad), contextlib.ExitStack() as stack:
            for device_type, dtype in casts:
                stack.enter_context(torch.autocast(device_type=device_type, dtype=dtype))
            return fn(*args, callback=relay if callback is not None else None, **kwargs)

    future = _EXECUTOR.submit(job)
    future.add_done_callback(lambda _: events.put(("done", None)))
    while True:
        kind, event = events.get()
        if kind == "done":
            return future.result()
        try:
            callback(event)
        except BaseException:
            cancelled.set()
            future.cancel()  # not started yet: never starts; running: stops at its next step
            raise
