"""Quality measurement: classifier accuracy against t on a case with a known answer, and the CLI."""

import hashlib
import json

import numpy as np
import torch

from cgd.data import load_dataset, save_splits
from cgd.quality import classifier_accuracy_by_t, main
from cgd.schedule import make_schedule


def brightness_data(root, n=300):
    """Class k: a constant image of brightness k/9 (uint8), so the class is the image's mean."""
    y = np.arange(n) % 10
    x = np.broadcast_to((y * 255 // 9).astype(np.uint8)[:, None, None], (n, 28, 28)).copy()  # stored [N, H, W]
    save_splits("mnist", {"train": (x, y), "test": (x, y)}, root)
    return load_dataset("mnist", "test", root)


class MeanReader(torch.nn.Module):
    """Reads the class off the mean of x_t rescaled by sqrt(alpha_bar_t): perfect at t = 0."""

    def __init__(self, schedule):
        super().__init__()
        self.register_buffer("ab", schedule.alpha_bar.float())
        self.centers = torch.tensor([(k * 255 // 9) / 127.5 - 1 for k in range(10)])

    def forward(self, x_t, t):
        m = x_t.mean(dim=(1, 2, 3)) / self.ab[t].sqrt()
        return -(m[:, None] - self.centers[None]) ** 2


def test_accuracy_is_perfect_without_noise_and_chance_at_t_max(tmp_path):
    data = brightness_data(tmp_path)
    sched = make_schedule("linear", 1000)
    acc = classifier_accuracy_by_t(MeanReader(sched), data, sched, [0, 999], n=2000)
    assert acc[0] == 1.0
    assert abs(acc[1] - 0.1) < 0.04


def test_quality_cli_writes_the_record(tiny_root, tmp_path, monkeypatch, capsys):
    import shutil

    shutil.copytree(tiny_root / "mnist", tmp_path / "ck" / "mnist")
    (tmp_path / "ck" / "mnist" / "reference.npz").unlink(missing_ok=True)
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path / "ck"))
    brightness_data(tmp_path / "data")
    assert main(["--dataset", "mnist", "--n", "8", "--steps", "2", "--classifier-n", "20", "--data-root", str(tmp_path / "data")]) == 0
    q = json.loads((tmp_path / "ck" / "mnist" / "quality.json").read_text())
    assert len(q["classifier_accuracy_by_t"]["accuracy"]) == 21
    assert set(q["classifier_accuracy_by_t"]["by_quarter"]) == {"0-249", "250-499", "500-749", "750-999"}
    assert [g["method"] for g in q["guided"]] == ["cg-ddim", "cfg", "cg-ddpm", "cond+cg", "cond"]
    assert q["uncond"]["method"] == "uncond" and q["uncond"]["n"] == 8
    assert q["real_train"]["n"] == 8 and q["real_train"]["judge_accuracy"] >= 0 and "fid" in q["real_train"]
    sha = hashlib.sha256((tmp_path / "ck" / "mnist" / "unet.safetensors").read_bytes()).hexdigest()
    assert q["models"] == {"unet": f"unet.safetensors@{sha[:12]}"}
    assert all(g["unet"] == q["models"]["unet"] for g in q["guided"] + [q["uncond"]])
    assert all(0 <= g["background_speckle"] <= 1 for g in q["guided"]) and 0 <= q["background_speckle_real"] <= 1
    assert len(q["judge_test_accuracy_by_class"]) == 10
    confusion = np.array(q["judge_test_confusion"])  # row c: how the judge reads the 30 test images of class c
    assert confusion.shape == (10, 10) and (confusion.sum(1) == 30).all()
    assert np.allclose(q["judge_test_accuracy_by_class"], np.round(np.diag(confusion) / 30, 4))
    assert abs(np.trace(confusion) / 300 - q["judge_test_accuracy"]) < 1e-4
    assert abs(sum(q["uncond_judge_class_shares"]) - 1) < 1e-3
    # read off the unconditional record's own samples, not a second draw of the model
    assert q["uncond_judge_class_shares"] == q["uncond"]["judge_class_shares"]
    assert (tmp_path / "ck" / "mnist" / "reference.npz").is_file()
