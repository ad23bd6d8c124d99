"""Image generation: every guidance method on the trained MNIST / Fashion-MNIST models."""

import numpy as np
import streamlit as st

from cgd.data import DATASETS
from cgd.models import RECOMMENDED_SCALE
from cgd.pipeline import SampleRequest
from cgd.sample import image_grid
from ui import images
from ui.common import answer_errors, setup

setup("Image generation", "🖼️")
st.title("Image generation")

available = images.datasets()
if not available:
    st.error("No trained image models found. Train them with `bash checkpoints/train.sh mnist` "
             "(data first: `python -m cgd.data fetch mnist`).")
    st.stop()

METHODS = {"unconditional": "uncond", "conditional": "cond", "CG-DDPM (mean shift)": "cg-ddpm",
           "CG-DDIM (ε form)": "cg-ddim", "CFG (w)": "cfg", "conditional + CG": "cond+cg"}

with st.sidebar:
    dataset = st.selectbox("Dataset", available)
    classes = DATASETS[dataset].classes
    label = st.selectbox("Class", list(range(len(classes))), format_func=lambda k: f"{k}: {classes[k]}")
    method_name = st.radio("Method", list(METHODS), index=3)
    method = METHODS[method_name]
    guided = method not in ("uncond", "cond")
    knob = "w" if method == "cfg" else "s"
    scale = st.number_input(f"Guidance scale {knob}", 0.0, 100.0, float(RECOMMENDED_SCALE[method]), 0.5,
                            disabled=not guided, key="scale")
    steps = st.select_slider("Steps", [10, 25, 50, 100, 250], value=25, key="steps")
    eta = st.slider("η (DDIM noise)", 0.0, 1.0, 0.0, 0.1) if method == "cg-ddim" else 0.0
    n = st.select_slider("Images", [1, 4, 8, 16, 32, 64], value=16, key="n")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="seed")

label_arg = None if method == "uncond" else int(label)
sampler = "ddim" if method == "cg-ddim" else "ddpm"
with answer_errors():
    request = SampleRequest(method=method, label=label_arg, scale=float(scale) if guided else 0.0, steps=int(steps),
                            n=int(n), seed=int(seed), eta=float(eta), sampler=sampler, x0_mode="clip")
    request = request.validated(len(classes), 1000)
    models = images.get_models(dataset)

st.markdown(f"**{method_name}** on {dataset}, class **{classes[int(label)]}**"
            + (f", {knob} = {request.scale:g}" if guided else "") + f", {request.steps} steps, seed {request.seed}.")

tab_grid, tab_row = st.tabs(["Samples", "Same seed across scales"])
with tab_grid:
    with st.form("generate"):
        go = st.form_submit_button("Generate", type="primary")
    if go or st.session_state.get("last_request") == request:
        st.session_state["last_request"] = request
        bar = st.progress(0.0, text="sampling…")
        strip = st.empty()

        def on_step(d):
            bar.progress((d["i"] + 1) / request.steps, text=f"step {d['i'] + 1}/{request.steps} (t = {d['t']})")
            if d["i"] % max(1, request.steps // 10) == 0 or d["i"] + 1 == request.steps:
                strip.image(images.preview(d["x0_hat"]), caption="predicted x₀ at this step", clamp=True)

        with answer_errors():
            result = images.generate(dataset, str(images.checkpoint_root()), request, _on_step=on_step)
        bar.progress(1.0, text="done")
        strip.empty()
        grid = image_grid(result.images)
        st.image(grid, caption=f"{request.n} samples", width=int(min(640, 4 * grid.shape[1])))
        if result.judge_conf is not None:
            rows = {"image": list(range(request.n)), "guiding classifier p(y|x₀)": np.round(result.classifier_conf, 3),
                    "judge p(y|x₀)": np.round(result.judge_conf, 3)}
            c1, c2 = st.columns(2)
            c1.metric("judge: share of asked class", f"{float((result.judge_conf > 0.5).mean()):.0%}")
            c2.metric("guiding classifier: share", f"{float((result.classifier_conf > 0.5).mean()):.0%}")
            st.dataframe(rows, hide_index=True, height=220)
            st.caption("At large scales the two part ways: the guiding classifier is sure, the independent judge "
                       "is not — guidance then acts as an adversarial attack on its own classifier.")
        st.download_button("Download PNG", images.png_bytes(grid), file_name=f"{dataset}_{method}_{label}.png",
                           mime="image/png")
    else:
        st.info("Press **Generate** to sample; results are cached by their settings.")

with tab_row:
    st.markdown("The same starting noise at growing scales, like the paper's figures.")
    scales = st.multiselect("Scales", [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0], default=[0.0, 1.0, 4.0, 16.0],
                            key="row_scales")
    with st.form("row"):
        go_row = st.form_submit_button("Generate the row", disabled=not guided)
    if not guided:
        st.info("Pick a guided method to compare scales.")
    elif go_row and scales:
        row = []
        status = st.progress(0.0)
        for k, s in enumerate(sorted(scales)):
            r = SampleRequest(**{**request.__dict__, "scale": float(s), "n": 4})
            with answer_errors():
                row.append(images.generate(dataset, str(images.checkpoint_root()), r))
            status.progress((k + 1) / len(scales), text=f"{knob} = {s:g}")
        cols = st.columns(len(row))
        for col, s, res in zip(cols, sorted(scales), row):
            col.image(image_grid(res.images, cols=2), caption=f"{knob} = {s:g}"
                      + (f" · judge {res.judge_conf.mean():.2f}" if res.judge_conf is not None else ""))
