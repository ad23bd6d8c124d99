"""The evaluation CLI on tiny models: records, determinism, resume, bad input."""

import json

import numpy as np
import pytest
import torch

from cgd.evaluate import Reference, draw_labels, judge_outputs, load_reference, main, save_reference
from cgd.models import load_image_models


@pytest.fixture()
def root(tiny_root, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    models = load_image_models("mnist", need=("unet", "judge"))
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    feats, probs = judge_outputs(models.judge, x)
    assert feats.shape == (64, 32) and np.allclose(probs.sum(1), 1)
    ref = Reference(feats.mean(0), np.cov(feats, rowvar=False), feats.astype(np.float32), 64)
    save_reference(ref, tiny_root / "mnist" / "reference.npz")
    return tiny_root


def test_reference_round_trip(root):
    ref = load_reference(root / "mnist" / "reference.npz")
    assert ref.n == 64 and ref.features.shape == (64, 32) and ref.sigma.shape == (32, 32)


def test_records_have_every_field_and_are_deterministic(root, tmp_path, capsys):
    args = ["--dataset", "mnist", "--methods", "cg-ddpm,cfg", "--scales", "0,2", "--n", "12", "--steps", "3",
            "--batch", "5", "--seed", "1"]
    assert main(args + ["--out", str(tmp_path / "a.json")]) == 0
    recs = json.loads((tmp_path / "a.json").read_text())["records"]
    assert [(r["method"], r["scale"]) for r in recs] == [("cg-ddpm", 0.0), ("cg-ddpm", 2.0), ("cfg", 0.0), ("cfg", 2.0)]
    keys = {"dataset", "method", "scale", "n", "steps", "fid", "inception_score", "precision", "recall",
            "judge_accuracy", "classifier_accuracy"}
    for r in recs:
        assert keys <= set(r) and r["n"] == 12 and np.isfinite(r["fid"]) and 1 <= r["inception_score"] <= 10
        assert 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
    assert main(args + ["--out", str(tmp_path / "b.json")]) == 0
    again = json.loads((tmp_path / "b.json").read_text())["records"]
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    assert strip(again) == strip(recs)
    # resume: nothing left to do, the file keeps its four records
    assert main(args + ["--out", str(tmp_path / "a.json")]) == 0
    assert len(json.loads((tmp_path / "a.json").read_text())["records"]) == 4


def test_labels_are_uniform_and_seeded():
    y = draw_labels(10_000, 10, 0)
    counts = torch.bincount(y, minlength=10).double() / 10_000
    assert (counts - 0.1).abs().max() < 0.015
    assert torch.equal(y, draw_labels(10_000, 10, 0)) and not torch.equal(y, draw_labels(10_000, 10, 1))


@pytest.mark.parametrize("extra, message", [
    (["--methods", "magic"], "unknown method"), (["--scales", "nan"], "finite"), (["--n", "0"], "n must"),
    (["--steps", "0"], "steps"), (["--scales", ""], "comma-separated"),
    (["--methods", "cg-ddpm", "--sampler", "dpmpp-2m"], "mean-shift"),
])
def test_bad_input_is_one_line(root, tmp_path, capsys, extra, message):
    assert main(["--dataset", "mnist", "--out", str(tmp_path / "x.json")] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_missing_reference_says_how_to_make_it(tiny_root, tmp_path, monkeypatch, capsys):
    import shutil

    shutil.copytree(tiny_root / "mnist", tmp_path / "mnist")
    (tmp_path / "mnist" / "reference.npz").unlink(missing_ok=True)
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path))
    assert main(["--dataset", "mnist", "--n", "8", "--steps", "2", "--out", str(tmp_path / "r.json")]) == 2
    assert "--make-reference" in capsys.readouterr().err


def test_autoguidance_with_the_model_as_its_own_weak_model_is_the_conditional_model(root, tmp_path, capsys):
    # eps_weak + (1 + w)(eps - eps_weak) = eps when the two models are one: the same images, so the same record
    weak = root / "mnist" / "unet.safetensors"
    args = ["--dataset", "mnist", "--scales", "2", "--n", "12", "--steps", "3", "--batch", "6", "--seed", "1",
            "--out", str(tmp_path / "ag.json")]
    assert main(args + ["--methods", "cond,autoguidance", "--weak", str(weak)]) == 0
    cond, ag = json.loads((tmp_path / "ag.json").read_text())["records"]
    assert ag["method"] == "autoguidance" and ag["weak"].startswith("unet.safetensors@") and ag["scale"] == 2.0
    for key in ("fid", "precision", "recall", "judge_accuracy", "background_speckle"):
        assert ag[key] == cond[key], key
    # no weak model shipped and none given: one line that says how to give one
    capsys.readouterr()
    assert main(args + ["--methods", "autoguidance"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--weak" in err


def test_records_name_their_unet_and_a_new_unet_is_measured_again(root, tmp_path):
    import hashlib

    args = ["--dataset", "mnist", "--methods", "cond", "--scales", "0", "--n", "8", "--steps", "2",
            "--out", str(tmp_path / "u.json")]
    assert main(args) == 0
    (rec,) = json.loads((tmp_path / "u.json").read_text())["records"]
    sha = hashlib.sha256((root / "mnist" / "unet.safetensors").read_bytes()).hexdigest()
    assert rec["unet"] == f"unet.safetensors@{sha[:12]}"
    # a record of another U-Net (what the file holds after the shipped U-Net is replaced) is not today's
    (tmp_path / "u.json").write_text(json.dumps({"records": [dict(rec, unet="unet.safetensors@000000000000")]}))
    assert main(args) == 0
    recs = json.loads((tmp_path / "u.json").read_text())["records"]
    assert [r["unet"] for r in recs] == ["unet.safetensors@000000000000", rec["unet"]]


def test_judge_class_shares_count_what_the_judge_reads(root):
    """measure_images' class shares are the judge's argmax histogram of exactly the images measured."""
    from cgd.evaluate import measure_images

    models = load_image_models("mnist", need=("unet", "judge"))
    ref = load_reference(root / "mnist" / "reference.npz")
    x = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(3)) * 2 - 1
    _, probs = judge_outputs(models.judge, x)
    want = np.bincount(probs.argmax(1), minlength=10) / 40
    rec = measure_images(models, ref, x, torch.zeros(40, dtype=torch.long), seed=0)
    assert np.allclose(rec["judge_class_shares"], want, atol=1e-4) and len(rec["judge_class_shares"]) == 10
    # the judge's accuracy on label 0 is the share it reads as 0
    assert abs(rec["judge_accuracy"] - want[0]) < 1e-4


def test_unet_option_measures_the_given_unet_and_names_it(root, tmp_path):
    """--unet PATH (a training snapshot) is what is sampled: its records name that file, and they are the
    records of the shipped U-Net when PATH holds the same weights under another name."""
    import shutil

    from cgd.checkpoint import load_model, save_model

    other = load_model(root / "mnist" / "unet.safetensors", "unet")
    with torch.no_grad():  # eps_hat = +3 everywhere: x0_hat far below -1, every sample clipped to black
        other.out[-1].weight.zero_()
        other.out[-1].bias.fill_(3.0)
    snap = tmp_path / "unet_step000100.safetensors"
    save_model(other, snap, "unet")
    same = tmp_path / "unet_copy.safetensors"
    shutil.copy(root / "mnist" / "unet.safetensors", same)
    args = ["--dataset", "mnist", "--methods", "uncond", "--scales", "0", "--n", "8", "--steps", "2"]
    for name, unet in (("shipped", None), ("snap", snap), ("same", same)):
        assert main(args + ["--out", str(tmp_path / f"{name}.json")] + (["--unet", str(unet)] if unet else [])) == 0
    rec = {name: json.loads((tmp_path / f"{name}.json").read_text())["records"][0] for name in ("shipped", "snap", "same")}
    assert rec["snap"]["unet"].startswith("unet_step000100.safetensors@")
    metrics = lambda r: (r["fid"], r["precision"], r["recall"])  # noqa: E731
    # all-black samples are further from the reference (a random judge's features) than the shipped net's
    assert rec["snap"]["fid"] > rec["shipped"]["fid"] and rec["snap"]["recall"] < rec["shipped"]["recall"]
    assert metrics(rec["same"]) == metrics(rec["shipped"]) and rec["same"]["unet"].startswith("unet_copy.safetensors@")
    assert rec["same"]["unet"].split("@")[1] == rec["shipped"]["unet"].split("@")[1]


def test_an_unknown_sampler_is_one_line(root, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--dataset", "mnist", "--out", str(tmp_path / "x.json"), "--sampler", "heun"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1 and "invalid choice: 'heun'" in err


def test_a_sampler_is_recorded_and_measured_apart(root, tmp_path):
    """--sampler dpmpp-2m: another record beside the method's own sampler's, named by it."""
    out = tmp_path / "s.json"
    args = ["--dataset", "mnist", "--methods", "cg-ddim", "--scales", "2", "--n", "8", "--steps", "3", "--batch", "8",
            "--out", str(out)]
    assert main(args) == 0 and main(args + ["--sampler", "dpmpp-2m"]) == 0
    assert main(args + ["--sampler", "dpmpp-2m"]) == 0  # resumed: nothing new
    recs = json.loads(out.read_text())["records"]
    assert [r.get("sampler") for r in recs] == [None, "dpmpp-2m"]
