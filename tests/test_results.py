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
