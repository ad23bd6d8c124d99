"""`python -m cgd.train` on a tiny dataset written here: trains, resumes, exports weights-only."""

import json
from pathlib import Path

import numpy as np
import torch

from cgd.checkpoint import load_model
from cgd.data import save_splits
from cgd.train import main


def _tiny_mnist(root):
    rng = np.random.default_rng(0)
    save_splits("mnist", {"train": (rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
                                    rng.integers(0, 10, 64).astype(np.uint8))}, root)


def test_train_each_model_and_export(tmp_path):
    _tiny_mnist(tmp_path)
    for model, kind in (("diffusion", "unet"), ("classifier", "classifier"), ("judge", "judge")):
        out = tmp_path / f"{kind}.safetensors"
        assert main([model, "--data-root", str(tmp_path), "--steps", "3", "--batch", "4", "--channels", "16",
                     "--ckpt-every", "2", "--out", str(out)]) == 0
        net = load_model(out, kind)
        assert not net.training
        record = json.loads(out.with_suffix(".json").read_text())
        assert record["kind"] == kind and len(record["loss_every_50"]) == 1


def test_resume_continues_at_the_same_step(tmp_path, capsys):
    _tiny_mnist(tmp_path)
    common = ["diffusion", "--data-root", str(tmp_path), "--batch", "4", "--channels", "16", "--ckpt-every", "2"]
    full = tmp_path / "full.safetensors"
    assert main(common + ["--steps", "4", "--out", str(full)]) == 0
    part = tmp_path / "part.safetensors"
    assert main(common + ["--steps", "2", "--out", str(part)]) == 0
    assert main(common + ["--steps", "4", "--out", str(part), "--resume"]) == 0
    a, b = load_model(full, "unet"), load_model(part, "unet")
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), k


def test_missing_data_is_one_line(tmp_path, capsys):
    assert main(["judge", "--data-root", str(tmp_path), "--steps", "1", "--out", str(tmp_path / "j.safetensors")]) == 2
    assert "python -m cgd.data fetch mnist" in capsys.readouterr().err


def test_torchrun_two_gloo_ranks_end_with_identical_weights(tmp_path):
    """DDP on the CPU: `torchrun --nproc-per-node=2 -m cgd.train ...` with the gloo backend."""
    import os
    import subprocess
    import sys

    _tiny_mnist(tmp_path)
    out = tmp_path / "judge.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           "-m", "cgd.train", "judge", "--data-root", str(tmp_path), "--steps", "4", "--batch", "4",
           "--ckpt-every", "2", "--device", "cpu", "--out", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode == 1 and "SIGABRT" in proc.stderr:  # a rank aborted in gloo: seen once, in a full suite
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)  # 2026-12-07; a real bug fails twice
    # on failure: the lines that say why a rank died (an abort's reason comes before torchrun's summary), then the end
    why = [line for line in proc.stderr.splitlines() if any(w in line for w in ("terminate", "what()", "Error", "error:"))]
    assert proc.returncode == 0, "\n".join(why[:20]) + "\n...\n" + proc.stderr[-1500:]
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["world_size"] == 2
    a, b = record["rank_weight_sha256"]
    assert a == b
    # the ranks drew different batches: the run differs from a single-process run on the same seed
    single = tmp_path / "single.safetensors"
    assert main(["judge", "--data-root", str(tmp_path), "--steps", "4", "--batch", "4", "--ckpt-every", "2",
                 "--device", "cpu", "--out", str(single)]) == 0
    assert json.loads(single.with_suffix(".json").read_text())["rank_weight_sha256"][0] != a
    load_model(out, "judge")


def test_learned_variance_trains_with_the_hybrid_loss_and_samples(tmp_path):
    from cgd.models import load_image_models, sample_images
    from cgd.pipeline import SampleRequest

    _tiny_mnist(tmp_path)
    out = tmp_path / "mnist" / "unet.safetensors"
    assert main(["diffusion", "--data-root", str(tmp_path), "--steps", "3", "--batch", "4", "--channels", "16",
                 "--learn-sigma", "--device", "cpu", "--out", str(out)]) == 0
    net = load_model(out, "unet")
    assert net.cfg.learn_sigma
    models = load_image_models("mnist", root=tmp_path, need=("unet",))
    x = sample_images(models, SampleRequest(method="cond", label=1, steps=3, n=2, variance="learned"))
    assert x.shape == (2, 1, 28, 28) and torch.isfinite(x).all()


def test_init_snapshots_and_schedule_options(tmp_path, capsys):
    _tiny_mnist(tmp_path)
    base = ["diffusion", "--data-root", str(tmp_path), "--batch", "4", "--channels", "16", "--ckpt-every", "2"]
    first = tmp_path / "first.safetensors"
    assert main(base + ["--steps", "2", "--out", str(first)]) == 0
    out = tmp_path / "second.safetensors"
    assert main(base + ["--steps", "4", "--init", str(first), "--warmup", "2", "--decay", "cosine",
                        "--snapshot-every", "2", "--p-uncond", "0.2", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.glob("unet_step*.safetensors")) == ["unet_step000002.safetensors",
                                                                            "unet_step000004.safetensors"]
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["train_config"]["decay"] == "cosine" and record["p_uncond"] == 0.2 and record["batch"] == 4
    wide = tmp_path / "wide.safetensors"
    assert main(base + ["--steps", "1", "--channels", "32", "--init", str(first), "--out", str(wide)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error:") and "--init" in err[-1] and not wide.exists()
