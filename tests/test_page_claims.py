"""The sentences of the 2D, Scale explorer, Image and Fidelity pages and Lesson step 7 that state a number, an
equality, an ordering or a trend, checked at the settings the page shows (issue #25, section B).

2D claims run on the exact oracle (cgd/toy): its score and p_t(y|x) are exact, so what differs from the exact
density is the sampler's. Record claims are read off results/ with the spread over seeds of results/spread/.
"""

import re
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# -- Lesson step 7 and the Fidelity page: the records, with their spread over seeds -------------------------
def _mnist_records():
    from cgd.results import RESULTS_DIR, load_records, sweep

    recs = load_records()
    if not any(r.get("dataset") == "mnist" for r in recs):
        pytest.skip("no shipped MNIST records")
    curves = {m: {r["scale"]: r for r in sweep(recs, "mnist", m)} for m in ("uncond", "cond", "cg-ddpm", "cfg",
                                                                             "cond+cg")}
    seeds = {}
    for r in recs + load_records(RESULTS_DIR / "spread"):
        if r.get("dataset") == "mnist" and r.get("n") == 500 and r.get("steps") == 25:
            seeds.setdefault((r["method"], float(r["scale"])), {})[r.get("seed")] = r
    spread = {key: {m: statistics.stdev([r[m] for r in by_seed.values()]) for m in ("fid", "precision", "recall")}
              for key, by_seed in seeds.items() if len(by_seed) >= 3}
    return curves, seeds, spread


def test_lesson_fidelity_notice_numbers_are_the_records_and_clear_twice_the_seed_spread():
    from ui.lesson import FIDELITY_NOTICE, STEPS

    assert STEPS[6].notice == FIDELITY_NOTICE
    c, seeds, spread = _mnist_records()
    widest = {m: max(sd[m] for sd in spread.values()) for m in ("fid", "precision", "recall")}  # the margin: 2x this
    cfg, cc, cg, uncond, cond = c["cfg"], c["cond+cg"], c["cg-ddpm"], c["uncond"][0.0], c["cond"][0.0]
    # "Every curve ends to the left of where it starts": the largest scale's recall is below scale 0's
    for curve in (cfg, cc, cg):
        assert curve[max(curve)]["recall"] < curve[0.0]["recall"] - 2 * widest["recall"]
    said = {"CFG's recall falls from 0.906 at w = 0": cfg[0.0]["recall"], "to 0.636 at w = 4": cfg[4.0]["recall"],
            "conditional + CG's to 0.638 at s = 10": cc[10.0]["recall"],
            "from 0.774 unguided": uncond["precision"], "to 0.910 at s = 10": cg[10.0]["precision"],
            "the conditional model starts at 0.888": cond["precision"]}
    for words, value in said.items():
        assert words in FIDELITY_NOTICE and f"{value:.3f}" in words, words
    assert cg[10.0]["precision"] - uncond["precision"] > 2 * widest["precision"]  # "rises clearly"
    # "guidance raises it by at most 0.058, less than twice its spread over seeds (± 0.030)"
    gain = max(r["precision"] for curve in (cfg, cc) for r in curve.values()) - cond["precision"]
    sd_cond = spread[("cond", 0.0)]["precision"]
    assert f"at most {gain:.3f}" in FIDELITY_NOTICE and f"(± {sd_cond:.3f})" in FIDELITY_NOTICE
    assert gain < 2 * sd_cond
    # "At s = 1 the unconditional model is worse than unguided (FID 4.42 against 2.36, ± 0.35 over seeds)"
    sd_uncond = spread[("uncond", 0.0)]["fid"]
    assert f"FID {cg[1.0]['fid']:.2f} against {uncond['fid']:.2f}, ± {sd_uncond:.2f}" in FIDELITY_NOTICE
    assert cg[1.0]["fid"] - uncond["fid"] > 2 * sd_uncond


def test_lesson_fidelity_step_shows_the_seeds_it_speaks_of():
    """"The hollow circles are the same settings with other seeds": the trade-off chart draws them."""
    from ui import lesson

    made = lesson.fidelity()
    if made is None:
        pytest.skip("no shipped MNIST records")
    pr, fid = made
    hollow = [t for t in pr.data if t.marker.symbol == "circle-open"]
    assert len(hollow) >= 6 and pr.layout.xaxis.title.text.startswith("recall")
    assert pr.layout.yaxis.title.text.startswith("precision")
    assert fid.layout.xaxis.title.text.startswith("tilt exponent k")
    labels = {t for tr in pr.data if tr.text for t in tr.text if t}
    assert {"s=1", "s=10", "w=0.5", "w=4"} <= labels and not any(re.match(r"[sw]=0$", t) for t in labels)
