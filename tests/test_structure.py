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
