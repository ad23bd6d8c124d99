"""A real browser: Debian's chromium driven by playwright against `streamlit run app.py` on 127.0.0.1.

Opens the 2D page, moves the scale slider with the keyboard, checks the plot changed, and saves a
screenshot of every page to artifacts/screenshots/. Skipped where chromium or playwright is
missing, unless CGD_REQUIRE_BROWSER=1 (set by .ci/run, which installs both).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium")
PAGES = {"home": "", "lesson": "Lesson", "guidance_2d": "Guidance_in_2D", "scale_explorer": "Scale_explorer",
         "image_generation": "Image_generation", "training": "Training",
         "fidelity_vs_diversity": "Fidelity_vs_diversity"}

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if CHROMIUM is None or sync_playwright is None:
    if os.environ.get("CGD_REQUIRE_BROWSER") == "1":
        raise RuntimeError("the browser test needs Debian's chromium and the pip package playwright")
    pytest.skip("chromium or playwright not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("streamlit did not start")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield b
        b.close()


def _title_of_first_plot(page) -> str:
    return page.locator(".js-plotly-plot .gtitle").first.text_content()


def test_2d_page_slider_moves_the_plot(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/Guidance_in_2D", wait_until="networkidle")
    page.locator(".js-plotly-plot .gtitle").first.wait_for(timeout=120_000)
    before_title = _title_of_first_plot(page)
    before_x = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot')[0]._fullData[2].x).slice(0, 5)")
    assert "s = 3" in before_title  # the page opens where guidance visibly acts
    # the scale slider sits beside the figure, in the main area
    slider = page.locator('[data-testid="stMain"] input[type=range][aria-label="Guidance scale s"]')
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => { const t = document.querySelector('.js-plotly-plot .gtitle');"
                           " return t && t.textContent.includes('s = 4'); }", timeout=120_000)
    page.wait_for_timeout(500)
    after_x = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot')[0]._fullData[2].x).slice(0, 5)")
    assert len(before_x) == 5 and after_x != before_x
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "guidance_2d_after_slider.png"), full_page=True)
    page.close()


def test_image_page_atlas_slider_redraws_without_a_button(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    from cgd.atlas import DEFAULT_SCALES
    from cgd.models import recommended_scale

    rec = recommended_scale("mnist", "cg-ddim")  # where the slider opens
    below = DEFAULT_SCALES["cg-ddim"][DEFAULT_SCALES["cg-ddim"].index(rec) - 1]  # one atlas value down
    page.goto(f"{server}/Image_generation", wait_until="networkidle")
    page.get_by_text(f"8 samples at s = {rec:g}", exact=False).first.wait_for(timeout=120_000)
    first = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
    slider = page.locator('[data-testid="stSidebar"] input[type=range][aria-label="Guidance scale s"]')
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.get_by_text(f"8 samples at s = {below:g}", exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="stImage"] img').first.get_attribute("src") != first
    assert page.get_by_role("button", name="Generate").count() == 0
    page.close()


def test_image_page_class_box_names_the_new_datasets_classes(server, browser):
    """After switching MNIST -> Fashion-MNIST the Class box shows "0: T-shirt/top", not MNIST's "0" (Streamlit does
    not redraw a kept widget's shown value when only its format_func changes)."""
    from cgd.models import available_datasets

    if "fashion-mnist" not in available_datasets():
        pytest.skip("no shipped Fashion-MNIST models")
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(f"{server}/Image_generation", wait_until="networkidle")
    sidebar = page.locator('[data-testid="stSidebar"]')
    classes = sidebar.locator('[data-testid="stSelectbox"]:has-text("Class")').first
    classes.wait_for(timeout=120_000)
    shown = classes.locator("input")  # the box shows the chosen option as its input's value
    assert shown.input_value() == "0"
    sidebar.locator('[data-testid="stSelectbox"]:has-text("Dataset")').first.click()
    page.get_by_role("option", name="fashion-mnist").first.click()
    page.get_by_text("on fashion-mnist", exact=False).first.wait_for(timeout=120_000)
    _settled(page)
    assert shown.input_value() == "0: T-shirt/top"
    page.close()


def _settled(page) -> None:
    page.locator('[data-testid="stApp"]').wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    page.wait_for_timeout(1000)


def test_navigation_names_home_and_lists_the_lesson_second(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/Scale_explorer", wait_until="networkidle")  # a first visit to a page other than Home
    _settled(page)
    links = [t.strip().splitlines()[-1] for t in
             page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').all_inner_texts()]  # icon, label
    assert links[:2] == ["Home", "Lesson (10 minutes)"] and "app" not in links, links
    page.close()


def test_lesson_steps_through_every_step(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/Lesson", wait_until="networkidle")
    from ui.lesson import STEPS

    for k in range(1, len(STEPS) + 1):
        _settled(page)
        page.get_by_text(f"Step {k} of {len(STEPS)}").wait_for(timeout=120_000)
        assert page.locator('[data-testid="stException"]').count() == 0, k
        assert page.get_by_text("Question for the class.").count() == 1, k
        assert page.locator(".js-plotly-plot").count() + page.locator('[data-testid="stImage"]').count() > 0, k
        page.screenshot(path=str(SHOTS / f"lesson_step{k}.png"))
        if k < len(STEPS):
            page.get_by_role("button", name="Next →").click()
    page.close()


def test_screenshot_every_page(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in PAGES.items():
        page = browser.new_page(viewport={"width": 1400, "height": 2200})
        page.goto(f"{server}/{path}", wait_until="networkidle")
        _settled(page)
        assert page.locator('[data-testid="stException"]').count() == 0, name
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        page.close()
    assert len(list(SHOTS.glob("*.png"))) >= len(PAGES)
