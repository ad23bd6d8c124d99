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


def test_home_page_lists_the_image_models(tmp_path, monkeypatch, tiny_root):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("Image models: **mnist**" in m.value for m in at.markdown)
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert any("none found" in m.value for m in at.markdown)


def test_streamlit_config_is_hardened_for_classrooms():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["maxUploadSize"] <= 1
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] == "none"
