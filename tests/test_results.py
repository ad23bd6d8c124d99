"""Shipped results: loading, sweeps with their scale-0 anchors, the paper's table, the report."""

import json

from cgd.report import main as report_main
from cgd.results import PAPER_TABLE, load_records, paper_analogue, sweep


def rec(method, scale, fid, n=100):
    return {"dataset": "mnist", "method": method, "scale": scale, "n": n, "steps": 25, "fid": fid,
            "inception_score": 5.0, "precision": 0.5, "recall": 0.5, "judge_accuracy": 0.9, "classifier_accuracy": 0.9}


def test_sweeps_take_their_anchor_as_scale_zero_and_the_largest_n(tmp_path):
    recs = [rec("uncond", 0.0, 30.0), rec("cond", 0.0, 10.0), rec("cg-ddpm", 1.0, 25.0), rec("cg-ddpm", 10.0, 12.0),
            rec("cg-ddpm", 10.0, 11.0, n=1000), rec("cfg", 2.0, 8.0)]
    (tmp_path / "a.json").write_text(json.dumps({"records": recs}))
    (tmp_path / "broken.json").write_text("{not json")
    records = load_records(tmp_path)
    assert len(records) == 6
    cg = sweep(records, "mnist", "cg-ddpm")
    assert [(r["scale"], r["fid"]) for r in cg] == [(0.0, 30.0), (1.0, 25.0), (10.0, 11.0)]
    assert [r["fid"] for r in sweep(records, "mnist", "cfg")] == [10.0, 8.0]
    rows = paper_analogue(records, "mnist")
    assert len(rows) == len(PAPER_TABLE) == 6
    assert [r["our FID"] for r in rows] == [30.0, 25.0, 11.0, 10.0, None, None]
    assert rows[2]["paper FID"] == 12.00 and rows[4]["paper FID"] == 4.59


def test_report_writes_plots_and_tables(tmp_path, capsys):
    (tmp_path / "r.json").write_text(json.dumps({"records": [rec("uncond", 0.0, 30.0), rec("cg-ddpm", 1.0, 25.0),
                                                             rec("cg-ddpm", 4.0, 20.0)]}))
    assert report_main(["--results", str(tmp_path), "--out", str(tmp_path / "docs")]) == 0
    out = capsys.readouterr().out
    assert "| cg-ddpm | 4 | 100 | 20.00 |" in out and (tmp_path / "docs" / "results_mnist.png").stat().st_size > 0


def test_records_of_an_older_sampler_version_stay_out_of_the_sweeps():
    from cgd.pipeline import SAMPLER_VERSIONS
    from cgd.results import current, sweep

    old = {"dataset": "mnist", "method": "cg-ddim", "scale": 4.0, "n": 500, "fid": 3.4}  # before versions: 1
    new = dict(old, sampler_version=SAMPLER_VERSIONS["cg-ddim"], fid=2.9)
    assert SAMPLER_VERSIONS["cg-ddim"] > 1 and not current(old) and current(new)
    assert [r["fid"] for r in sweep([old], "mnist", "cg-ddim")] == []
    assert [r["fid"] for r in sweep([old, new], "mnist", "cg-ddim")] == [2.9]
    cfg = {"dataset": "mnist", "method": "cfg", "scale": 2.0, "n": 500, "fid": 3.1}  # cfg is still version 1
    assert [r["fid"] for r in sweep([cfg], "mnist", "cfg")] == [3.1]


def test_choose_scale_takes_the_best_fid_among_the_scales_that_read_as_the_class():
    from cgd.results import choose_scale

    def r(scale, fid, acc):
        return dict(rec("cg-ddpm", scale, fid), judge_accuracy=acc)

    recs = [dict(rec("uncond", 0.0, 0.5), judge_accuracy=0.1),  # the anchor (scale 0) is never chosen
            r(1.0, 4.0, 0.60), r(2.0, 1.0, 0.96), r(4.0, 2.0, 0.975), r(10.0, 1.5, 0.99), r(16.0, 3.0, 1.0)]
    assert choose_scale(recs, "mnist", "cg-ddpm")["scale"] == 10.0  # s = 2 has the best FID but reads 96%
    assert choose_scale(recs, "mnist", "cg-ddpm", floor=0.95)["scale"] == 2.0
    assert choose_scale(recs, "mnist", "cg-ddpm", floor=0.999)["scale"] == 16.0
    assert choose_scale(recs, "mnist", "cg-ddpm", floor=1.01) is None
    assert choose_scale(recs, "mnist", "cfg") is None


def test_the_recommended_scales_follow_the_rule_on_the_shipped_records():
    """cgd.models.RECOMMENDED_SCALE is what choose_scale picks from results/DATASET_sweep.json, for every dataset
    whose scales were chosen by the rule; the Fashion-MNIST floor is its judge's measured test accuracy."""
    import pytest

    from cgd.models import RECOMMENDED_SCALE, quality_record
    from cgd.results import JUDGE_FLOOR, choose_scale

    records = load_records()
    if not any(r.get("dataset") == "mnist" for r in records):
        pytest.skip("no shipped records")
    for dataset in ("mnist", "fashion-mnist"):
        for method, scale in RECOMMENDED_SCALE[dataset].items():
            if method in ("uncond", "cond"):
                continue
            chosen = choose_scale(records, dataset, method)
            assert chosen is not None and chosen["scale"] == scale, (dataset, method)
    q = quality_record("fashion-mnist")
    if q:
        assert JUDGE_FLOOR["fashion-mnist"] == round(q["judge_test_accuracy"], 4)
