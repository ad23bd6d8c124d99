"""Page set-up, torch threads and one-line errors for every page."""

from __future__ import annotations

import contextlib
import os

import streamlit as st

from cgd import compute
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
    """Page config, the process's one OpenMP team, and the navigation.

    Many users share one server process and every rerun runs in its own thread. Image sampling runs
    one request at a time on one compute thread with every core (``CGD_COMPUTE_THREADS`` to change),
    always the same count, so a seed gives the same bits for every user; every other thread runs torch
    with one thread, so that the process has one OpenMP team (:func:`cgd.compute.serve` says why).
    """
    global _THREADS_SET
    st.set_page_config(page_title=f"{title} · Classifier Guidance Lab", page_icon=icon, layout="wide")
    if not _THREADS_SET:
        compute.serve(int(os.environ.get("CGD_COMPUTE_THREADS", os.cpu_count() or 1)))
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
