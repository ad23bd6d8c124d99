"""Home and Training in a real browser (Debian's chromium, playwright), as on a projector.

* Home at 1400×900: the picture of what guidance does and the "Start the Lesson" button lie inside the first screen,
  the equations below it; the button opens the Lesson. At 150% zoom (933×600 CSS px at device pixel ratio 1.5) the
  picture is still on the first screen.
* Training at 1400 px wide: each shipped model's loss curve is at least 300 px wide with at least three labelled
  ticks on its y axis.

One server and one browser (the fixtures of tests/test_browser.py, which skip where chromium is missing).
"""

from test_browser import SHOTS, browser, server  # noqa: F401 - fixtures (one server and browser for this module)

_HOME = """() => {
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
                     return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width}; };
  const start = Array.from(document.querySelectorAll('[data-testid="stMain"] button'))
                     .find(b => b.textContent.includes('Start the Lesson'));
  return {pictures: Array.from(document.querySelectorAll('[class*="st-key-homepic_"] img')).map(box),
          start: box(start), latex: box(document.querySelector('[data-testid="stMain"] .katex-display')),
          width: window.innerWidth, height: window.innerHeight};
}"""


def _settled(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    page.wait_for_timeout(800)


def _inside(b, width, height) -> bool:
    return b is not None and b["width"] > 0 and b["top"] >= -1 and b["bottom"] <= height + 1 \
        and b["left"] >= -1 and b["right"] <= width + 1


def test_home_first_screen_shows_the_picture_and_the_lesson_button(server, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(server, wait_until="networkidle")
    _settled(page)
    page.locator('[class*="st-key-homepic_"] img').first.wait_for(timeout=120_000)
    b = page.evaluate(_HOME)
    assert len(b["pictures"]) == 3 and all(_inside(p, b["width"], b["height"]) for p in b["pictures"]), b
    assert _inside(b["start"], b["width"], b["height"]), b
    assert b["latex"] is not None and b["latex"]["top"] > b["start"]["bottom"], b  # the equations come below
    page.screenshot(path=str(SHOTS / "home_first_screen.png"))
    page.get_by_role("button", name="Start the Lesson →").click()
    page.get_by_text("Step 1 of").first.wait_for(timeout=180_000)
    assert "Lesson" in page.url
    page.close()


def test_home_picture_at_150_percent_zoom(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 933, "height": 600}, device_scale_factor=1.5)
    page = context.new_page()
    page.goto(server, wait_until="networkidle")
    _settled(page)
    page.locator('[class*="st-key-homepic_"] img').first.wait_for(timeout=120_000)
    b = page.evaluate(_HOME)
    assert len(b["pictures"]) == 3 and all(_inside(p, b["width"], b["height"]) for p in b["pictures"]), b
    page.screenshot(path=str(SHOTS / "home_zoom150.png"))
    context.close()


def test_training_curves_are_wide_enough_with_ticks(server, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/Training", wait_until="networkidle")
    _settled(page)
    page.locator('[class*="st-key-curvebox_"] .js-plotly-plot .main-svg').first.wait_for(timeout=120_000)
    panels = page.evaluate("""() => Array.from(document.querySelectorAll('[class*="st-key-curvebox_"]')).map(e => ({
        width: e.querySelector('.js-plotly-plot').getBoundingClientRect().width,
        yticks: Array.from(e.querySelectorAll('.ytick text')).filter(t => t.textContent.trim()).length}))""")
    assert len(panels) >= 3, panels
    assert all(p["width"] >= 300 and p["yticks"] >= 3 for p in panels), panels
    page.close()
