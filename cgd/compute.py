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
_PLAIN_RUNNING = threading.Event()  # a run() job (not a batched group) is on the compute thread


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
        use_pinned_threads(compute=True)
        _PLAIN_RUNNING.set()  # the queue's waiting callers count it as one run ahead
        try:
            with torch.set_grad_enabled(grad), contextlib.ExitStack() as stack:
                for device_type, dtype in casts:
                    stack.enter_context(torch.autocast(device_type=device_type, dtype=dtype))
                return fn(*args, callback=relay if callback is not None else None, **kwargs)
        finally:
            _PLAIN_RUNNING.clear()

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


# -- fixed-size chunks: a row's result does not depend on its batch ---------------------------------

def fixed_batch(fn: Callable, size: int) -> Callable:
    """``fn(x, *rest)`` evaluated in chunks of exactly ``size`` rows (the last one padded), then joined.

    On a CPU the convolution and matmul kernels are chosen by the batch size, and their rounding
    with them: a row computed in a batch of 8 differs in its last bits from the same row in a batch
    of 16 (measured: up to 1e-6 on the U-Net). Inside a batch of fixed size a row's result depends
    neither on its neighbours nor on its position (tested), so with fixed chunks a request gives the
    same bits alone or sharing a batch with others. ``rest``: tensors with the same leading dimension
    (timesteps, labels) or anything else (passed as is). Returns a tensor or a tuple of tensors.
    """

    def chunked(x, *rest):
        B = x.shape[0]
        if B == size:
            return fn(x, *rest)
        pad = (-B) % size
        per_row = [torch.is_tensor(a) and a.ndim > 0 and a.shape[0] == B for a in rest]

        def padded(a):
            return torch.cat([a, a[:1].expand(pad, *a.shape[1:])]) if pad else a

        xs, rs = padded(x), [padded(a) if row else a for a, row in zip(rest, per_row)]
        outs = [fn(xs[i:i + size], *[a[i:i + size] if row else a for a, row in zip(rs, per_row)])
                for i in range(0, B + pad, size)]
        if isinstance(outs[0], tuple):  # (eps, v): each part joined on its own
            return tuple(None if parts[0] is None else torch.cat(parts)[:B] for parts in zip(*outs))
        return torch.cat(outs)[:B]

    return chunked


# -- requests that wait together run together --------------------------------------------------------

class _Ticket:
    __slots__ = ("key", "item", "runner", "cost", "size", "max_size", "events", "cancelled", "started", "result",
                 "error")

    def __init__(self, key, item, runner, cost, size, max_size):
        self.key, self.item, self.runner, self.cost = key, item, runner, float(cost)
        self.size, self.max_size = size, max_size
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self.started = False
        self.result = self.error = None


_PENDING: list = []  # tickets not started yet, oldest first
_RUNNING: list = []  # [(tickets, started at, estimated seconds)] of the group on the compute thread
_QLOCK = threading.Lock()


def queue_position(ticket: _Ticket) -> tuple:
    """``(groups ahead, estimated seconds until this ticket's group starts)``; (0, 0) once it runs."""
    import time

    with _QLOCK:
        if ticket.started or ticket not in _PENDING:
            return 0, 0.0
        ahead, seconds = 0, 0.0
        if _RUNNING:
            _, t0, est = _RUNNING[0]
            ahead, seconds = 1, max(0.0, est - (time.perf_counter() - t0))
        elif _PLAIN_RUNNING.is_set():  # its length is unknown: counted, not timed
            ahead = 1
        for group in _groups([t for t in _PENDING if not t.cancelled.is_set()]):  # in the order _drain runs them
            if ticket in group:
                break
            ahead += 1
            seconds += sum(t.cost for t in group)
        return ahead, seconds


def _take_group(live: list) -> list:
    """The group _drain runs next: the oldest ticket, then others of its key in order while there is room."""
    first = live[0]
    group, size = [first], first.size
    if first.key is not None:
        for t in live[1:]:
            if t.runner is first.runner and t.key == first.key and size + t.size <= first.max_size:
                group.append(t)
                size += t.size
    return group


def _groups(live: list):
    """Every waiting ticket, cut into the groups that will run, in order."""
    while live:
        group = _take_group(live)
        yield group
        live = [t for t in live if t not in group]


def _drain() -> None:
    """On the compute thread: run the oldest waiting ticket together with every other of its group."""
    import time

    with _QLOCK:
        live = [t for t in _PENDING if not t.cancelled.is_set()]
        _PENDING[:] = live
        if not live:
            return
        group = _take_group(live)
        _PENDING[:] = [t for t in live if t not in group]
        for t in group:
            t.started = True
        _RUNNING[:] = [(group, time.perf_counter(), sum(t.cost for t in group))]

    def relay_for(t):
        def relay(event):
            if not t.cancelled.is_set():
                t.events.put(("event", event))
            elif all(u.cancelled.is_set() for u in group):
                raise Cancelled("every caller stopped waiting")
        return relay

    use_pinned_threads(compute=True)
    try:
        results = group[0].runner([t.item for t in group], [relay_for(t) for t in group])
        for t, r in zip(group, results):
            t.result = r
    except BaseException as e:  # noqa: BLE001 - handed to every caller of the group
        for t in group:
            t.error = e
    finally:
        with _QLOCK:
            _RUNNING.clear()
        for t in group:
            t.events.put(("done", None))


def run_batched(runner: Callable, key, item, *, cost: float = 1.0, size: int = 1, max_size: int = 1 << 30,
                callback: Optional[Callable[[dict], None]] = None,
                on_wait: Optional[Callable[[int, float], None]] = None, wait_every: float = 0.5):
    """``runner([item, ...], [callback, ...]) -> [result, ...]`` on the compute thread, sharing a batch.

    Tickets with the same runner and (not None) ``key`` that wait at the same time run as one call;
    each caller gets its own result and its own progress events. ``cost``: the estimated seconds of
    this item alone (for the others' wait estimates). ``size``: the item's share of a batch; a batch
    takes waiting tickets, oldest first, while their sizes sum to at most ``max_size``. While waiting,
    ``on_wait(groups ahead, seconds)`` is called every ``wait_every`` s in the caller's thread. If ``callback`` or ``on_wait`` raises (the
    caller gave up), the ticket is dropped (its group goes on for the others) and the exception propagates.
    """
    if on_compute_thread():  # a run that starts another: no queue, no deadlock
        return runner([item], [callback])[0]
    ticket = _Ticket(key, item, runner, cost, size, max_size)
    with _QLOCK:
        _PENDING.append(ticket)
    _EXECUTOR.submit(_drain)
    try:
        while True:
            try:
                kind, event = ticket.events.get(timeout=wait_every)
            except queue.Empty:
                if on_wait is not None and not ticket.started:
                    on_wait(*queue_position(ticket))
                continue
            if kind == "done":
                break
            if callback is not None:
                callback(event)
    except BaseException:
        ticket.cancelled.set()
        raise
    if ticket.error is not None:
        raise ticket.error
    return ticket.result
