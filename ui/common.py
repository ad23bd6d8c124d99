"""Page set-up, torch threads and one-line errors for every page."""

from __future__ import annotations

import contextlib
import os

import streamlit as st

from cgd.device import pin_threads
from cgd.errors import CGDError

_THREADS_SET = False

# The sidebar's navigation, in teaching order (Streamlit's own list would name app.py "app" and
# sort the Lesson last; it is switched off in .streamlit/config.toml).
# Material icons ship with Streamlit's front end: they show on a machine without an emoji font too.
PAGES = (("app.py", "Home", ":material/home:"), ("pages/6_Lesson.py", "Lesson (10 minutes)", ":material/school:"),
         ("pages/1_Guidance_in_2D.py", "Guidance in 2D", ":material/scatter_plot:"),
         ("pages/2_Scale_explorer.py", "Scale explorer", ":material/tune:"),
         ("pages/3_Image_generation.py", "Image generation", ":material/image:"),
         ("pages/4_Training.py", "Training", ":material/model_training:"),
         ("pages/5_Fidelity_vs_diversity.py", "Fidelity vs diversity", ":material/balance:"))


def setup(title: str, icon: str = "🧭") -> None:
    """Page config plus the process-wide torch thread count.

    Many users share one server process; every rerun runs in its own thread, so torch's own
    intra-op parallelism is capped (``CGD_TORCH_THREADS``, default half the cores) to keep
    concurrent reruns from oversubscribing the CPU. Image sampling runs one request at a time on
    one compute thread (``cgd.compute``) with every core (``CGD_COMPUTE_THREADS``; measured 1.5x
    faster than half of them on 2 cores, ``bench/live_path.py``), always the same count, so a seed
    gives the same bits for every user.
    """
    global _THREADS_SET
    st.set_page_config(page_title=f"{title} · Classifier Guidance Lab", page_icon=icon, layout="wide")
    if not _THREADS_SET:
        threads = int(os.environ.get("CGD_TORCH_THREADS", max(1, (os.cpu_count() or 2) // 2)))
        pin_threads(threads, compute=int(os.environ.get("CGD_COMPUTE_THREADS", os.cpu_count() or 1)))
        _THREADS_SET = True
    _navigation()


def _navigation() -> None:
    with st.sidebar:
        for path, label, icon in PAGES:
            try:
                st.page_link(path, label=label, icon=icon)
            except Exception:  # noqa: BLE001 - a page run alone (AppTest of one script) has no others to link
                return
        st.divider()


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
