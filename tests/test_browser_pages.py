"""Issue #25's browser acceptance for the 2D, Fidelity, Image and Scale explorer pages and Lesson step 7.

Debian's chromium through playwright against `streamlit run app.py` (the server of tests/test_browser.py).
Saves screenshots at 1400x900, as on a projector, and the 2D page at 150% browser zoom (a 933x600 CSS-pixel
viewport) to artifacts/screenshots/. Skipped where chromium or playwright is missing (as test_browser is).
"""

from test_browser import SHOTS, _settled, browser, server  # noqa: F401 - the fixtures, shared

PROJECTOR = {"width": 1400, "height": 900}
ZOOM_150 = {"width": 933, "height": 600}  # 1400x900 at 150% browser zoom, in CSS pixels


def _open(browser, server, path: str, viewport=PROJECTOR):  # noqa: F811 - the fixtures' names
    page = browser.new_page(viewport=viewport)
    page.goto(f"{server}/{path}", wait_until="networkidle")
    _settled(page)
    # every chart drawn (Streamlit mounts plotly lazily)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= "
                           "document.querySelectorAll('[data-testid=stPlotlyChart]').length", timeout=120_000)
    page.wait_for_timeout(800)
    assert page.locator('[data-testid="stException"]').count() == 0, path
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _axis_titles(page) -> list:
    """``[(x title, y title), ...]`` of every drawn plotly chart."""
    return page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => "
                         "[(p.layout.xaxis.title || {}).text || '', (p.layout.yaxis.title || {}).text || ''])")


def _has_precision_recall_chart(page) -> bool:
    return any("recall" in x.lower() and "precision" in y.lower() for x, y in _axis_titles(page))


def _first_title(page) -> str:
    return page.locator(".js-plotly-plot .gtitle").first.text_content()


def test_2d_page_switching_cg_ddpm_at_s3_to_cfg_shows_w2(server, browser):  # noqa: F811
    page = _open(browser, server, "Guidance_in_2D")
    assert "s = 3" in _first_title(page)  # opens at CG-DDPM s = 3, where guidance visibly acts
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('input[type=range][aria-label="Guidance scale s"]').count() == 1  # beside the figure
    _shot(page, "guidance_2d_1400x900")
    page.locator('[data-testid="stSidebar"] label:has-text("CFG (w)")').click()
    page.wait_for_function("() => { const t = document.querySelector('.js-plotly-plot .gtitle');"
                           " return t && t.textContent.includes('w = 2'); }", timeout=120_000)
    _settled(page)
    slider = main.locator('input[type=range][aria-label="Guidance scale w"]')
    assert slider.get_attribute("aria-valuetext") in ("2", "2.0", "2.00")
    assert page.get_by_text("CG-DDPM at s = 3 → CFG at w = 2: the same tilt exponent k = 3").count() == 1
    _shot(page, "guidance_2d_cfg_after_switch")
    page.close()
    zoomed = _open(browser, server, "Guidance_in_2D", ZOOM_150)
    _shot(zoomed, "guidance_2d_zoom150")
    zoomed.close()


def test_fidelity_page_has_a_precision_recall_chart(server, browser):  # noqa: F811
    page = _open(browser, server, "Fidelity_vs_diversity")
    assert _has_precision_recall_chart(page), _axis_titles(page)
    xs = [x for x, _ in _axis_titles(page)]
    assert not any(x.startswith("guidance scale") for x in xs)  # s and w never on one axis: k instead
    _shot(page, "fidelity_vs_diversity_1400x900")
    page.close()


def test_lesson_fidelity_step_has_a_precision_recall_chart(server, browser):  # noqa: F811
    from ui.lesson import STEPS

    step = next(k for k, s in enumerate(STEPS, 1) if s.figure == "fidelity")
    page = _open(browser, server, f"Lesson?step={step}")
    page.get_by_text(f"Step {step} of {len(STEPS)}").wait_for(timeout=60_000)
    assert _has_precision_recall_chart(page), _axis_titles(page)
    _shot(page, f"lesson_step{step}_fidelity_1400x900")
    page.close()


def test_image_page_strips_label_every_frame(server, browser):  # noqa: F811
    page = _open(browser, server, "Image_generation")
    imgs = page.locator('[data-testid="stImage"] img')
    widths = [imgs.nth(k).bounding_box()["width"] for k in range(imgs.count())]
    captions = page.locator('[data-testid="stImageCaption"]').all_inner_texts()
    scale_caps = [c for c in captions if c.startswith("s = ")]
    step_caps = [c for c in captions if c.startswith("step ")]
    assert len(scale_caps) >= 20 and len(step_caps) >= 10, captions
    assert min(widths) >= 56, widths
    titles = _axis_titles(page)
    assert any(x.startswith("guidance scale s") for x, _ in titles)
    _shot(page, "image_generation_1400x900")
    page.close()


def test_scale_explorer_shows_no_raw_tex_in_labels(server, browser):  # noqa: F811
    page = _open(browser, server, "Scale_explorer")
    labels = page.locator('[data-testid="stWidgetLabel"]').all_inner_texts()
    assert labels and not any("_{" in t or "\\" in t or "$" in t for t in labels), labels
    _shot(page, "scale_explorer_1400x900")
    page.close()


def test_dpm_solver_is_offered_on_the_2d_and_image_pages(server, browser):  # noqa: F811
    """Issue #26: DPM-Solver++(2M) chosen from the Sampler radio samples on both pages and says so."""
    page = _open(browser, server, "Guidance_in_2D")
    side = page.locator('[data-testid="stSidebar"]')
    side.locator('label:has-text("CG-DDIM")').click()
    _settled(page)
    side.locator('label:has-text("DPM-Solver++(2M)")').click()
    page.wait_for_function("() => { const t = document.querySelector('.js-plotly-plot .gtitle');"
                           " return t && t.textContent.includes('DPM-Solver++(2M)'); }", timeout=120_000)
    _settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    _shot(page, "guidance_2d_dpm_solver")
    page.close()
    page = _open(browser, server, "Image_generation")
    side = page.locator('[data-testid="stSidebar"]')
    side.locator('label:has-text("Live sampling")').click()
    _settled(page)
    side.locator('label:has-text("DPM-Solver++(2M)")').click()
    _settled(page)
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("steps of DPM-Solver++(2M)").first.wait_for(timeout=120_000)
    _settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stImage"] img').count() >= 1
    _shot(page, "image_generation_dpm_solver")
    page.close()
