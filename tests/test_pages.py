"""AppTest runs of every page: it runs, its main widgets change what it shows, bad values get a message."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def page(name: str, timeout: float = 120) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / name), default_timeout=timeout)


def chart(at: AppTest, key_part: str) -> dict:
    """The plotly figure JSON of the chart whose element id contains ``key_part``."""
    for el in at.get("plotly_chart"):
        if key_part in el.proto.id:
            return json.loads(el.proto.spec)
    raise AssertionError(f"no plotly chart {key_part!r}; have {[e.proto.id for e in at.get('plotly_chart')]}")


def values(arr) -> list:
    """Plotly 7 writes numpy arrays as {'dtype', 'bdata' (base64)}; plain lists stay lists."""
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"])).tolist()
    return list(arr)


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# -- Guidance in 2D --------------------------------------------------------
def test_2d_page_scale_moves_the_samples():
    at = page("1_Guidance_in_2D.py").run()
    no_errors(at)
    before = chart(at, "samples")["data"][2]["x"]
    at.slider(key="scale").set_value(4.0).run()
    no_errors(at)
    after = chart(at, "samples")
    assert after["data"][2]["x"] != before
    assert "s = 4" in after["layout"]["title"]["text"]
    assert any(r"p_t(y\mid x)^{4}" in l.value for l in at.latex)


def test_2d_page_speaks_in_w_under_cfg_and_names_the_exact_case():
    at = page("1_Guidance_in_2D.py").run()
    assert at.slider(key="scale").value == 3.0  # opens where guidance visibly acts: CG-DDPM at s = 3
    at.sidebar.radio(key="method").set_value("CFG (w)").run()
    no_errors(at)
    assert at.slider(key="scale").label == "Guidance scale w"
    assert at.slider(key="scale").value == 2.0  # the same tilt exponent k = 3, and the page says so
    assert any("CG-DDPM at s = 3 → CFG at w = 2: the same tilt exponent k = 3" in i.value for i in at.info)
    samples = chart(at, "samples")
    assert "w = 2" in samples["layout"]["title"]["text"]
    assert "p(x) p(y=0|x)^3" in [d.get("name") for d in samples["data"]]  # tilt exponent 1 + w
    assert any("Exact only at $w = 0$ ($k = 1$)" in c.value for c in at.caption)
    assert not any("$s = " in c.value for c in at.caption)
    at.slider(key="scale").set_value(0.0).run()  # w = 0: k = 1, the exact case
    assert any("At $k = 1$ the guided score is the score of one diffusion's marginals" in c.value for c in at.caption)
    assert chart(at, "sweep")["layout"]["xaxis2"]["title"]["text"] == "guidance scale w"


def test_2d_page_ddpm_and_ddim_part_ways_on_near_and_far():
    at = page("1_Guidance_in_2D.py").run()
    at.sidebar.selectbox[0].set_value("near_and_far").run()
    at.slider(key="scale").set_value(3.0).run()
    at.toggle(key="show_samplers").set_value(True).run()
    no_errors(at)
    fig = chart(at, "samplers")
    ddpm, ddim, tilted = (values(d["y"]) for d in fig["data"])
    s = values(fig["data"][0]["x"])
    k = s.index(3.0)
    # measured on the exact models (docs/results.md): DDIM > DDPM > the tilted density's share
    assert ddim[k] > ddpm[k] + 0.03 and ddpm[k] > tilted[k] + 0.2
    assert abs(ddpm[s.index(1.0)] - tilted[s.index(1.0)]) < 0.06  # s = 1: both sample p(x|y)


def test_2d_page_samples_the_tilted_density_on_either_smc_path():
    """The section's five samplers at the slider's k, SMC on the tempered path (the default) and on the guided one;
    the caption says which path ran and computes its numbers from that run."""
    at = page("1_Guidance_in_2D.py").run()
    at.sidebar.selectbox[0].set_value("near_and_far").run()
    at.toggle(key="show_smc").set_value(True).run()
    no_errors(at)
    tempered = next(c.value for c in at.caption if "SMC on the" in c.value)
    assert tempered.startswith("SMC on the tempered path: the diffusion of p(x|y), k = 1") and "k = 3," in tempered
    at.radio(key="smc_path").set_value("guided").run()
    no_errors(at)
    guided = next(c.value for c in at.caption if "SMC on the" in c.value)
    assert guided.startswith("SMC on the guided path") and guided != tempered
    assert chart(at, "smc_trace")["layout"]["xaxis"]["title"]["text"].startswith("step (of 100")


def test_2d_page_shows_the_run_of_the_slider_value_from_its_batched_chunk():
    """The page samples neighbouring slider values in one batch; each is still its own scale's run."""
    from cgd.pipeline import SampleRequest
    from cgd.toy.mixture import load_mixture
    from cgd.toy.views import run_guided
    from ui.toy import slider_chunk, slider_index

    at = page("1_Guidance_in_2D.py").run()
    at.slider(key="scale").set_value(2.3).run()
    no_errors(at)
    assert len(slider_chunk(slider_index(2.3), 1000, "exact")) > 1  # the page's default n: batched with neighbours
    shown = np.array([values(chart(at, "samples")["data"][2][k]) for k in "xy"]).T
    alone = run_guided(load_mixture("overlapping"),
                       SampleRequest(method="cg-ddpm", label=0, scale=2.3, steps=100, n=1000, seed=0)).samples
    np.testing.assert_allclose(shown, alone.astype(np.float32), atol=1e-5)


def test_scale_chunks_are_keyed_by_the_slider_position_and_hold_its_value():
    from cgd.errors import InputError
    from ui.toy import SCALE_STEP, SLIDER, slider_chunk, slider_index

    i = slider_index(2.3000000000000003)  # what a browser may send for 23 steps of 0.1
    assert i == 23 and SLIDER[i] == 2.3
    chunk = slider_chunk(i, 1000, "exact")
    assert 2.3 in chunk and len(chunk) == 20 and chunk == tuple(sorted(chunk)) and chunk[0] == 2.0
    assert all(abs(v / SCALE_STEP - round(v / SCALE_STEP)) < 1e-9 for v in chunk)
    assert slider_chunk(100, 1000, "exact")[-1] == 10.0 and slider_chunk(0, 200, "exact")[0] == 0.0
    assert len(slider_chunk(0, 200, "exact")) == 100
    assert slider_chunk(i, 1000, "learned") == (2.3,)  # the learned MLPs gain nothing from batching
    assert slider_chunk(40, 20_000, "exact") == (4.0,)
    for off in (2.35, -0.1, 10.1):
        with pytest.raises(InputError, match="not on the scale slider"):
            slider_index(off)


def test_2d_page_shows_step_trajectory_and_sweep():
    at = page("1_Guidance_in_2D.py").run()
    step = chart(at, "step")
    assert step["data"][0]["type"] == "heatmap"
    assert not [e for e in at.get("plotly_chart") if "trajectory" in e.proto.id]  # animation on demand
    at.toggle(key="animate").set_value(True).run()
    traj = chart(at, "trajectory")
    assert len(traj["frames"]) == 21
    first, last = (np.array(values(traj["frames"][k]["data"][-1]["x"])) for k in (0, -1))
    assert first.shape == last.shape == (300,) and first.std() > last.std()  # noise contracts onto the data
    assert all(f["data"][0]["type"] == "contour" for f in traj["frames"])  # p(x|y) stays while it plays
    assert traj["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] >= 500  # narratable
    sweep = chart(at, "sweep")
    share = values(sweep["data"][0]["y"])
    assert share[-1] > share[0]  # larger scale: more samples of class y
    assert sweep["layout"]["shapes"][0]["x0"] == 3.0  # the marker at the slider's value


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"means": [[0, 0]], "covs": [[[1, 2], [2, 1]]], "weights": [1], "labels": [0]}).encode(),
     "not positive definite"),
    (json.dumps({"means": [[0, 0]], "covs": [[[1, 0], [0, 1]]], "weights": [1], "labels": [0.0], "name": "x"})
     .replace("1]]]", "NaN]]]").encode(), "finite"),
])
def test_2d_page_refuses_a_bad_mixture_file(content, message):
    at = page("1_Guidance_in_2D.py").run()
    at.radio[0].set_value("upload JSON").run()
    at.file_uploader[0].set_value(("mix.json", content, "application/json")).run()
    assert not at.exception
    assert at.error and message in at.error[0].value


def test_2d_page_accepts_an_uploaded_mixture():
    mix = {"name": "two", "means": [[-1, 0], [1, 0]], "covs": [[[0.2, 0], [0, 0.2]], [[0.2, 0], [0, 0.2]]],
           "weights": [1, 1], "labels": [0, 1]}
    at = page("1_Guidance_in_2D.py").run()
    at.radio[0].set_value("upload JSON").run()
    at.file_uploader[0].set_value(("two.json", json.dumps(mix).encode(), "application/json")).run()
    no_errors(at)
    assert len(values(chart(at, "samples")["data"][2]["x"])) == 1000


# -- Scale explorer --------------------------------------------------------
def test_scale_explorer_runs_and_the_steps_change_the_approximation():
    at = page("2_Scale_explorer.py").run()
    no_errors(at)
    tv_few = [c.value for c in at.caption if "TV distance" in c.value]
    at.select_slider(key="taylor_steps").set_value(1000).run()
    no_errors(at)
    tv_many = [c.value for c in at.caption if "TV distance" in c.value]
    worst = lambda caps: max(float(c.rsplit(" ", 1)[1]) for c in caps)  # noqa: E731
    assert worst(tv_few) > 0.3 > 0.02 > worst(tv_many)
    at.slider(key="s1").set_value(10.0).run()
    assert "p(x) p(y=1|x)^10" in [d["name"] for d in chart(at, "sharpen")["data"]]


def test_scale_explorer_asks_for_a_power():
    at = page("2_Scale_explorer.py").run()
    at.multiselect(key="powers").set_value([]).run()
    assert at.warning and "at least one" in at.warning[0].value


# -- Image generation ------------------------------------------------------
def test_image_page_without_models_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path))
    at = page("3_Image_generation.py").run()
    assert not at.exception
    assert at.error and "checkpoints/train.sh" in at.error[0].value


def test_image_page_generates_with_progress_and_confidences(tiny_root, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("3_Image_generation.py").run()
    no_errors(at)
    assert at.info and "Generate" in at.info[0].value
    at.select_slider(key="steps").set_value(10)
    at.select_slider(key="n").set_value(4)
    at.button[0].click().run()
    no_errors(at)
    assert at.get("image") and "4 samples" in at.get("image")[0].captions[0]
    assert len(at.metric) == 2
    conf = at.dataframe[0].value
    assert len(conf) == 4 and ((conf.iloc[:, 1] >= 0) & (conf.iloc[:, 1] <= 1)).all()
    first = at.get("image")[0].value[0]
    at.number_input(key="seed").set_value(1).run()
    at.button[0].click().run()
    no_errors(at)
    assert at.get("image")[0].value[0] != first  # another seed, other images (media ids hash the pixels)


def test_image_page_method_switch_resets_the_scale_and_the_words(tiny_root, monkeypatch):
    from cgd.models import RECOMMENDED_SCALE

    scales = RECOMMENDED_SCALE["mnist"]  # the tiny models are MNIST's
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("3_Image_generation.py").run()
    assert at.number_input(key="scale").value == scales["cg-ddim"]
    at.number_input(key="scale").set_value(7.0).run()
    at.radio(key="method").set_value("CFG (w)").run()
    no_errors(at)
    assert at.number_input(key="scale").value == scales["cfg"]  # not CFG at w = 8, nor 7
    assert at.number_input(key="scale").label == "Guidance scale w"
    at.radio(key="method").set_value("conditional + CG").run()
    assert at.number_input(key="scale").value == scales["cond+cg"]
    assert at.number_input(key="scale").label == "Guidance scale s"
    at.radio(key="method").set_value("unconditional").run()
    no_errors(at)
    assert at.selectbox(key="label_mnist").disabled and at.number_input(key="scale").disabled
    assert not any("class" in m.value and "**0**" in m.value for m in at.markdown)
    assert any("any class" in m.value for m in at.markdown)
    assert at.selectbox(key="label_mnist").format_func(0) == "0"  # MNIST's class names are its digits: no "0: 0"


def test_image_page_shows_no_guiding_classifier_under_cfg(tiny_root, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("3_Image_generation.py").run()
    at.radio(key="method").set_value("CFG (w)").run()
    at.select_slider(key="steps").set_value(10)
    at.select_slider(key="n").set_value(4)
    at.button[0].click().run()
    no_errors(at)
    assert len(at.metric) == 1 and "judge" in at.metric[0].label
    assert list(at.dataframe[0].value.columns) == ["image", "judge p(y|x₀)"]
    assert not any("adversarial" in c.value for c in at.caption)
    assert not at.get("progress")  # the finished bar is gone


def test_image_page_opens_on_the_atlas_and_the_slider_redraws_without_a_button(tiny_atlas_root, monkeypatch):
    from cgd.atlas import DEFAULT_SCALES
    from cgd.models import recommended_scale

    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_atlas_root))
    at = page("3_Image_generation.py").run()
    no_errors(at)
    assert at.radio(key="source").value.startswith("Scale atlas")
    assert not at.button  # nothing to press
    rec = recommended_scale("mnist", "cg-ddim")
    other = 8.0 if rec != 8.0 else 4.0
    slider = at.select_slider(key="atlas_scale_cg-ddim")
    assert slider.label == "Guidance scale s" and slider.value == rec  # the recommended scale
    assert any(i.value.startswith("**Scale atlas**") for i in at.info)
    assert any("python -m cgd.atlas build" in m.value for m in at.expander[0].markdown)  # developer detail
    first = at.get("image")[0].value
    fig = chart(at, "atlas_judge")
    grid = DEFAULT_SCALES["cg-ddim"]  # the axis: the grid's index, one step per value as on the slider
    assert fig["layout"]["shapes"][0]["x0"] == grid.index(rec)
    assert fig["layout"]["xaxis"]["title"]["text"].startswith("guidance scale s")
    ticks = dict(zip(fig["layout"]["xaxis"]["tickvals"], fig["layout"]["xaxis"]["ticktext"]))
    assert all(ticks[k] == f"{grid[k]:g}" for k in ticks) and len(ticks) >= len(grid) // 2
    slider.set_value(other).run()
    no_errors(at)
    assert at.get("image")[0].value != first  # other pixels
    assert chart(at, "atlas_judge")["layout"]["shapes"][0]["x0"] == grid.index(other)
    # the strips label every frame: one seed at every s, x0_hat at every kept step
    captions = [c for img in at.get("image") for c in img.captions]
    assert [c for c in captions if c.startswith("s = ")] == [f"s = {v:g}" for v in grid]
    assert [c for c in captions if c.startswith("step ") and " of " not in c] == ["step 1", "step 2"]
    assert any(f"s = {other:g}" in m.value for m in at.markdown)
    at.radio(key="atlas_method").set_value("CFG (w)").run()
    no_errors(at)
    w = at.select_slider(key="atlas_scale_cfg")
    assert w.label == "Guidance scale w" and w.value == recommended_scale("mnist", "cfg")
    w.set_value(0.0).run()
    assert any("w = 0 this is the conditional model" in m.value for m in at.markdown)
    at.select_slider(key="atlas_frame").set_value(1).run()
    no_errors(at)
    assert any("step 1 of 2 (t = 999)" in c for img in at.get("image") for c in img.captions)


def test_image_page_with_a_stale_atlas_goes_live_and_says_why(tiny_atlas_root, tmp_path, monkeypatch):
    import shutil

    from conftest import write_tiny_models

    shutil.copytree(tiny_atlas_root, tmp_path / "ck")
    other = write_tiny_models(tmp_path / "retrained", seed=1)
    shutil.copy(other / "judge.safetensors", tmp_path / "ck" / "mnist")  # the judge changed after the atlas
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path / "ck"))
    at = page("3_Image_generation.py").run()
    no_errors(at)
    assert at.radio(key="source").disabled
    assert any("other model weights" in c.value and "python -m cgd.atlas build" in c.value for c in at.caption)
    assert at.button  # live: Generate


@pytest.mark.parametrize("widget, value", [("scale", 100.0)])
def test_image_page_answers_a_scale_at_the_limit(tiny_root, monkeypatch, widget, value):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("3_Image_generation.py").run()
    at.number_input(key=widget).set_value(value).run()
    no_errors(at)


def test_image_page_same_seed_row_across_scales(tiny_root, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("3_Image_generation.py").run()
    at.select_slider(key="steps").set_value(10)
    at.multiselect(key="row_scales").set_value([0.0, 4.0]).run()
    at.button[1].click().run()
    no_errors(at)
    caps = [c for img in at.get("image") for c in img.captions]
    assert any(c.startswith("s = 0") for c in caps) and any(c.startswith("s = 4") for c in caps)


# -- Training --------------------------------------------------------------
def test_training_page_trains_the_toy_models_live(tiny_root, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("4_Training.py").run()
    no_errors(at)
    at.select_slider(key="train_steps").set_value(100)
    at.button(key="train").click().run()
    no_errors(at)
    assert at.success and "Trained both networks" in at.success[0].value
    assert any("No measured quality" in i.value for i in at.info)


def test_training_page_without_models(tmp_path, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path))
    at = page("4_Training.py").run()
    assert not at.exception and at.warning and "train.sh" in at.warning[0].value


# -- Fidelity vs diversity -------------------------------------------------
def test_fidelity_page_shows_sweeps_and_the_table(tiny_root, tmp_path, monkeypatch):
    import cgd.results

    recs = [{"dataset": "mnist", "method": m, "scale": s, "n": 100, "steps": 25, "fid": 10 - s, "inception_score": 5 + s,
             "precision": 0.5 + s / 40, "recall": 0.6 - s / 40, "judge_accuracy": 0.5 + s / 20,
             "classifier_accuracy": 0.6 + s / 30} for m in ("cg-ddpm", "cfg", "cond+cg") for s in (0.0, 1.0, 10.0)]
    (tmp_path / "r.json").write_text(json.dumps({"records": recs}))
    monkeypatch.setattr(cgd.results, "RESULTS_DIR", tmp_path)
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("5_Fidelity_vs_diversity.py").run()
    no_errors(at)
    from ui.figures import METHOD_COLORS, METHOD_LABELS

    fid = chart(at, "metric_fid")
    assert {d["name"] for d in fid["data"]} == {METHOD_LABELS[m] for m in ("cg-ddpm", "cfg", "cond+cg")}
    assert {d["line"]["color"] for d in fid["data"]} == {METHOD_COLORS[m] for m in ("cg-ddpm", "cfg", "cond+cg")}
    assert not fid["layout"]["showlegend"]  # one colour key above the charts instead
    table = at.dataframe[0].value
    assert len(table) == 6 and table["our FID"].iloc[2] == 0.0  # cg-ddpm at scale 10
    at.multiselect(key="fd_methods").set_value(["cfg"]).run()
    assert {d["name"] for d in chart(at, "metric_fid")["data"]} == {METHOD_LABELS["cfg"]}


def test_fidelity_page_live_run_needs_reference(tiny_root, tmp_path, monkeypatch):
    import shutil

    import cgd.results

    monkeypatch.setattr(cgd.results, "RESULTS_DIR", tmp_path)
    shutil.copytree(tiny_root / "mnist", tmp_path / "ck" / "mnist")
    (tmp_path / "ck" / "mnist" / "reference.npz").unlink(missing_ok=True)
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path / "ck"))
    at = page("5_Fidelity_vs_diversity.py").run()
    assert at.warning and "cgd.evaluate" in at.warning[0].value
    at.button(key="live_go").click().run()
    assert not at.exception and at.error and "--make-reference" in at.error[0].value


@pytest.mark.parametrize("damage", ["truncated", "wrong-kind"])
def test_image_page_answers_a_damaged_checkpoint(tiny_root, tmp_path, monkeypatch, damage):
    import shutil

    folder = tmp_path / "mnist"
    shutil.copytree(tiny_root / "mnist", folder)
    unet = folder / "unet.safetensors"
    data = unet.read_bytes()
    unet.write_bytes(data[: len(data) // 3] if damage == "truncated" else (folder / "judge.safetensors").read_bytes())
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tmp_path))
    at = page("3_Image_generation.py").run()
    assert not at.exception
    assert at.error and "unet.safetensors" in at.error[0].value


def test_2d_page_learned_models_train_once_with_progress(monkeypatch):
    monkeypatch.setenv("CGD_TOY_TRAIN_STEPS", "100")
    for _ in range(2):  # the second session finds the shared models
        at = page("1_Guidance_in_2D.py").run()
        [r for r in at.radio if "learned" in r.options][0].set_value("learned").run()
        no_errors(at)
        assert len(values(chart(at, "samples")["data"][2]["x"])) == 1000


def test_2d_page_newer_guidance_sections_on_demand():
    at = page("1_Guidance_in_2D.py").run()
    assert not [e for e in at.get("plotly_chart") if any(k in e.proto.id for k in ("interval_", "cmp_", "corrector"))]
    at.sidebar.selectbox[0].set_value("near_and_far").run()
    at.slider(key="scale").set_value(3.0).run()
    for key in ("show_interval", "show_autoguidance", "show_corrector"):
        at.toggle(key=key).set_value(True).run()
    no_errors(at)
    shares = at.dataframe[0].value
    assert list(shares["guided at"]) == ["t ≥ 200", "t < 200", "every t"]
    far = [float(v.rstrip("%")) for v in shares["component 0 (class 0)"]]
    assert far[2] > 75 and far[1] < far[2] - 30  # guidance only at t < 200 comes too late for the far component
    compare = chart(at, "compare")
    names = {d["name"] for d in compare["data"]}
    assert names == {"CFG (w)", "autoguidance (w)"}
    ag_far = [values(d["y"]) for d in compare["data"] if d["name"] == "autoguidance (w)" and d.get("xaxis", "x") == "x"][0]
    assert max(abs(v - 0.5) for v in ag_far) < 0.06  # autoguidance keeps the components' shares
    assert "K = 5" in chart(at, "corrector_samples")["layout"]["title"]["text"]


@pytest.mark.parametrize("with_atlas", [True, False])
def test_lesson_image_step_shows_the_same_seeds_across_scales(tiny_root, tiny_atlas_root, monkeypatch, with_atlas):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_atlas_root if with_atlas else tiny_root))
    at = page("6_Lesson.py")
    at.query_params["step"] = "6"
    at.run()
    no_errors(at)
    caps = [c for img in at.get("image") for c in img.captions]
    assert [c.split(" ·")[0] for c in caps] == ["s = 0", "s = 1", "s = 3", "s = 10"]
    assert any(("(from the scale atlas)" if with_atlas else "(sampled now)") in m.value for m in at.markdown)


def test_image_page_dataset_switch_resets_the_scale_to_that_datasets_recommendation(tiny_root, tmp_path,
                                                                                    monkeypatch):
    """Recommended scales belong to a dataset's models: switching the dataset must not carry MNIST's
    recommended (or a hand-set) scale over to Fashion-MNIST's models."""
    import shutil

    from cgd import models

    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_root, root)
    shutil.copytree(root / "mnist", root / "fashion-mnist")  # the tiny networks fit both (28×28, 10 classes)
    monkeypatch.setitem(models.RECOMMENDED_SCALE, "fashion-mnist",
                        dict(models.RECOMMENDED_SCALE["fashion-mnist"], **{"cg-ddim": 5.0}))
    monkeypatch.setenv("CGD_CHECKPOINTS", str(root))
    at = page("3_Image_generation.py").run()
    assert at.selectbox(key="dataset").value == "mnist"
    assert at.radio(key="method").value == "CG-DDIM (ε form)"
    at.number_input(key="scale").set_value(7.0).run()
    at.selectbox(key="dataset").set_value("fashion-mnist").run()
    no_errors(at)
    assert at.number_input(key="scale").value == 5.0
    at.selectbox(key="dataset").set_value("mnist").run()
    assert at.number_input(key="scale").value == models.RECOMMENDED_SCALE["mnist"]["cg-ddim"]


def test_image_page_offers_autoguidance_only_with_a_weak_model(tiny_root, tmp_path, monkeypatch):
    import shutil

    from cgd.models import RECOMMENDED_SCALE

    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    at = page("3_Image_generation.py").run()
    assert "autoguidance (w)" not in at.radio(key="method").options
    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_root, root)
    shutil.copy(root / "mnist" / "unet.safetensors", root / "mnist" / "unet_weak.safetensors")
    monkeypatch.setenv("CGD_CHECKPOINTS", str(root))
    at = page("3_Image_generation.py").run()
    at.radio(key="method").set_value("autoguidance (w)").run()
    no_errors(at)
    assert at.number_input(key="scale").value == RECOMMENDED_SCALE["mnist"]["autoguidance"]
    assert at.number_input(key="scale").label == "Guidance scale w"
    assert not any("Tilt exponent" in m.value for m in at.markdown)  # autoguidance has none
    at.select_slider(key="steps").set_value(10)
    at.select_slider(key="n").set_value(4)
    at.button[0].click().run()
    no_errors(at)
    assert at.get("image") and "4 samples" in at.get("image")[0].captions[0]


def test_image_page_shows_autoguidance_from_an_atlas_that_has_it(tiny_root, tmp_path, monkeypatch):
    import shutil

    from cgd.atlas import AtlasConfig, build_atlas, save_atlas
    from cgd.models import load_image_models, recommended_scale

    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_root, root)
    shutil.copy(root / "mnist" / "unet.safetensors", root / "mnist" / "unet_weak.safetensors")
    cfg = AtlasConfig(dataset="mnist", methods=("autoguidance",), n=1, steps=1, trajectory_seeds=1,
                      trajectory_every=1)
    save_atlas(build_atlas(load_image_models("mnist", root=root), cfg, root / "mnist"), cfg, root / "mnist",
               command="python -m cgd.atlas build (test)", device="cpu")
    monkeypatch.setenv("CGD_CHECKPOINTS", str(root))
    at = page("3_Image_generation.py").run()
    no_errors(at)
    assert at.radio(key="atlas_method").value == "autoguidance (w)"
    w = at.select_slider(key="atlas_scale_autoguidance")
    assert w.label == "Guidance scale w" and w.value == recommended_scale("mnist", "autoguidance")
    assert not any("Tilt exponent" in m.value for m in at.markdown)  # autoguidance has none
    w.set_value(0.0).run()
    no_errors(at)
    assert any("w = 0 this is the conditional model" in m.value for m in at.markdown)


def test_lesson_autoguidance_step_states_what_its_figure_shows():
    """The step's "what to notice" gives the far component's share of CFG's and autoguidance's samples: the
    numbers measured on exactly the samples its figure draws (exact models)."""
    import re

    from ui import lesson, toy

    step = [s for s in lesson.STEPS if s.figure == "weak_model"][0]
    cfg, ag = (toy.component_shares(toy.preset_json(lesson.NEAR_FAR), "exact", r)[0] for r in lesson.AUTOGUIDANCE)
    at = page("6_Lesson.py")
    at.query_params["step"] = str(lesson.STEPS.index(step) + 1)
    at.run()
    no_errors(at)
    shown = [i.value for i in at.info if "What to notice" in i.value][0]
    said = [int(v) for v in re.findall(r"(\d+)%", shown)]
    assert said == [round(100 * cfg), round(100 * ag), 50] and round(100 * ag) == 50, (said, cfg, ag)
    titles = [chart(at, key)["layout"]["title"]["text"] for key in ("lesson_fig", "lesson_fig2")]
    assert titles[0].startswith("CFG, w = 2") and titles[1].startswith("autoguidance, w = 2"), titles


def test_lesson_autoguidance_step_shows_mnist_from_an_atlas_that_has_it(tiny_root, tmp_path, monkeypatch):
    import shutil

    from cgd.atlas import AtlasConfig, build_atlas, save_atlas
    from cgd.models import load_image_models
    from ui import lesson

    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_root, root)
    shutil.copy(root / "mnist" / "unet.safetensors", root / "mnist" / "unet_weak.safetensors")
    cfg = AtlasConfig(dataset="mnist", methods=("cfg", "autoguidance"), n=2, steps=1, trajectory_seeds=1,
                      trajectory_every=1)
    save_atlas(build_atlas(load_image_models("mnist", root=root), cfg, root / "mnist"), cfg, root / "mnist",
               command="python -m cgd.atlas build (test)", device="cpu")
    step = [s for s in lesson.STEPS if s.figure == "weak_model"][0]
    for folder, images in ((tiny_root, 0), (root, 2)):
        monkeypatch.setenv("CGD_CHECKPOINTS", str(folder))
        at = page("6_Lesson.py")
        at.query_params["step"] = str(lesson.STEPS.index(step) + 1)
        at.run()
        no_errors(at)
        caps = [c.split(" ·")[0] for img in at.get("image") for c in img.captions]
        assert caps == (["CFG, w = 2", "autoguidance, w = 2"] if images else []), caps


def test_fidelity_page_draws_the_live_measurement_on_the_curves(tiny_root, tmp_path, monkeypatch):
    """Issue #25: the live "Measure" result is a marked point on the charts (a star), and its table speaks words."""
    import cgd.results

    recs = [{"dataset": "mnist", "method": m, "scale": s, "n": 100, "steps": 25, "fid": 10 - s, "inception_score": 5 + s,
             "precision": 0.5 + s / 40, "recall": 0.6 - s / 40, "judge_accuracy": 0.5 + s / 20,
             "classifier_accuracy": 0.6 + s / 30} for m in ("cg-ddpm", "cfg") for s in (0.0, 1.0, 4.0)]
    (tmp_path / "r.json").write_text(json.dumps({"records": recs}))
    monkeypatch.setattr(cgd.results, "RESULTS_DIR", tmp_path)
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    from ui import records

    def measured(dataset, method, scale, n, on_step):  # what cgd.evaluate.evaluate_one returns (tested there)
        on_step()
        return {"method": method, "scale": scale, "n": n, "fid": 3.0, "inception_score": 6.0, "precision": 0.6,
                "recall": 0.55, "judge_accuracy": 0.7, "classifier_accuracy": 0.8}

    monkeypatch.setattr(records, "measure_live", measured)
    at = page("5_Fidelity_vs_diversity.py", timeout=600).run()
    no_errors(at)
    pr = chart(at, "tradeoff")
    assert pr["layout"]["xaxis"]["title"]["text"].startswith("recall")
    assert pr["layout"]["yaxis"]["title"]["text"].startswith("precision")
    assert not [d for d in pr["data"] if d.get("marker", {}).get("symbol") == "star"]
    at.select_slider(key="live_n").set_value(50)
    at.button(key="live_go").click().run()
    no_errors(at)
    stars = [d for d in chart(at, "tradeoff")["data"] if d.get("marker", {}).get("symbol") == "star"]
    assert len(stars) == 1 and stars[0]["name"].startswith("measured now: CG-DDPM")
    assert any(d.get("marker", {}).get("symbol") == "star" for d in chart(at, "metric_fid")["data"])
    row = at.dataframe[0].value if len(at.dataframe) == 1 else at.dataframe[-1].value
    assert "fid" not in row.columns and "FID ↓" in row.columns and "judge accuracy" in row.columns
    assert not [c for c in row.columns if "_" in c]  # no snake_case header
