"""Page set-up, torch threads and one-line errors for every page."""

from __future__ import annotations

import contextlib
import os

import streamlit as st

from cgd.device import pin_threads
from cgd.errors import CGDError

_THREADS_SET = False


def setup(title: str, icon: str = "🧭") -> None:
    """Page config plus the process-wide torch thread count.

    Many users share one server process; every rerun runs in its own thread, so torch's own
    intra-op parallelism is capped (``CGD_TORCH_THREADS``, default half the cores) to keep
    concurrent reruns from oversubscribing the CPU. Image sampling runs on one compute thread
    (``cgd.compute``) with this same count, so a seed gives the same bits for every user.
    """
    global _THREADS_SET
    st.set_page_config(page_title=f"{title} · Classifier Guidance Lab", page_icon=icon, layout="wide")
    if not _THREADS_SET:
        threads = int(os.environ.get("CGD_TORCH_THREADS", max(1, (os.cpu_count() or 2) // 2)))
        pin_threads(threads)
        _THREADS_SET = True


@contextlib.contextmanager
def answer_errors():
    """Turn the engine's input errors into a one-line ``st.error`` and stop the script there."""
    try:
        yield
    except CGDError as e:
        st.error(str(e))
        st.stop()
    except Exception as e:  # noqa: BLE001 - never a traceback in front of a class
        first = str(e).splitlines()[0] if str(e) else ""
        st.error(f"unexpected error ({type(e).__name__}): {first}")
        st.stop()
