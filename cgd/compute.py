"""Where image sampling runs, and the rule that keeps one OpenMP team per process.

torch's CPU build runs its parallel ops on GNU OpenMP (libgomp), whose thread teams belong to the
thread that calls them. If two threads of one process each run ops with more than one thread, two
teams exist; libgomp then manages more threads than there are cores, stops spin-waiting, and every one
of a run's thousands of small parallel regions pays a sleep and a wake (measured: the same 16 x 25
CG-DDIM run took 2.6 s alone and 5.0-6.6 s after the main thread had run one 2-thread convolution).
So a process has one thread that runs torch with several threads, and every other thread runs it with one:

- **a CLI, a benchmark, a test** (nothing called :func:`serve`): :func:`run` and :func:`run_batched`
  run in the calling thread, one run at a time. The models are loaded, run and measured on that one
  thread, with torch's thread count (every core unless the CLI sets it);
- **the app** (:func:`serve`): every run goes to one long-lived compute thread with ``threads`` threads,
  one run at a time, and torch's count for every other thread (each Streamlit session's script thread,
  the Lesson's warm-up) is 1. The same seed gives the same bits whichever session asks, and at the same
  thread count the same bits as a CLI (tested): floating-point results depend on how many threads split
  a reduction, not on which thread runs them.

The caller's grad mode and autocast (thread-local in torch) hold in the run too. Progress
callbacks are relayed back and called in the asking thread (Streamlit elements can only
be updated from their own script thread). If the callback raises (a user moved a widget and
Streamlit stops the script), the run is cancelled at its next step and the exception propagates.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import torch

_PREFIX = "cgd-compute"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_PREFIX)
_PLAIN_RUNNING = threading.Event()  # a run() job (not a batched group) is on the compute thread
_SERVE_LOCK = threading.Lock()
_SERVING: Optional[int] = None  # the compute thread's torch thread count while serving, else None
_INLINE = threading.RLock()  # not serving: one run at a time in the caller's thread (a run may start another)


def serve(threads: int) -> int:
    """Send every run to the one compute thread, with ``threads`` torch threads; every other thread gets 1.

    Call it once before any other thread runs torch ops (the app does, in ``ui.common.setup``); calling it
    again with another count re-applies both sides. torch keeps one default count for threads that have
    not run a parallel op yet and applies it at their first: the compute thread sets its own count first,
    then the default (and the caller's count) go back to 1, so no thread started later gets a team.
    Returns the compute thread's count.
    """
    global _SERVING
    threads = max(1, int(threads))
    with _SERVE_LOCK:
        if _SERVING != threads:
            _EXECUTOR.submit(_own_count, threads).result()
            _SERVING = threads
        torch.set_num_threads(1)
    return threads


def _own_count(threads: int) -> None:
    """In the compute thread: its own count, kept when torch's default changes afterwards."""
    torch.get_num_threads()  # torch applies its default at a thread's first use: let that happen first
    torch.set_num_threads(threads)


def stop_serving() -> None:
    """Runs go back to the caller's thread (tests that served leave the process as they found it)."""
    global _SERVING
    with _SERVE_LOCK:
        _SERVING = None


def serving() -> Optional[int]:
    """The compute thread's thread count while :func:`serve` is in force, else None."""
    return _SERVING


def native_threads() -> int:
    """OS threads of this process that Python did not start (Linux; 0 elsewhere).

    On torch's CPU build these are the OpenMP teams' workers (``threads - 1`` per team of ``threads``)
    and torch's own pthreadpool for QNNPACK, which ``torch.set_num_threads(n)`` sizes to ``n - 1``
    workers (both seen in gdb), plus numpy's OpenBLAS pool unless ``OPENBLAS_NUM_THREADS=1``. With one
    team of ``threads``: at most ``2 * (threads - 1)``; a second team adds its workers to that.
    """
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0
    python = {t.native_id for t in threading.enumerate()}
    return sum(int(tid) not in python for tid in tasks)


def on_compute_thread() -> bool:
    """True in the thread that runs samplers: the compute thread while serving, any caller otherwise."""
    return _SERVING is None or threading.current_thread().name.startswith(_PREFIX)


def _autocast_state() -> list:
    return [(d, torch.get_autocast_dtype(d)) for d in ("cpu", "cuda") if torch.is_autocast_enabled(d)]


def run(fn: Callable, *args, callback: Optional[Callable[[dict], None]] = None, **kwargs):
    """``fn(*args, callback=..., **kwargs)`` on the compute thread; returns its result or raises its error."""
    if on_compute_thread():  # not serving, or a run that starts another: no queue, no deadlock
        with _INLINE:
            return fn(*args, callback=callback, **kwargs)
    events: queue.SimpleQueue = queue.SimpleQueue()
    cancelled = threading.Event()

    def relay(event: dict) -> None:
        if cancelled.is_set():
            raise Cancelled("the caller stopped waiting")
        events.put(("event", event))

    grad, casts = torch.is_grad_enabled(), _autocast_state()  # thread-local in torch: carried over

    def job():
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
    if on_compute_thread():  # not serving, or a run that starts another: no queue, no deadlock
        with _INLINE:
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
