"""Device choice and mixed precision, in one place."""

from __future__ import annotations


import torch

from cgd.errors import InputError


def pick_device(preference: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cpu' / 'cuda' are taken as asked (cuda must exist)."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise InputError("CUDA was asked for but no CUDA device is available")
    if preference not in ("cpu", "cuda"):
        raise InputError(f"unknown device {preference!r}; choose auto, cpu or cuda")
    return torch.device(preference)


_PINNED_THREADS: int | None = None
_COMPUTE_THREADS: int | None = None


def pin_threads(n: int, compute: int | None = None) -> int:
    """Fix torch's intra-op thread count for the whole process (the app calls this once).

    Floating-point results depend on how many threads split a reduction, and OpenMP keeps the
    count per calling thread: a thread that torch did not set up may run with another count and
    so give other bits. ``use_pinned_threads`` re-applies this count in whichever thread computes.
    ``compute``: the count of the one compute thread that runs every image sampling run
    (:mod:`cgd.compute`; default: ``n``). It runs one request at a time, so it may take every core.
    """
    global _PINNED_THREADS, _COMPUTE_THREADS
    _PINNED_THREADS = max(1, int(n))
    _COMPUTE_THREADS = max(1, int(compute)) if compute is not None else _PINNED_THREADS
    torch.set_num_threads(_PINNED_THREADS)
    return _PINNED_THREADS


def use_pinned_threads(compute: bool = False) -> None:
    """Apply the pinned thread count (the compute thread's with ``compute``) in the calling thread.

    No-op when nothing was pinned.
    """
    n = _COMPUTE_THREADS if compute else _PINNED_THREADS
    if n is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def describe(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return f"CPU ({torch.get_num_threads()} threads)"
