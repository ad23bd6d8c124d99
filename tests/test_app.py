"""Headless runs of the Streamlit pages (AppTest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_home_page_runs_and_shows_the_equations():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "Classifier Guidance Lab" in at.title[0].value
    assert len(at.latex) >= 4
    assert any("Device" in m.value for m in at.markdown)
