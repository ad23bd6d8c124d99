"""The Lesson's navigation and presentation mode (Streamlit glue).

* The URL is the state: ``?step=N`` is the step shown (Next/Back write it, so the browser's Back and
  Forward move between steps and a link opens the step it names), ``?present=1`` turns presentation
  mode on (the page's toggle writes it).
* Presentation mode: sidebar collapsed, larger type, figures sized from the viewport (so the figure,
  its control, "What to notice" and Back/Next fit a 1400×900 projector, and the figure still fits at
  150% browser zoom); the figures themselves get larger markers and lines (ui.lesson_figures.projector).
* Keyboard: → and PageDown click Next, ← and PageUp click Back (what a presenter's clicker sends),
  never while a text field, a slider or a select box has the focus.
"""

from __future__ import annotations

import streamlit as st

__all__ = ["step_from_url", "go_to", "present_from_url", "presentation_toggle", "style", "chart", "keyboard"]

NEXT_KEY, BACK_KEY, PRESENT_KEY = "lesson_next", "lesson_back", "lesson_present"


def step_from_url(count: int) -> int:
    """The step the URL names (0-based; ``?step=`` counts from 1), clamped to the steps; 0 when absent or bad."""
    try:
        k = int(str(st.query_params.get("step", "1")).strip()) - 1
    except ValueError:
        return 0
    return min(max(k, 0), count - 1)


def go_to(k: int) -> None:
    """Next/Back's callback: write step ``k`` (0-based) into the URL (a new history entry); the rerun shows it."""
    st.query_params["step"] = str(k + 1)


def present_from_url() -> bool:
    """Whether ``?present=1``; the toggle's state follows the URL (set before the toggle is drawn)."""
    on = st.query_params.get("present") == "1"
    st.session_state[PRESENT_KEY] = on
    return on


def _toggled() -> None:
    if st.session_state.get(PRESENT_KEY):
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


def presentation_toggle(where=st) -> None:
    where.toggle("Presentation mode", key=PRESENT_KEY, on_change=_toggled,
                 help="Sidebar collapsed, larger type, the whole step on one projector screen. The same as "
                      "?present=1 in the address. Keys: → or PageDown next, ← or PageUp back.")


# Heights of the figure boxes in presentation mode: the square plots of the plane beside the step's words,
# the wide rows (two plots side by side, the image row) above them. 175 px: the page's top padding and the
# navigation row with the step's title; the wide row leaves the words under it room on a 900 px screen.
SQUARE_BOX = "min(780px, calc(100vh - 175px))"
WIDE_BOX = "min(440px, calc(100vh - 175px))"

_CSS_ALWAYS = """
<style>
/* the step's title in the navigation row, beside Back and Next */
.st-key-lesson_nav h3 { padding: 0; margin: 0; }
</style>
"""

_CSS_PRESENT = f"""
<style>
[data-testid="stMainBlockContainer"], .block-container {{
  padding-top: 4rem !important; padding-bottom: 2rem !important; max-width: 100% !important;
  padding-left: 2rem !important; padding-right: 2rem !important; }}
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li {{ font-size: 1.3rem; line-height: 1.45; }}
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p {{ font-size: 1.05rem; }}
[data-testid="stMainBlockContainer"] [data-testid="stWidgetLabel"] p {{ font-size: 1.15rem; }}
.st-key-lesson_nav h3 {{ font-size: 1.75rem; line-height: 1.25; }}
.st-key-lesson_nav button p {{ font-size: 1.2rem; }}
div[class*="st-key-lessonfig_square"] {{ height: {SQUARE_BOX} !important; flex: 0 0 auto !important; }}
div[class*="st-key-lessonfig_wide"] {{ height: {WIDE_BOX} !important; flex: 0 0 auto !important; }}
div[class*="st-key-lessonfig_"] > [data-testid="stElementContainer"] {{ flex: 1 1 0 !important; min-height: 0; }}
div[class*="st-key-lessonfig_"] [data-testid="stElementContainer"] > div,
div[class*="st-key-lessonfig_"] [data-testid="stPlotlyChart"] {{ height: 100% !important; }}
</style>
"""


def style(present: bool) -> None:
    """The page's CSS (presentation mode's when ``present``) and the sidebar's initial state."""
    st.set_page_config(initial_sidebar_state="collapsed" if present else "auto")
    st.html(_CSS_ALWAYS + (_CSS_PRESENT if present else ""))


def chart(where, fig, key: str, shape: str = "square") -> None:
    """``fig`` in a box that presentation mode sizes from the viewport (``shape``: "square" beside the words,
    "wide" above them); outside it the figure keeps its own height."""
    box = where.container(key=f"lessonfig_{shape}_{key}")
    box.plotly_chart(fig, key=key, height="stretch", config={"displaylogo": False})


_KEYS_JS = """
<script>
(function () {
  if (window.__cgdLessonKeys) { return; }
  window.__cgdLessonKeys = true;
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    var key = { ArrowRight: "%(next)s", PageDown: "%(next)s", ArrowLeft: "%(back)s", PageUp: "%(back)s" }[e.key];
    if (!key) { return; }
    var t = e.target;
    if (t && t.closest && (t.isContentEditable || t.closest(
        'input, textarea, select, [role="slider"], [role="combobox"], [role="listbox"], [contenteditable="true"]'))) {
      return;  /* typing, or moving a slider: not a step */
    }
    var button = document.querySelector(".st-key-" + key + " button");
    if (!button) { return; }  /* not on the Lesson */
    e.preventDefault();
    if (!button.disabled) { button.click(); }
  }, true);
})();
</script>
""" % {"next": NEXT_KEY, "back": BACK_KEY}


def keyboard() -> None:
    """→/PageDown and ←/PageUp click Next and Back (one listener per browser tab, installed once)."""
    st.html(_KEYS_JS, unsafe_allow_javascript=True)
