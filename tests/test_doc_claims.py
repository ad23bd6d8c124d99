"""The numbers README.md, docs/results.md and the Home page state, recomputed at the settings they state.

Two kinds: numbers read off the records (results/, checkpoints/*/quality.json: cheap, exact to the printed digits)
and numbers of the exact 2D oracle (sampled here at the stated mixture, label, steps, n and seed; each within a few
percent of the printed value, and each quoted string checked to be in the text, so text and test move together).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cgd.pipeline import SampleRequest
from cgd.results import choose_scale, load_records, sweep
from cgd.stats import energy_distance
from cgd.toy.mixture import load_mixture, presets
from cgd.toy.oracle import exact_references, measure
from cgd.toy.sampling import toy_sample
from cgd.toy.views import far_component, nearest_component, sampler_sweep

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
RESULTS = (ROOT / "docs" / "results.md").read_text()
DATASETS = ("mnist", "fashion-mnist")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _mean_sd(values) -> tuple:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1))


# -- tables and numbers read off the records ------------------------------------------------------------------------
def _tables(text: str) -> list:
    out, cur = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cur.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif cur:
            out.append(cur)
            cur = []
    return out


def _section(name: str) -> str:
    """docs/results.md's part on one dataset."""
    fashion = RESULTS.index("## Fashion-MNIST")
    return RESULTS[:fashion] if name == "mnist" else RESULTS[fashion:RESULTS.index("## The 2D oracle")]


@functools.lru_cache(maxsize=1)
def _records() -> list:
    return load_records(ROOT / "results")


COLUMNS = (("FID", "fid", 2), ("IS", "inception_score", 2), ("precision", "precision", 3), ("recall", "recall", 3),
           ("judge acc.", "judge_accuracy", 3), ("classifier acc.", "classifier_accuracy", 3))


@pytest.mark.parametrize("dataset", DATASETS)
def test_the_sweep_and_spread_tables_are_the_records(dataset):
    sweep_rows = spread_rows = 0
    spread = json.loads((ROOT / "results" / "spread" / f"{dataset}_seeds.json").read_text())["records"]
    for table in _tables(_section(dataset)):
        head = table[0]
        if head[:3] != ["method", "scale", "n"]:
            continue
        for row in table[2:]:
            cells = dict(zip(head, row))
            method, scale = row[0], float(row[1])
            seed0 = [r for r in sweep(_records(), dataset, method) if float(r["scale"]) == scale]
            assert seed0, row
            if "seeds" in head:  # mean ± sd over seed 0 of the sweep and seeds 1, 2 of the spread records
                runs = seed0[:1] + [r for r in spread if r["method"] == method and float(r["scale"]) == scale]
                assert len(runs) == int(cells["seeds"]), row
                for col, key, _ in COLUMNS:
                    if col in cells:
                        mean, sd = _mean_sd([r[key] for r in runs])
                        assert cells[col] == f"{mean:.3f} ± {sd:.3f}", (row, col)
                spread_rows += 1
            else:
                for col, key, digits in COLUMNS:
                    if col in cells:
                        assert cells[col] == f"{seed0[0][key]:.{digits}f}", (row, col)
                sweep_rows += 1
    assert sweep_rows >= 20 and spread_rows >= 5


@pytest.mark.parametrize("dataset, start", [("mnist", "`checkpoints/mnist/`: U-Net"),
                                            ("fashion-mnist", "`checkpoints/fashion-mnist/`:")])
def test_the_readmes_quality_tables_are_quality_json(dataset, start):
    q = json.loads((ROOT / "checkpoints" / dataset / "quality.json").read_text())
    guided = {g["method"]: g for g in q["guided"]}
    table = _tables(README[README.index(start):])[0]
    judge_col = next(c for c in table[0] if c.startswith("judge:"))
    for row in table[2:]:
        cells = dict(zip(table[0], row))
        name = row[0].split(" ")[0]
        r = guided.get(name) or {"uncond": q["uncond"], "500": q["real_train"]}[name]
        assert cells["judge-FID"] == f"{r['fid']:.2f}", row
        assert cells["precision"] == f"{r['precision']:.3f}" and cells["recall"] == f"{r['recall']:.3f}", row
        if cells[judge_col][0].isdigit():
            assert cells[judge_col] == f"{100 * r['judge_accuracy']:.1f}%", row


def _real_spread(dataset: str) -> dict:
    return json.loads((ROOT / "results" / "spread" / f"{dataset}_real_n500.json").read_text())


@pytest.mark.parametrize("dataset, fid_text", [("mnist", "0.80 ± 0.39 (0.36–1.95)"),
                                               ("fashion-mnist", "0.56 ± 0.26 (0.26–1.28)")])
def test_real_images_at_n500_are_one_draw_of_a_noisy_biased_measure(dataset, fid_text):
    """The docs' spread of judge-FID over 20 draws of 500 real images, and that seed 0 is quality.json's row."""
    rec = _real_spread(dataset)
    fids = [r["fid"] for r in rec["real"]]
    mean, sd = _mean_sd(fids)
    assert len(fids) == 20 and f"{mean:.2f} ± {sd:.2f} ({min(fids):.2f}–{max(fids):.2f})" == fid_text
    assert fid_text in RESULTS and fid_text.split(" (")[0] in README
    q = json.loads((ROOT / "checkpoints" / dataset / "quality.json").read_text())
    assert rec["real"][0]["seed"] == 0 and rec["real"][0]["fid"] == q["real_train"]["fid"]
    assert mean > 2 * sd / np.sqrt(len(fids))  # biased upward: real images against real images do not score 0


def test_the_conditional_models_fid_by_seed_and_where_real_images_score():
    """MNIST: the conditional model scores 0.78 / 1.06 / 0.44 by seed, inside the real images' spread; Fashion-MNIST:
    the conditional model and autoguidance (seed 0) score below the real-image draw of seed 0 and below the mean."""
    spread = json.loads((ROOT / "results" / "spread" / "mnist_seeds.json").read_text())["records"]
    cond = [sweep(_records(), "mnist", "cond")[0]["fid"]] + [r["fid"] for r in sorted(
        (r for r in spread if r["method"] == "cond"), key=lambda r: r["seed"])]
    assert [f"{f:.2f}" for f in cond] == ["0.78", "1.06", "0.44"]
    assert "0.78, 1.06 and 0.44 on seeds 0, 1 and 2" in README + RESULTS
    real = [r["fid"] for r in _real_spread("mnist")["real"]]
    assert min(real) < min(cond) and max(cond) < max(real)
    q = json.loads((ROOT / "checkpoints" / "fashion-mnist" / "quality.json").read_text())
    fm_real = [r["fid"] for r in _real_spread("fashion-mnist")["real"]]
    guided = {g["method"]: g for g in q["guided"]}
    for method in ("cond", "autoguidance"):
        assert guided[method]["fid"] < q["real_train"]["fid"] and guided[method]["fid"] < np.mean(fm_real)


@pytest.mark.parametrize("dataset", DATASETS)
def test_guidance_reads_as_the_class_and_costs_recall_but_autoguidance_is_the_exception(dataset):
    """README's first paragraph: at the largest swept scale of every classifier-guided method and of CFG the judge
    reads the asked class more often and recall is lower than unguided."""
    for method in ("cg-ddpm", "cg-ddim", "cfg", "cond+cg"):
        pts = sweep(_records(), dataset, method)
        first, last = pts[0], pts[-1]
        assert first["scale"] == 0 and last["scale"] > 0
        assert last["judge_accuracy"] > first["judge_accuracy"] and last["recall"] < first["recall"], method
    auto = sweep(_records(), dataset, "autoguidance")
    assert auto[-1]["recall"] > auto[0]["recall"] or auto[-1]["judge_accuracy"] < auto[0]["judge_accuracy"]


def test_autoguidance_on_images_is_not_sharper():
    """docs/results.md: on MNIST precision stays 0.880-0.894 against the conditional model's 0.888, recall rises to
    0.934-0.956, FID 0.78 -> 1.08 (w = 2) -> 1.33 (w = 3), rising at every w; on Fashion-MNIST (seed 0) precision
    falls at every w, 0.942 -> 0.890, and the judge's class share 90.6% -> 82.4%."""
    mn = {float(r["scale"]): r for r in sweep(_records(), "mnist", "autoguidance")}
    guided = [mn[w] for w in sorted(mn) if w > 0]
    assert f"{min(r['precision'] for r in guided):.3f}–{max(r['precision'] for r in guided):.3f}" == "0.880–0.894"
    assert f"{mn[0.0]['precision']:.3f}" == "0.888"
    assert f"{min(r['recall'] for r in guided):.3f}–{max(r['recall'] for r in guided):.3f}" == "0.934–0.956"
    assert all(r["recall"] > mn[0.0]["recall"] for r in guided)
    fids = [mn[w]["fid"] for w in sorted(mn)]
    assert all(b > a for a, b in zip(fids, fids[1:]))
    assert (f"{mn[0.0]['fid']:.2f}", f"{mn[2.0]['fid']:.2f}", f"{mn[3.0]['fid']:.2f}") == ("0.78", "1.08", "1.33")
    assert "0.880–0.894" in RESULTS and "FID worsens from 0.78 to 1.08 at w = 2 and 1.33 at w = 3" in RESULTS
    fm = {float(r["scale"]): r for r in sweep(_records(), "fashion-mnist", "autoguidance")}
    prec = [fm[w]["precision"] for w in sorted(fm)]
    assert all(b < a for a, b in zip(prec, prec[1:]))
    assert ", ".join(f"{p:.3f}" for p in prec[1:]) == "0.934, 0.922, 0.906, 0.890" and f"{prec[0]:.3f}" == "0.942"
    assert (f"{fm[0.0]['judge_accuracy']:.1%}", f"{fm[3.0]['judge_accuracy']:.1%}") == ("90.6%", "82.4%")


# -- the exact 2D oracle --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _mixture(name: str):
    return load_mixture(presets()[name])


@functools.lru_cache(maxsize=None)
def _references(name: str, label: int, k: float, n: int, seed: int) -> tuple:
    # exact_references draws from the request's label, n, seed and tilt; a CG request with scale k stands for any k
    return exact_references(_mixture(name), SampleRequest(method="cg-ddpm", label=label, scale=k, n=n, seed=seed))


def _measure(name: str, method: str, scale: float, steps: int, *, label: int = 0, n: int = 4000, seed: int = 0):
    from cgd.pipeline import tilt_exponent

    req = SampleRequest(method=method, label=label, scale=scale, steps=steps, n=n, seed=seed)
    return measure(_mixture(name), req, references=_references(name, label, tilt_exponent(method, scale), n, seed))


# docs/results.md, "The 2D oracle: what guidance samples" (1000 steps, n = 4000, seed 0, y = 0):
# (mixture, method, scale, D² to p(x|y), D² to p(x)p(y|x)^k, noise floor), each as printed
ORACLE_TABLE = [
    ("overlapping", "cg-ddpm", 0.0, "0.182", "0.00077", "0.00083"),
    ("overlapping", "cg-ddpm", 1.0, "0.00087", "0.00075", "0.00073"),
    ("overlapping", "cg-ddpm", 3.0, "0.154", "0.0205", "0.00066"),
    ("overlapping", "cg-ddim", 3.0, "0.270", "0.0775", "0.00066"),
    ("overlapping", "cfg", 0.0, "0.00065", "0.00061", "0.00073"),
    ("overlapping", "cfg", 2.0, "0.159", "0.0223", "0.00066"),
    ("near_and_far", "cg-ddpm", 3.0, "0.435", "0.336", "0.00042"),
    ("near_and_far", "cg-ddim", 3.0, "0.829", "0.695", "0.00042"),
    ("near_and_far", "cfg", 2.0, "0.439", "0.340", "0.00042"),
]


def _close(value: float, printed: str, rel: float = 0.05) -> bool:
    return abs(value - float(printed)) <= rel * float(printed) + 0.5 * 10 ** -len(printed.split(".")[1])


def test_the_oracle_table_and_what_it_says_at_k_0_1_and_3():
    """At 1000 steps, k = 0 and k = 1 are at the noise floor; k = 3 is 31x to 1700x above it (README, Home, docs)."""
    ratios = []
    for name, method, scale, to_cond, to_tilted, floor in ORACLE_TABLE:
        m = _measure(name, method, scale, 1000)
        knob = "w" if method == "cfg" else "s"
        assert f"| {name} | {method} | {knob} = {scale:g} | {m.exponent:g} | {to_cond} | {to_tilted} | {floor} |" \
            in RESULTS
        assert _close(m.to_conditional, to_cond) and _close(m.to_tilted, to_tilted) and _close(m.noise_floor, floor)
        if m.exponent in (0.0, 1.0):
            assert m.to_tilted < 1.5 * m.noise_floor, (name, method, scale)
        else:
            ratios.append(m.to_tilted / m.noise_floor)
    assert 29 <= min(ratios) <= 33 and 1550 <= max(ratios) <= 1850
    assert "31× (overlapping,\ncg-ddpm) to 1700× (near_and_far, cg-ddim)" in RESULTS
    from ui.home import WARNING
    assert "31× to 1700×" in WARNING


def test_k1_is_exact_only_with_fine_steps():
    """CG-DDPM at s = 1 on overlapping: 0.0029 from p(x|y) at 100 steps (4x the floor), 0.0255 at 25 (35x); the
    unguided sampler at 25 steps is 0.0080 from p(x), 10x its floor (docs/results.md; Home's warning box)."""
    from ui.home import WARNING

    m100, m25 = _measure("overlapping", "cg-ddpm", 1.0, 100), _measure("overlapping", "cg-ddpm", 1.0, 25)
    unguided = _measure("overlapping", "cg-ddpm", 0.0, 25)
    assert _close(m100.to_conditional, "0.0029") and round(m100.to_conditional / m100.noise_floor) == 4
    assert _close(m25.to_conditional, "0.0255") and round(m25.to_conditional / m25.noise_floor) == 35
    assert _close(unguided.to_tilted, "0.0080") and round(unguided.to_tilted / unguided.noise_floor) == 10
    assert "0.0029 from p(x|y) at 100 steps (4× the floor) and 0.0255 at 25 steps (35×)" in RESULTS
    assert "0.0080 from p(x), 10× its floor of 0.00083" in RESULTS
    assert "lands 35× the noise floor away" in WARNING


def test_cg_and_cfg_share_a_score_field_not_a_discretisation():
    mix = _mixture("three_blobs")
    stated = {1000: ("0.0012", None, None), 100: ("0.021", "3.1e-05", "1.9e-04"), 25: ("0.32", "8.8e-04", "2.3e-04")}
    for steps, (max_diff, d2, d2_seeds) in stated.items():
        def run(method, scale, seed=0):
            return toy_sample(mix, SampleRequest(method=method, label=1, scale=scale, steps=steps, n=4000,
                                                 seed=seed)).double()
        cg, cfg = run("cg-ddpm", 3.0), run("cfg", 2.0)
        assert _close(float((cg - cfg).abs().max()), max_diff, rel=0.1), steps
        if d2 is not None:
            assert _close(energy_distance(cg, cfg), d2, rel=0.1)
            assert _close(energy_distance(cg, run("cg-ddpm", 3.0, seed=1)), d2_seeds, rel=0.1)
    assert ("at 1000 steps the samples differ by at most 0.0012; at 100 steps by at most 0.021, D²\n3.1·10⁻⁵ against "
            "1.9·10⁻⁴ between two seeds of cg-ddpm; at 25 steps, what every image record uses, by up to 0.32,\nD² "
            "8.8·10⁻⁴ against 2.3·10⁻⁴ between two seeds") in RESULTS


def test_ddim_is_guided_more_at_25_steps_by_the_steps_form():
    """docs/results.md, "DDIM and DDPM at the same scale": share of class 0 on overlapping, 25 steps, n = 4000."""
    mix = _mixture("overlapping")
    stated = {("cg-ddpm", 0.0): "0.720 / 0.879 / 0.983", ("cg-ddim", 0.0): "0.833 / 0.982 / 1.000",
              ("cg-ddim", 1.0): "0.849 / 0.982 / 1.000"}
    for (method, eta), text in stated.items():
        shares = []
        for s in (1.0, 2.0, 4.0):
            x = toy_sample(mix, SampleRequest(method=method, label=0, scale=s, steps=25, n=4000, seed=0, eta=eta))
            shares.append(float((mix.class_log_joint(x.double(), 1.0).argmax(1) == 0).double().mean()))
        assert " / ".join(f"{v:.3f}" for v in shares) == text, (method, eta)
        assert text in RESULTS


def test_ddpm_and_ddim_part_ways_at_s_3_and_why():
    """near_and_far, y = 0, s = 3, n = 4000: far share DDPM 0.835, DDIM 0.930, the eps form with eta = 1 0.855 at 100
    steps; 0.836, 0.927, 0.838 at 1000: most of the gap is the sampler's noise (docs/results.md)."""
    mix = _mixture("near_and_far")
    far = far_component(mix, 0)
    stated = {100: {("cg-ddpm", 0.0): 0.835, ("cg-ddim", 0.0): 0.930, ("cg-ddim", 1.0): 0.855},
              1000: {("cg-ddpm", 0.0): 0.836, ("cg-ddim", 0.0): 0.927, ("cg-ddim", 1.0): 0.838}}
    for steps, want in stated.items():
        for (method, eta), share in want.items():
            x = toy_sample(mix, SampleRequest(method=method, label=0, scale=3.0, steps=steps, n=4000, seed=0, eta=eta))
            assert abs(float((nearest_component(mix, x.double()) == far).double().mean()) - share) < 0.0015
    assert "DDPM 0.835, DDIM 0.930" in RESULTS and "DDPM 0.836, ε form with η = 1 0.838, DDIM 0.927" in RESULTS


def test_the_samplers_far_share_table():
    """docs/results.md's DDPM/DDIM table (near_and_far, n = 1000, 100 steps, seed 0, the 2D page's sweep)."""
    mix = _mixture("near_and_far")
    pts = sampler_sweep(mix, SampleRequest(method="cg-ddpm", label=0, steps=100, n=1000, seed=0,
                                           scales=(0.0, 1.0, 2.0, 3.0, 5.0, 10.0)))
    rows = {"DDPM": [p.far_ddpm for p in pts], "DDIM": [p.far_ddim for p in pts],
            "exact p(x)p(y\\|x)^s": [p.far_tilted for p in pts]}
    for name, values in rows.items():
        assert f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |" in RESULTS, name


# docs/results.md, the guidance zoo "On MNIST" (bash docs/new_methods_mnist.sh; n = 500, 25 steps, seeds 0-2):
NEW_METHODS = {"APG": "apg", "CFG-Zero*": "cfg-zero-star", "CFG++": "cfg++", "CFG": "cfg",
               "conditional, unguided": "cond"}


@functools.lru_cache(maxsize=1)
def _mnist_pool() -> tuple:
    """The new methods' sweep and spread records and the shipped ones (read once)."""
    new = ROOT / "results" / "new_methods"
    return tuple(load_records(new) + load_records(new / "spread") + _records()
                 + load_records(ROOT / "results" / "spread"))


def _seeds(method: str, scale: float) -> list:
    """Seed 0 from the sweep, seeds 1 and 2 from the spread records, in seed order (n = 500, 25 DDIM steps)."""
    by_seed = {r["seed"]: r for r in _mnist_pool() if r["dataset"] == "mnist" and r["method"] == method
               and float(r["scale"]) == scale and r["n"] == 500 and r["steps"] == 25
               and r.get("sampler", "ddim") == "ddim"}
    assert sorted(by_seed) == [0, 1, 2], (method, scale, sorted(by_seed))
    return [by_seed[s] for s in (0, 1, 2)]


def test_the_new_methods_on_mnist_are_their_records_and_say_what_they_support():
    part = RESULTS[RESULTS.index("### On MNIST"):RESULTS.index("## Fewer steps")]
    new = load_records(ROOT / "results" / "new_methods")
    picked = {m: choose_scale(new, "mnist", m)["scale"] for m in ("apg", "cfg-zero-star", "cfg++")}
    assert picked == {"apg": 0.5, "cfg-zero-star": 0.5, "cfg++": 0.4}
    assert "The rule picks APG w = 0.5, CFG-Zero* w = 0.5 and CFG++ λ = 0.4" in part
    assert "its precision and recall within 0.015, at seed 0" in part
    swept = next(t for t in _tables(part) if t[0][-1] == "recall")
    for row in swept[2:]:
        method = NEW_METHODS[row[0].replace(" (for comparison)", "")]
        scales = [float(v) for v in row[1].split("=")[1].split("/")]
        recs = {r["scale"]: r for r in sweep(new + _records(), "mnist", method)}
        for col, key in ((2, "fid"), (3, "judge_accuracy"), (4, "precision"), (5, "recall")):
            got = [recs[s][key] for s in scales]
            want = ([f"{100 * v:.1f}".replace("100.0", "100") for v in got] if key == "judge_accuracy"
                    else [f"{v:.3f}" for v in got])
            assert [c.strip().rstrip("%") for c in row[col].split("/")] == want, (row, key)
    table = next(t for t in _tables(part) if t[0][-1] == "background speckle")
    runs = {}
    for row in table[2:]:
        cells = dict(zip(table[0], row))
        method = NEW_METHODS[row[0]]
        scale = 0.0 if row[1] == "—" else float(row[1].split("=")[1])
        runs[method] = rs = _seeds(method, scale)
        for col, key, pct in (("judge-FID", "fid", False), ("judge: asked digit", "judge_accuracy", True),
                              ("precision", "precision", False), ("recall", "recall", False)):
            mean, sd = _mean_sd([r[key] for r in rs])
            want = (f"{100 * mean:.1f}% ± {100 * sd:.1f}".replace("100.0%", "100%").replace("± 0.0", "± 0")
                    if pct else f"{mean:.3f} ± {sd:.3f}")
            assert cells[col] == want, (row, col)
        speck = [r["background_speckle"] for r in rs]
        assert cells["background speckle"] == f"{min(speck):.4f}–{max(speck):.4f}", row
    cfg, apg, zero, pp, cond = (runs[m] for m in ("cfg", "apg", "cfg-zero-star", "cfg++", "cond"))
    # APG with its defaults is CFG here: every swept w at seed 0, and w = 0.5 seed by seed
    for w in (0.5, 1.0, 2.0, 4.0):
        a = next(r for r in sweep(new, "mnist", "apg") if r["scale"] == w)
        c = next(r for r in sweep(_records(), "mnist", "cfg") if r["scale"] == w)
        assert abs(a["fid"] - c["fid"]) <= 0.02 and abs(a["precision"] - c["precision"]) <= 0.015
        assert abs(a["recall"] - c["recall"]) <= 0.015
    assert all(abs(a["fid"] - c["fid"]) <= 0.02 for a, c in zip(apg, cfg))
    # CFG-Zero* guides less than CFG at the same w: seed by seed, and between cond and CFG at every swept w
    assert all(z["fid"] < c["fid"] and z["recall"] > c["recall"] and z["precision"] < c["precision"]
               for z, c in zip(zero, cfg))
    cond0 = next(r for r in sweep(_records(), "mnist", "cond"))
    for z in sweep(new, "mnist", "cfg-zero-star"):
        c = next(r for r in sweep(_records(), "mnist", "cfg") if r["scale"] == z["scale"])
        assert cond0["fid"] < z["fid"] < c["fid"]
    # CFG++ against CFG: recall lower and background brighter on every seed
    assert all(p["recall"] < c["recall"] and p["background_speckle"] > c["background_speckle"]
               for p, c in zip(pp, cfg))
    # no guided row beats the unguided conditional model on judge-FID; each has higher precision, lower recall
    mean_cond = _mean_sd([r["fid"] for r in cond])[0]
    for rs in (cfg, apg, zero, pp):
        assert _mean_sd([r["fid"] for r in rs])[0] > mean_cond
        assert _mean_sd([r["precision"] for r in rs])[0] > _mean_sd([r["precision"] for r in cond])[0]
        assert _mean_sd([r["recall"] for r in rs])[0] < _mean_sd([r["recall"] for r in cond])[0]


def test_fk_smc_with_networks_tables_are_their_records_and_the_collapse_is_as_said():
    """docs/results.md, "Feynman–Kac weights with networks": the learned-2D and MNIST tables and their claims."""
    part = RESULTS[RESULTS.index("### Feynman–Kac weights with networks"):RESULTS.index("## The guidance zoo")]
    tables = _tables(part)
    learned = json.loads((ROOT / "results" / "smc" / "learned_2d.json").read_text())["records"]
    for row in tables[0][2:]:
        kind, method = row[1].split(", ")
        rs = {(r["smc"], r["seed"]): r for r in learned if r["mixture"] == row[0] and r["models"] == kind
              and r["method"] == {"CG": "cg-ddpm", "CFG": "cfg"}[method]}
        for col, smc in ((2, False), (3, True)):
            assert row[col] == " / ".join(f"{rs[(smc, s)]['over_floor']:.1f}" for s in (1, 2, 3)), row
        if row[4] != "–":
            assert row[4] == " / ".join(f"{rs[(True, s)]['far_share']:.3f}" for s in (1, 2, 3)), row
    mnist = json.loads((ROOT / "results" / "smc" / "mnist_fk.json").read_text())["records"]
    names = {"CG, s = 4": ("cg-ddpm", 4.0), "CFG, w = 0.5": ("cfg", 0.5)}
    for row in tables[1][2:]:
        method, scale = names[row[0]]
        smc = row[1] == "FK-SMC"
        rs = sorted((r for r in mnist if r["method"] == method and r["scale"] == scale and r["smc"] == smc
                     and r["n"] == 500 and r["steps"] == 25), key=lambda r: r["seed"])
        assert [r["seed"] for r in rs] == [0, 1, 2], row
        for col, key in ((2, "fid"), (4, "precision"), (5, "recall")):
            assert row[col] == "{:.3f} ± {:.3f}".format(*_mean_sd([r[key] for r in rs])), (row, key)
        assert row[3] == "{:.1f}% ± {:.1f}".format(*(100 * v for v in _mean_sd([r["judge_accuracy"] for r in rs])))
        if smc:
            assert row[6] == "{:.3f} ± {:.3f}".format(*_mean_sd([r["min_ess"] for r in rs])), row
            assert row[7] == "{:.1f} ± {:.1f} of 25".format(*_mean_sd([r["resampling_steps"] for r in rs])), row
            assert row[8] == "{:.3f} ± {:.3f}".format(*_mean_sd([r["ancestors"] for r in rs])), row
            assert all(r["ancestors"] <= 0.025 for r in rs)  # one starting particle per class of about 50
    smc = {(r["method"], r["seed"]): r for r in mnist if r["smc"]}
    plain = {(r["method"], r["seed"]): r for r in mnist if not r["smc"]}
    for seed in (0, 1, 2):
        cg, cfg = smc[("cg-ddpm", seed)], smc[("cfg", seed)]
        assert cg["judge_accuracy"] < plain[("cg-ddpm", seed)]["judge_accuracy"]  # on every seed
        low = [i + 1 for i, e in enumerate(cg["ess_by_step"]) if e < 0.05]
        assert low and 12 <= min(low) and max(low) <= 15 and 0.027 <= cg["min_ess"] <= 0.031 + 1e-9
        assert min(cfg["ess_by_step"][:-1]) >= 0.36 and cfg["ess_by_step"][-1] < 0.025
        assert cfg["resampled_by_step"][-1] == 10  # every class, at the last step
    assert "lowest ESS was 0.39–0.60" in part and "lowest 2.7–3.1%" in part and "0.36 or" in part
    assert 0.39 <= min(r["min_ess"] for r in learned if r["smc"] and r["models"] == "learned")
    assert max(r["min_ess"] for r in learned if r["smc"] and r["models"] == "learned") <= 0.605


def test_more_smc_moves_are_not_closer_as_the_docs_say():
    """docs/results.md, "More moves are not the fix": the 10-move records against the 3-move ones."""
    import statistics

    rows = [r for f in ("k3_moves10_s12.json", "k3_moves10_s3.json")
            for r in json.loads((ROOT / "results" / "smc" / f).read_text())["rows"]]
    assert len(rows) == 216 and {r["seed"] for r in rows} == {1, 2, 3}

    def ratios(how, random):
        return [r["ratio_to_floor"] for r in rows if r["sampler"] == how and r["mixture"].startswith("random") == random]

    assert f"{statistics.median(ratios('smc-exact', False)):.2f}" == f"{statistics.median(ratios('smc-fk', False)):.2f}" == "1.51"
    assert round(max(ratios("smc-exact", False)), 1) == 7.8 and round(max(ratios("smc-fk", False)), 1) == 6.1
    assert sum(v > 10 for v in ratios("smc-fk", True)) == 3 and round(max(ratios("smc-fk", True)), 1) == 15.7
    assert sum(v > 10 for v in ratios("smc-exact", True)) == 0 and round(max(ratios("smc-exact", True)), 1) == 9.8
    off = [r for r in rows if r["sampler"].startswith("smc") and r["ratio_to_floor"] > 5]
    assert off and all(r["resamples"] <= 1 for r in off) and sum(r["ancestors"] == 2000 for r in off) > len(off) / 2
    assert "More moves are not the fix" in RESULTS and "at most 15.7×; with 3 moves 1" in RESULTS


def test_tempered_smc_tables_are_their_records_and_the_prose_says_what_they_hold():
    """docs/results.md, "A tempered path meets the floor": both tables from results/smc/k3_tempered.json, the
    guided path's squeeze from results/smc/squeeze_random2.json, and every number of the prose."""
    import statistics

    part = RESULTS[RESULTS.index("**A tempered path meets the floor** (2026"):
                   RESULTS.index("Rejection sampling's acceptance rate against k")]
    flat = " ".join(part.split())
    rows = json.loads((ROOT / "results" / "smc" / "k3_tempered.json").read_text())["rows"]
    assert len(rows) == 216 and all(r["path"] == "tempered" for r in rows if r["sampler"].startswith("smc"))
    assert all("--smc-path tempered" in r["command"] for r in rows if r["sampler"].startswith("smc"))
    by = {(r["mixture"], r["label"], r["sampler"], r["seed"]): r for r in rows}
    cases, summary = _tables(part)
    for row in cases[2:]:
        name, label = row[0].rsplit(", ", 1)
        for col, how in ((1, "smc-exact"), (2, "smc-fk"), (3, "rejection")):
            assert row[col] == " / ".join(f"{by[(name, int(label), how, s)]['ratio_to_floor']:.1f}" for s in (1, 2, 3))
        if row[4] != "–":
            assert row[4] == " · ".join("/".join(f"{by[(name, int(label), how, s)]['far_share']:.3f}" for s in (1, 2, 3))
                                        for how in ("smc-exact", "smc-fk", "rejection"))
    assert len(cases) - 2 == len({(r["mixture"], r["label"]) for r in rows}) == 18

    def group(how, random):
        return [r for r in rows if r["sampler"] == how and r["mixture"].startswith("random") == random]

    names = {"SMC, exact weights": "smc-exact", "SMC, Feynman–Kac": "smc-fk", "rejection (exact)": "rejection"}
    for row in summary[2:]:
        who, where = row[0].split(", presets") if row[0].endswith("presets") else row[0].split(", random mixtures")
        g = group(names[who], row[0].endswith("random mixtures"))
        one = [r["ratio_to_floor"] for r in g]
        exp = [r["ratio_to_expected_floor"] for r in g]
        assert row[1] == str(len(g))
        assert row[2] == (f"{statistics.median(one):.2f} · {max(one):.1f} · {sum(v > 2 for v in one)} · "
                          f"{sum(v > 10 for v in one)}")
        assert row[3] == f"{statistics.median(exp):.2f} · {max(exp):.1f} · {sum(v > 2 for v in exp)}"
    # the prose
    smc = [r for r in rows if r["sampler"].startswith("smc")]
    rej = [r for r in rows if r["sampler"] == "rejection"]
    assert max(r["ratio_to_floor"] for r in smc) < 10
    assert f"at most {max(r['ratio_to_expected_floor'] for r in smc):.1f}× (exact samples: " \
           f"{max(r['ratio_to_expected_floor'] for r in rej):.1f}×)" in flat
    over = [sum(r["ratio_to_expected_floor"] > 2 for r in rows if r["sampler"] == h) for h in ("smc-exact", "smc-fk")]
    assert f"{over[0]} and {over[1]} runs of 54 above 2× (exact samples: " \
           f"{sum(r['ratio_to_expected_floor'] > 2 for r in rej)} of 54)" in flat
    one = [sum(r["ratio_to_floor"] > 2 for r in rows if r["sampler"] == h) for h in ("smc-exact", "smc-fk", "rejection")]
    assert f"{one[0]} (exact weights) and {one[1]} (FK) of 54 runs exceed it, and so do {one[2]} of 54" in flat
    gap = max(abs(by[("random-2", 1, h, s)]["far_share"] - by[("random-2", 1, "rejection", s)]["far_share"])
              for h in ("smc-exact", "smc-fk") for s in (1, 2, 3))
    assert f"within {gap:.3f} of rejection's on every seed" in flat
    old = {(r["sampler"], r["seed"]): r["far_share"] for r in json.loads(
        (ROOT / "results" / "smc" / "k3.json").read_text())["rows"] if r["mixture"] == "random-2" and r["label"] == 1}
    assert f"(guided path: up to {max(abs(old[(h, s)] - old[('rejection', s)]) for h in ('smc-exact', 'smc-fk') for s in (1, 2, 3)):.3f})" in flat
    assert all(r["resamples"] == 0 and r["ancestors"] == 2000 and 1 <= r["temper_levels"] <= 2 for r in smc)
    assert f"below {min(r['min_ess_share'] for r in group('smc-exact', False) + group('smc-exact', True)):.2f} of n" in flat
    assert f"or {min(r['min_ess_share'] for r in smc if r['sampler'] == 'smc-fk'):.2f} (FK)" in flat
    # the squeeze on the guided path
    sq = json.loads((ROOT / "results" / "smc" / "squeeze_random2.json").read_text())
    low = max(sq["rows"], key=lambda r: r["far_share_exact"])
    assert f"It holds {1 - low['far_share_exact']:.0%} of the mass at ᾱ = {low['alpha_bar']:.2f}" in flat
    assert f"and {1 - sq['rows'][-1]['far_share_exact']:.1%} at the data" in flat
    ends = sq["final_far_share"]
    assert f"far share at the end {ends['exact, seed 2']:.3f} and {ends['fk, seed 3']:.3f} against " \
           f"{sq['rows'][-1]['far_share_exact']:.3f}" in flat
    early = [abs(r[k]["far_share"] - r["far_share_exact"]) for r in sq["rows"] if r["i"] <= 180
             for k in ("exact, seed 2", "fk, seed 3")]
    assert f"to within {max(early):.3f} up to step 180" in flat
