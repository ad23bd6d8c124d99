"""The layering the design card fixes: pages talk only to ui/; the engine cgd/ imports neither streamlit nor plotly."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


def _imports(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_talk_only_to_ui(path):
    project = {n for n in _imports(path) if n.split(".")[0] in ("cgd", "ui")}
    assert project and all(n == "ui" or n.startswith("ui.") for n in project), project


def test_the_engine_imports_neither_streamlit_nor_plotly():
    code = ("import sys, pkgutil, importlib, cgd\n"
            "for m in pkgutil.walk_packages(cgd.__path__, 'cgd.'):\n"
            "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('streamlit', 'plotly'))\n"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    for path in (ROOT / "cgd").rglob("*.py"):
        assert not {n for n in _imports(path) if n.split(".")[0] in ("streamlit", "plotly")}, path


def test_the_2d_sliders_scale_reaches_guidance_in_six_calls_validated_once(monkeypatch):
    """Issue #27's scale walk: the page reads the slider's position once (ui.toy.slider_index), builds the chunk's
    request (validated there, once per scale) and calls ui.toy.guided_runs; from there to the function of
    cgd/guidance.py that receives the scale the walk is guided_runs -> ui.worker.run -> run_guided_scales ->
    guided_sample -> the registry's build -> guidance: six calls counting the page's. (The worker is off here, so
    the call the worker process makes is an ordinary one; ui/shared.py's cache wrapper is not counted.)"""
    import inspect

    from cgd import guidance, pipeline
    from cgd.pipeline import SampleRequest
    from ui import toy

    monkeypatch.setenv("CGD_WORKER", "0")
    checks = []
    real_check = pipeline.check_scale
    def counting_check(value, *, name, **kw):
        if name not in ("eta", "corrector size"):  # the request's other checked numbers
            checks.append(value)
        return real_check(value, name=name, **kw)

    monkeypatch.setattr(pipeline, "check_scale", counting_check)
    walks = []
    real_shift = guidance.make_mean_shift

    def shift(*args, **kwargs):
        where = [(Path(f.filename).resolve(), f.function) for f in inspect.stack()[1:]]
        walks.append([f"{p.relative_to(ROOT)}:{fn}" for p, fn in where if p.is_relative_to(ROOT)
                      and p.relative_to(ROOT).parts[0] in ("cgd", "ui") and p.name != "shared.py"])
        return real_shift(*args, **kwargs)

    monkeypatch.setattr("cgd.methods.make_mean_shift", shift)
    slot = toy.slider_index(2.3000000000000003)  # what the browser sends
    chunk = toy.slider_chunk(slot, 1000, "exact")
    request = SampleRequest(method="cg-ddpm", label=0, scales=chunk, steps=5, n=1000, seed=0)
    assert sorted(checks) == sorted(chunk)  # each scale checked once, where the request is built
    toy.guided_runs.clear()
    runs = toy.guided_runs(toy.preset_json("overlapping"), "exact", request, 5, 10)
    assert set(runs) == set(chunk) and toy.SLIDER[slot] in runs
    assert sorted(checks) == sorted(chunk)  # and never again on the way
    (walk,) = walks
    assert walk == ["cgd/methods.py:build", "cgd/pipeline.py:guided_sample", "cgd/toy/views.py:run_guided_scales",
                    "ui/worker.py:run", "ui/toy.py:guided_runs"], walk  # + the page's call and the guidance call: 6
