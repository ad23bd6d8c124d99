"""The scale atlas: its cells are the runs they stand for, it round-trips bit for bit, and it refuses to lie.

Built from tiny random models (``tiny_root``) with a small grid, so the whole file runs in seconds.
"""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import cgd.atlas as atlas_mod
from cgd.atlas import AtlasConfig, atlas_status, build_atlas, build_cell, load_atlas, save_atlas
from cgd.atlas.__main__ import main as atlas_main
from cgd.errors import InputError
from cgd.models import confidences, load_image_models, sample_images
from cgd.pipeline import SampleRequest
from cgd.sample import to_uint8

GRIDS = (("cg-ddim", (0.0, 1.0, 4.0)), ("cfg", (0.0, 2.0)))
CFG = AtlasConfig(dataset="mnist", methods=("cg-ddim", "cfg"), n=3, steps=4, seed=5, trajectory_seeds=2,
                  trajectory_every=3, grids=GRIDS)


@pytest.fixture(scope="module")
def root(tiny_root, tmp_path_factory):
    """A private copy of the tiny models (tests here write atlases and change model files)."""
    dst = tmp_path_factory.mktemp("atlas") / "checkpoints"
    shutil.copytree(tiny_root, dst)
    return dst


@pytest.fixture(scope="module")
def models(root):
    return load_image_models("mnist", root=root)


@pytest.fixture(scope="module")
def built(root, models):
    arrays = build_atlas(models, CFG, root / "mnist")
    record = save_atlas(arrays, CFG, root / "mnist", command="python -m cgd.atlas build (test)", device="cpu")
    return arrays, record


def test_frame_steps_keep_the_last_step():
    assert CFG.frame_steps() == (0, 3)
    assert AtlasConfig(steps=25, trajectory_every=2).frame_steps() == tuple(range(0, 25, 2))
    assert AtlasConfig(steps=10, trajectory_every=4).frame_steps() == (0, 4, 8, 9)


def test_default_grids_meet_the_brief():
    """At least 20 scales per guided method, from 0 to past the recommended one, strictly increasing."""
    from cgd.models import RECOMMENDED_SCALE

    cfg = AtlasConfig().checked()
    for method in atlas_mod.ATLAS_METHODS:  # autoguidance's grid too, for datasets that ship a weak U-Net
        grid = cfg.scales(method)
        for dataset, scales in RECOMMENDED_SCALE.items():
            assert len(grid) >= 20 and grid[0] == 0.0 and grid[-1] > scales[method], dataset
            assert scales[method] in grid, dataset
        assert all(a < b for a, b in zip(grid, grid[1:]))


def test_each_scale_of_a_cell_is_the_run_of_that_scale(models):
    """Common random numbers: row k of the batched cell is what a run at scales[k] with the seed draws."""
    cell = build_cell(models, CFG, "cg-ddim", 7)
    assert cell["images"].shape == (3, 3, 28, 28) and cell["trajectory"].shape == (3, 2, 2, 28, 28)
    for k, s in enumerate(CFG.scales("cg-ddim")):
        x0 = sample_images(models, SampleRequest(method="cg-ddim", label=7, scale=s, steps=4, n=3, seed=5))
        alone = to_uint8(x0).astype(int)
        assert np.abs(cell["images"][k].astype(int) - alone).max() <= 1  # float rounding moves a level at most
        conf = confidences(models, x0, 7)
        np.testing.assert_allclose(cell["judge"][k], conf["judge"].numpy(), atol=2e-3)
        np.testing.assert_allclose(cell["classifier"][k], conf["classifier"].numpy(), atol=2e-3)
    # the last kept frame is the last step's x0_hat, which the final clipped x_0 equals at t = 0
    assert np.abs(cell["trajectory"][:, :, -1].astype(int) - cell["images"][:, :2].astype(int)).max() <= 1
    # scales really differ
    assert (cell["images"][0] != cell["images"][-1]).any()


def test_saved_atlas_loads_bit_for_bit(root, built):
    arrays, record = built
    atlas = load_atlas(root / "mnist")
    for key, value in arrays.items():
        np.testing.assert_array_equal(atlas.arrays[key], value)
    assert atlas.config == CFG
    np.testing.assert_array_equal(atlas.arrays["frame_t"], [999, 0])  # x0_hat kept at the first and last step
    assert record["bytes"] == (root / "mnist" / "atlas.npz").stat().st_size
    assert set(record["models"]) == {"unet.safetensors", "classifier.safetensors", "judge.safetensors"}
    cell = atlas.cell("cfg", 4, 2.0)
    np.testing.assert_array_equal(cell["images"], arrays["cfg/images"][4, 1])
    with pytest.raises(InputError, match="not in the atlas"):
        atlas.cell("cfg", 4, 1.5)


def test_judge_curve_pools_or_picks_a_class(root, built):
    arrays, _ = built
    atlas = load_atlas(root / "mnist")
    p = arrays["cg-ddim/judge"].astype(np.float64)
    one = atlas.judge_curve("cg-ddim", 2)
    np.testing.assert_allclose(one["share"], (p[2] > 0.5).mean(-1))
    np.testing.assert_allclose(one["mean_p"], p[2].mean(-1))
    pooled = atlas.judge_curve("cg-ddim")
    np.testing.assert_allclose(pooled["mean_p"], p.mean(axis=(0, 2)))
    assert pooled["count"] == 30 and one["count"] == 3


def test_corrupt_stale_or_missing_atlas_is_refused_with_one_line(root, built, tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(root / "mnist", folder)
    assert atlas_status(folder) == (True, "")
    data = bytearray((folder / "atlas.npz").read_bytes())
    data[len(data) // 2] ^= 1
    (folder / "atlas.npz").write_bytes(bytes(data))
    with pytest.raises(InputError, match="sha256"):
        load_atlas(folder)
    # a retrained model makes the atlas stale: the message names the command that rebuilds it
    (folder / "judge.safetensors").write_bytes((folder / "judge.safetensors").read_bytes() + b" ")
    ok, reason = atlas_status(folder)
    assert not ok and "other model weights" in reason and "python -m cgd.atlas build" in reason
    (folder / "atlas.json").unlink()
    ok, reason = atlas_status(folder)
    assert not ok and "no scale atlas" in reason and "\n" not in reason


def test_a_stopped_build_resumes_from_its_finished_cells(root, models, tmp_path, monkeypatch):
    cfg = AtlasConfig(dataset="mnist", methods=("cfg",), n=2, steps=2, seed=1, trajectory_seeds=1,
                      trajectory_every=1, grids=(("cfg", (0.0, 3.0)),))
    calls = []
    real = atlas_mod.build_cell

    def counting(*a, **k):
        calls.append(a[3])
        if len(calls) == 4:
            raise KeyboardInterrupt  # the session is cut mid-build
        return real(*a, **k)

    monkeypatch.setattr(atlas_mod, "build_cell", counting)
    with pytest.raises(KeyboardInterrupt):
        build_atlas(models, cfg, root / "mnist", work_dir=tmp_path)
    calls.clear()
    monkeypatch.setattr(atlas_mod, "build_cell", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    resumed = build_atlas(models, cfg, root / "mnist", work_dir=tmp_path)
    assert calls == list(range(3, 10))  # classes 0-2 came from the work folder
    fresh = build_atlas(models, cfg, root / "mnist")
    for key in fresh:
        if key != "seconds":
            np.testing.assert_array_equal(resumed[key], fresh[key])


@pytest.mark.parametrize("argv,match", [
    (["build", "--n", "0"], "n must"),
    (["build", "--trajectory-seeds", "9"], "trajectory seeds"),
    (["build", "--methods", "cfg,uncond"], "atlas methods"),
    (["build", "--steps", "x"], "steps must be a number"),
    (["check"], "no scale atlas"),
])
def test_cli_bad_input_is_one_line(argv, match, tmp_path, capsys):
    empty = tmp_path / "root"
    (empty / "mnist").mkdir(parents=True)
    assert atlas_main(argv + ["--root", str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and match in err and "\n" not in err


def test_cli_builds_and_checks(root, tmp_path, capsys):
    folder = tmp_path / "ck"
    shutil.copytree(root, folder)
    argv = ["build", "--root", str(folder), "--n", "2", "--steps", "2", "--trajectory-seeds", "1",
            "--methods", "cfg", "--work", str(tmp_path / "work")]
    assert atlas_main(argv) == 0
    record = json.loads((folder / "mnist" / "atlas.json").read_text())
    assert record["command"].startswith("python -m cgd.atlas build --dataset mnist --n 2 --steps 2")
    assert record["config"]["grids"]["cfg"][0] == 0.0 and len(record["config"]["grids"]["cfg"]) == 20
    assert atlas_main(["check", "--root", str(folder)]) == 0
    assert "ok" in capsys.readouterr().out
    assert load_atlas(folder / "mnist").get("cfg", "images").shape == (10, 20, 2, 28, 28)


def test_a_dataset_with_a_weak_unet_gets_autoguidance_in_its_atlas(root, tmp_path, monkeypatch):
    # with the U-Net as its own weak model, autoguidance at any w is the conditional model: every scale of
    # the cell holds the same images; the weak file's digest is part of the record, so replacing it is stale
    import cgd.atlas.__main__ as atlas_cli

    monkeypatch.setattr(atlas_cli, "GUIDED_METHODS", ("cfg",))  # one guided method beside it: a short build
    folder = tmp_path / "ck"
    shutil.copytree(root, folder)
    shutil.copy(folder / "mnist" / "unet.safetensors", folder / "mnist" / "unet_weak.safetensors")
    argv = ["build", "--root", str(folder), "--n", "1", "--steps", "1", "--trajectory-seeds", "1",
            "--trajectory-every", "1", "--work", str(tmp_path / "work")]
    assert atlas_main(argv) == 0
    atlas = load_atlas(folder / "mnist")
    assert atlas.config.methods == ("cfg", "autoguidance")
    assert "--methods" not in atlas.record["command"]  # the same command rebuilds it with the same methods
    images = atlas.get("autoguidance", "images")  # [classes, scales, n, H, W]
    assert images.shape[1] == 20 and (images == images[:, :1]).all()
    assert "unet_weak.safetensors" in atlas.record["models"]
    (folder / "mnist" / "unet_weak.safetensors").write_bytes(
        (folder / "mnist" / "classifier.safetensors").read_bytes())
    assert not atlas_status(folder / "mnist")[0]


def test_builds_of_some_methods_fill_the_cells_of_a_build_of_all(root, models, tmp_path, monkeypatch):
    """Two builds of one method each (side by side on two cores) leave every cell the full build needs;
    a changed scale grid of one method is built again, the other method's cells are kept."""
    grids = (("cfg", (0.0, 3.0)), ("cg-ddpm", (0.0, 2.0)))
    both = AtlasConfig(dataset="mnist", methods=("cfg", "cg-ddpm"), n=2, steps=2, seed=1, trajectory_seeds=1,
                       trajectory_every=1, grids=grids)
    for method in ("cfg", "cg-ddpm"):
        build_atlas(models, replace(both, methods=(method,)), root / "mnist", work_dir=tmp_path)
    calls = []
    real = atlas_mod.build_cell
    monkeypatch.setattr(atlas_mod, "build_cell", lambda *a, **k: calls.append(a[2:4]) or real(*a, **k))
    reused = build_atlas(models, both, root / "mnist", work_dir=tmp_path)
    assert calls == []
    fresh = build_atlas(models, both, root / "mnist")
    for key in fresh:
        if key != "seconds":
            np.testing.assert_array_equal(reused[key], fresh[key])
    calls.clear()
    build_atlas(models, replace(both, grids=(("cfg", (0.0, 4.0)), grids[1])), root / "mnist", work_dir=tmp_path)
    assert calls == [("cfg", label) for label in range(10)]
