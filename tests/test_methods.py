"""The method registry (cgd.methods) is the one place a method is defined, and a request is valid once built."""

import ast
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from cgd import methods as registry
from cgd.errors import InputError
from cgd.pipeline import SAMPLER_VERSIONS, SAMPLERS, SampleRequest, by_scale
from cgd.toy.mixture import load_mixture
from cgd.toy.sampling import toy_sample

ROOT = Path(__file__).resolve().parents[1]
MIX = load_mixture("three_blobs")


def test_every_entry_is_complete():
    colors = [m.color for m in registry.REGISTRY]
    assert len(set(colors)) == len(colors)  # one colour per method
    assert len(set(registry.NAMES)) == len(registry.NAMES)
    for m in registry.REGISTRY:
        assert m.label and m.short and m.equation and m.citation and m.zero_means and m.about, m.name
        assert m.knob in ("s", "w", "λ", None) and m.version >= 1 and SAMPLER_VERSIONS[m.name] == m.version
        assert m.default_sampler in m.samplers and set(m.samplers) <= set(SAMPLERS), m.name
        assert m.anchor is None or m.anchor in registry.NAMES
        assert (m.tilt is None) == bool(m.no_tilt) or not m.guided, m.name  # a k, or the reason there is none
        assert set(m.needs) <= {"classifier", "weak"}
        assert m.axis_k is None or m.tilt is None, m.name  # a place on the charts' k axis only without a k
        assert not m.mean_shift or (m.samplers == ("ddpm",) and "classifier" in m.needs), m.name


def test_tilt_exponents():
    k = registry.tilt_exponent
    assert k("cg-ddpm", 3.0) == 3.0 and k("cg-ddim", 2.5) == 2.5 and k("cond+cg", 2.0) == 3.0 and k("cfg", 2.0) == 3.0
    assert k("uncond", 5.0) == 0.0 and k("cond", 5.0) == 1.0
    for name in ("autoguidance", "apg", "cfg++", "cfg-zero-star"):
        with pytest.raises(InputError) as e:
            k(name, 1.0)
        assert "\n" not in str(e.value) and registry.held_against(name, 1.0) == 1.0
    assert registry.scale_symbol("cfg") == "w" and registry.scale_symbol("cg-ddpm") == "s"
    assert registry.scale_symbol("cfg++") == "λ"
    assert registry.get("autoguidance").axis_exponent(2.0) == 3.0 == registry.get("cfg").axis_exponent(2.0)
    assert [m.name for m in registry.REGISTRY if m.mean_shift] == ["cg-ddpm", "cond+cg"]


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_method_runs_on_the_toy_on_each_of_its_samplers(name):
    m = registry.get(name)
    for sampler in m.samplers:
        x = toy_sample(MIX, SampleRequest(method=name, label=1, scale=min(1.0, m.max_scale), steps=6, n=30, seed=0,
                                          sampler=sampler))
        assert x.shape == (30, 2) and torch.isfinite(x).all(), (name, sampler)


@pytest.mark.parametrize("name", [m.name for m in registry.REGISTRY if m.anchor is not None])
def test_scale_zero_is_the_anchor(name):
    """What the registry says scale 0 is: the same samples as its anchor model (same seed and sampler)."""
    m = registry.get(name)
    anchor = registry.get(m.anchor)
    a = toy_sample(MIX, SampleRequest(method=name, label=2, scale=0.0, steps=12, n=100, seed=4))
    b = toy_sample(MIX, SampleRequest(method=anchor.name, label=None if not anchor.needs_label else 2, scale=0.0,
                                      steps=12, n=100, seed=4, sampler=m.default_sampler))
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_a_request_is_valid_when_built_and_carries_a_tuple_of_scales():
    r = SampleRequest(method="cfg", label=1, scale=2.0, steps=10, n=5)
    assert r.scales == (2.0,) and r.scale == 2.0
    v = r.validated(3, 1000)
    assert v.sampler == "ddpm" and v.scales == r.scales and v.validated(3, 1000) is v  # nothing to fill: itself
    many = r.at_scales((0.0, 1.5))
    assert many.scales == (0.0, 1.5)
    x = torch.arange(10.0)
    parts = by_scale(x, many)
    assert list(parts) == [0.0, 1.5] and parts[1.5].tolist() == [5.0, 6.0, 7.0, 8.0, 9.0]
    one = by_scale(x[:5], r)
    assert list(one) == [2.0] and torch.equal(one[2.0], x[:5])
    for bad in (dict(scale=-1.0), dict(steps=0), dict(n=0), dict(label=-1), dict(label=None), dict(seed=-1),
                dict(x0_mode="soft"), dict(variance="huge"), dict(sampler="euler")):
        with pytest.raises(InputError):
            SampleRequest(**{"method": "cfg", "label": 1, "scale": 1.0, **bad})
    with pytest.raises(InputError, match="outside 0..2"):
        SampleRequest(method="cfg", label=3, scale=1.0).validated(3, 1000)
    assert replace(r, scale=0.5).scales == (0.5,)


def test_options_are_checked_and_defaulted():
    r = SampleRequest(method="apg", label=0, scale=1.0, options={"r": "4", "eta": 0.5})
    assert r.options == (("eta", 0.5), ("r", 4.0)) and r.option("momentum") == 0.0
    assert SampleRequest(method="apg", label=0, scale=1.0).option("r") == float("inf")
    assert SampleRequest(method="cfg-zero-star", label=0, scale=1.0).option("zero_init_steps") == 1


def _spelled_names(path: Path) -> set:
    """Method names that a module's code spells as string literals (docstrings and comments aside)."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys if k is not None}  # record fields
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs | keys and n.value in registry.NAMES}


def test_the_measuring_and_sampling_modules_spell_no_method_name():
    """The CLIs, the atlas, the measuring code, the models, the results and the pages' 2D and records helpers read
    the registry."""
    mine = ["cgd/pipeline.py", "cgd/models.py", "cgd/evaluate.py", "cgd/quality.py", "cgd/measure.py",
            "cgd/results.py", "cgd/report.py", "cgd/sample.py", "cgd/atlas/__init__.py",
            "cgd/atlas/__main__.py", "cgd/toy/__main__.py", "cgd/toy/sampling.py", "cgd/toy/zoo.py",
            "cgd/guidance.py", "cgd/samplers.py", "ui/zoo.py", "ui/toy.py", "ui/records.py"]
    spelled = {p: _spelled_names(ROOT / p) for p in mine}
    assert not any(spelled.values()), {p: s for p, s in spelled.items() if s}


# the Lesson's content (its steps' requests and words), and two benches that sweep methods by name
SPELLERS = {"ui/lesson.py", "bench/load.py", "bench/speckle.py"}


def test_outside_the_registry_and_tests_at_most_four_files_spell_a_method_name():
    """Issue #27: every page, ui/ module, engine module, CLI, bench and docs script reads the registry (menus,
    cg_on, unconditional, contrasts), but for the few files named in SPELLERS; adding a method is one entry."""
    files = [p for d in ("cgd", "ui", "pages", "bench", "docs") for p in sorted((ROOT / d).rglob("*.py"))]
    files += [ROOT / "app.py"]
    spelled = {str(p.relative_to(ROOT)) for p in files if p.name != "methods.py" or p.parent.name != "cgd"
               if _spelled_names(p)}
    assert spelled <= SPELLERS and len(SPELLERS) <= 4, sorted(spelled - SPELLERS)
    assert len(files) > 60  # the walk found the project
