"""The Lesson in a real browser (Debian's chromium, playwright), in presentation mode, as on a projector.

* ``?present=1`` at 1400×900: for every step the figure, its control, "What to notice" and Next lie inside the
  first screen (bounding boxes), the sidebar is collapsed; a screenshot of every step goes to
  artifacts/screenshots/lesson_present_step{N}.png.
* 150% browser zoom is a 933×600 CSS-pixel viewport at device pixel ratio 1.5 (what chromium gives a 1400×900
  window zoomed to 150%): the figure is still inside the first screen.
* → and PageDown advance one step, ← and PageUp go back one, not while a slider has the focus; the browser's
  Back returns to the step before and the URL's ``?step=`` names the step shown.

One server and one browser (the fixtures of tests/test_browser.py, which skip where chromium is missing).
"""

from urllib.parse import parse_qs, urlparse

import pytest

from test_browser import SHOTS, browser, server  # noqa: F401 - fixtures (one server and browser for this module)

from ui.lesson import STEPS

N = len(STEPS)

_BOXES = """() => {
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
                     return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
  const alerts = Array.from(document.querySelectorAll('[data-testid="stAlert"]'));
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  return {figures: Array.from(document.querySelectorAll('[class*="st-key-lessonfig_"]')).map(box),
          notice: box(alerts.find(a => a.textContent.includes('What to notice'))),
          next: box(document.querySelector('.st-key-lesson_next button')),
          control: box(document.querySelector('[data-testid="stMain"] [data-testid="stSlider"], [data-testid="stMain"] [data-testid="stRadio"]')),
          sidebar: sidebar ? box(sidebar) : null, width: window.innerWidth, height: window.innerHeight};
}"""


def _settled(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                           "!document.querySelector('[data-stale=\"true\"]')", timeout=180_000)
    page.wait_for_timeout(600)


def _at_step(page, k: int) -> None:
    """Wait until step ``k`` (1-based) is drawn: its title, and every figure box holding its plot or images."""
    page.get_by_text(f"Step {k} of {N}").first.wait_for(timeout=180_000)
    _settled(page)
    page.wait_for_function("() => { const f = Array.from(document.querySelectorAll('[class*=\"st-key-lessonfig_\"]'));"
                           " return f.length > 0 && f.every(e => e.querySelector('.js-plotly-plot .main-svg, img')); }",
                           timeout=180_000)
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="stException"]').count() == 0, k


def _inside(b: dict, width: float, height: float) -> bool:
    return b is not None and b["width"] > 0 and b["height"] > 0 and b["left"] >= -1 and b["top"] >= -1 \
        and b["right"] <= width + 1 and b["bottom"] <= height + 1


def _collapsed(box) -> bool:
    """A collapsed sidebar is gone, empty, or slid off the left edge."""
    return box is None or box["width"] == 0 or (box.get("right", box.get("x", 0) + box["width"])) <= 0


def _url_step(page) -> int:
    return int(parse_qs(urlparse(page.url).query)["step"][0])


def test_every_step_fits_one_projector_screen_and_the_keys_move_one_step(server, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/Lesson?present=1&step=1")
    for k in range(1, N + 1):
        _at_step(page, k)
        m = page.evaluate(_BOXES)
        assert m["figures"] and all(_inside(f, 1400, 900) for f in m["figures"]), (k, m)
        assert _inside(m["notice"], 1400, 900), (k, m["notice"])
        assert _inside(m["next"], 1400, 900), (k, m["next"])
        assert m["control"] is None or _inside(m["control"], 1400, 900), (k, m["control"])
        assert _collapsed(m["sidebar"]), m["sidebar"]
        page.screenshot(path=str(SHOTS / f"lesson_present_step{k}.png"))
        if k == 3:  # a focused slider takes the arrow keys: no step
            thumb = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type=range]').first
            title = page.locator(".js-plotly-plot .gtitle").first.text_content()
            thumb.focus()
            page.keyboard.press("ArrowRight")
            _settled(page)
            assert page.get_by_text(f"Step 3 of {N}").count() == 1
            assert page.locator(".js-plotly-plot .gtitle").first.text_content() != title  # the scrubber moved
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
        if k < N:
            page.keyboard.press("ArrowRight" if k % 2 else "PageDown")
    assert _url_step(page) == N
    page.keyboard.press("ArrowLeft")
    _at_step(page, N - 1)
    assert _url_step(page) == N - 1
    page.keyboard.press("PageUp")
    _at_step(page, N - 2)
    page.go_back()  # the browser's Back: the step before, in the URL and on the page
    _at_step(page, N - 1)
    assert _url_step(page) == N - 1
    page.go_back()
    _at_step(page, N)
    page.go_forward()
    _at_step(page, N - 1)
    assert _url_step(page) == N - 1
    page.close()


@pytest.mark.parametrize("zoom", [1.5])
def test_at_150_percent_zoom_every_figure_is_on_the_first_screen(server, browser, zoom):  # noqa: F811
    width, height = round(1400 / zoom), round(900 / zoom)
    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=zoom)
    page.goto(f"{server}/Lesson?present=1&step=1")
    for k in range(1, N + 1):
        _at_step(page, k)
        m = page.evaluate(_BOXES)
        assert m["width"] == width and m["height"] == height
        assert m["figures"] and all(_inside(f, width, height) for f in m["figures"]), (k, m["figures"])
        if k < N:
            page.get_by_role("button", name="Next →").click()
    page.close()


def test_the_toggle_turns_presentation_mode_on_and_off(server, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/Lesson?step=2")
    _at_step(page, 2)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert not _collapsed(sidebar.bounding_box())
    page.get_by_text("Presentation mode").first.click()
    page.wait_for_function("() => location.search.includes('present=1')", timeout=60_000)
    _at_step(page, 2)
    assert "step=2" in page.url
    page.wait_for_timeout(800)  # the sidebar slides out
    assert _collapsed(sidebar.bounding_box())
    page.get_by_text("Presentation mode").first.click()  # off again: the sidebar comes back
    page.wait_for_function("() => !location.search.includes('present=1')", timeout=60_000)
    _at_step(page, 2)
    page.wait_for_timeout(800)
    assert not _collapsed(sidebar.bounding_box())
    page.close()
