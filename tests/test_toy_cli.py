"""`python -m cgd.toy`: writes [n, 2] samples; bad input is one line on stderr and exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cgd.toy.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def test_cli_writes_samples_in_a_subprocess(tmp_path):
    out = tmp_path / "s.npy"
    r = subprocess.run([sys.executable, "-m", "cgd.toy", "sample", "--mixture", "three_blobs", "--label", "1",
                        "--scale", "2", "--method", "cg-ddpm", "--steps", "100", "--n", "500", "--seed", "3",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    x = np.load(out)
    assert x.shape == (500, 2) and x.dtype == np.float32 and np.isfinite(x).all()
    # class 1 of three_blobs sits at angle 210 degrees: most samples are in the lower left
    assert (x[:, 0] < 0).mean() > 0.9 and (x[:, 1] < 0).mean() > 0.9


def test_same_seed_same_samples_and_label_none(tmp_path):
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    args = ["sample", "--method", "cg-ddim", "--steps", "20", "--n", "64", "--seed", "5"]
    assert main(args + ["--out", str(a)]) == 0
    assert main(args + ["--out", str(b)]) == 0
    assert np.array_equal(np.load(a), np.load(b))
    assert main(args + ["--label", "none", "--out", str(c)]) == 0
    assert not np.array_equal(np.load(a), np.load(c))


def test_learned_model_option(tmp_path):
    out = tmp_path / "l.npy"
    assert main(["sample", "--model", "learned", "--train-steps", "200", "--method", "cfg", "--scale", "1",
                 "--steps", "20", "--n", "32", "--out", str(out)]) == 0
    assert np.load(out).shape == (32, 2)


def _bad_json(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{oops")
    return str(p)


def _not_pd(tmp_path):
    p = tmp_path / "notpd.json"
    p.write_text(json.dumps({"name": "x", "means": [[0, 0]], "covs": [[[1, 2], [2, 1]]], "weights": [1], "labels": [0]}))
    return str(p)


@pytest.mark.parametrize("extra,match", [
    (["--scale", "nan"], "finite"),
    (["--scale", "-1"], "between"),
    (["--scale", "1e6"], "between"),
    (["--label", "7"], "outside"),
    (["--label", "cat"], "number"),
    (["--steps", "0"], "steps"),
    (["--n", "0"], "n must"),
    (["--seed", "-1"], "seed"),
    (["--seed", str(2**64)], "seed"),
    (["--mixture", "nope"], "no preset"),
    (["--mixture", "BADJSON"], "not valid JSON"),
    (["--mixture", "NOTPD"], "positive definite"),
    (["--sampler", "heun"], "invalid choice"),
    (["--method", "cg-ddpm", "--sampler", "dpmpp-2m"], "mean-shift"),
    (["--method", "cfg", "--sampler", "dpmpp-2m", "--eta", "0.5"], "no eta"),
    (["--method", "cfg", "--sampler", "dpmpp-2m", "--corrector-steps", "2"], "no corrector"),
    (["--method", "cfg", "--sampler", "dpmpp-2m", "--steps", "0"], "steps"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, match):
    extra = [_bad_json(tmp_path) if e == "BADJSON" else _not_pd(tmp_path) if e == "NOTPD" else e for e in extra]
    try:
        code = main(["sample", "--steps", "5", "--n", "4", "--out", str(tmp_path / "o.npy")] + extra)
    except SystemExit as e:  # argparse's own refusals (bad choices) exit through the parser
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error:") and match in err, err
    assert not (tmp_path / "o.npy").exists()


def test_missing_output_folder(tmp_path, capsys):
    assert main(["sample", "--steps", "5", "--n", "4", "--out", str(tmp_path / "no" / "o.npy")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_newer_guidance_options_on_the_cli(tmp_path):
    base = ["sample", "--mixture", "near_and_far", "--label", "0", "--scale", "3", "--steps", "30", "--n", "200",
            "--seed", "1"]
    paths = {k: tmp_path / f"{k}.npy" for k in ("plain", "full", "empty", "uncond", "ag", "corr")}
    assert main(base + ["--out", str(paths["plain"])]) == 0
    assert main(base + ["--interval", "0", "999", "--out", str(paths["full"])]) == 0
    assert main(base + ["--interval", "999", "0", "--out", str(paths["empty"])]) == 0
    assert main(base + ["--method", "uncond", "--out", str(paths["uncond"])]) == 0
    assert np.array_equal(np.load(paths["plain"]), np.load(paths["full"]))
    assert np.array_equal(np.load(paths["empty"]), np.load(paths["uncond"]))
    assert main(base + ["--method", "autoguidance", "--weak-inflate", "1.5", "--out", str(paths["ag"])]) == 0
    assert main(base + ["--corrector-steps", "2", "--corrector-size", "0.5", "--out", str(paths["corr"])]) == 0
    assert not np.array_equal(np.load(paths["corr"]), np.load(paths["plain"]))


@pytest.mark.parametrize("extra, message", [(["--interval", "0", "1000"], "interval"),
                                            (["--interval", "a", "3"], "interval"),
                                            (["--corrector-steps", "-1"], "corrector"),
                                            (["--corrector-size", "0"], "corrector size"),
                                            (["--method", "autoguidance", "--weak-inflate", "0"], "inflation")])
def test_bad_newer_options_are_one_line(tmp_path, capsys, extra, message):
    code = main(["sample", "--steps", "10", "--n", "10", "--out", str(tmp_path / "x.npy")] + extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_measure_prints_distances_and_shares(capsys):
    assert main(["measure", "--mixture", "near_and_far", "--method", "cfg", "--scale", "0,2", "--steps", "50",
                 "--n", "500"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["exponent"] for r in rows] == [1.0, 3.0]
    assert rows[0]["to_tilted"] < 5 * rows[0]["noise_floor"] and rows[1]["to_tilted"] > 20 * rows[1]["noise_floor"]
    assert rows[1]["far_share"] > rows[0]["far_share"] + 0.2


def test_rejection_sampling_on_the_cli_reports_its_acceptance_rate(tmp_path, capsys):
    out = tmp_path / "r.npy"
    assert main(["sample", "--method", "rejection", "--mixture", "tilted_pair", "--label", "2", "--scale", "3",
                 "--n", "300", "--seed", "1", "--out", str(out)]) == 0
    x = np.load(out)
    assert x.shape == (300, 2) and np.isfinite(x).all()
    assert (np.linalg.norm(x - np.array([1.2, -1.2]), axis=1) < 1.5).mean() > 0.95  # class 2 is one blob there
    line = capsys.readouterr().out
    rate = float(line.split("acceptance rate ")[1].split()[0])
    assert 0.07 < rate < 0.13  # Z_3 = 0.099: class 2 holds 10% of p(x)


@pytest.mark.parametrize("argv, message", [
    (["sample", "--method", "rejection", "--scale", "-1"], "k >= 0"),
    (["sample", "--method", "rejection", "--label", "none"], "give --label"),
    (["measure", "--smc", "--method", "cg-ddim"], "--smc supports"),
    (["measure", "--smc", "--method", "autoguidance"], "--smc supports"),
    (["measure", "--smc", "--n", "50"], "at least 100 particles"),
    (["measure", "--smc", "--rejection"], "choose one"),
])
def test_bad_smc_and_rejection_input_is_one_line(tmp_path, capsys, argv, message):
    extra = ["--out", str(tmp_path / "o.npy")] if argv[0] == "sample" else ["--steps", "10", "--scale", "2"]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err


def test_measure_smc_prints_the_floor_and_the_lineages(capsys):
    assert main(["measure", "--mixture", "near_and_far", "--method", "cg-ddpm", "--scale", "3", "--steps", "20",
                 "--n", "200", "--smc", "--smc-weights", "fk"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["smc_weights"] == "fk" and row["to_tilted"] > 0 and row["noise_floor"] > 0
    assert 1 <= row["ancestors"] <= 200 and row["smc_path"] == "tempered" and row["temper_levels"] >= 1
    # FK: 3 evaluations a MALA move (1 + the line integral's 2); 3 moves a step, 10 a tempering step, 10 at the end
    assert row["score_evals_per_sample"] == 1 + 20 + 3 * (3 * 20 + 10 * row["temper_levels"] + 10)
    assert main(["measure", "--mixture", "near_and_far", "--method", "cg-ddpm", "--scale", "3", "--steps", "20",
                 "--n", "200", "--smc", "--smc-path", "guided", "--smc-weights", "fk"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["smc_path"] == "guided" and row["temper_levels"] == 0
    assert row["score_evals_per_sample"] == 1 + 20 + 3 * (3 * 20 + 10)
