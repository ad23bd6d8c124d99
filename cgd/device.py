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


def pin_threads(n: int) -> int:
    """Set torch's intra-op thread count in the calling thread, and torch's default for threads yet to start.

    OpenMP keeps the count per calling thread (torch applies its default the first time a thread runs a
    parallel op). A process that samples must keep a single multi-threaded team: see
    :func:`cgd.compute.serve`, which is how the app splits the count between its compute thread and the rest.
    """
    n = max(1, int(n))
    torch.set_num_threads(n)
    return n


def describe(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return f"CPU ({torch.get_num_threads()} threads)"
