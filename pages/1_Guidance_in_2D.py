"""Guidance in 2D: guided samples against the exact densities of a Gaussian mixture."""

import streamlit as st

from cgd.pipeline import SampleRequest
from cgd.toy.mixture import Mixture
from ui import toy
from ui.common import answer_errors, setup

setup("Guidance in 2D", "🎯")
st.title("Guidance in 2D")
st.markdown("A Gaussian mixture stays a mixture under noising, so every density, score and "
            "p_t(y|x) below is **exact**. Move the scale and compare the guided samples with the "
            "tilted density they are often said to sample.")

METHODS = {"CG-DDPM (mean shift sΣg)": "cg-ddpm", "CG-DDIM (ε form)": "cg-ddim",
           "CFG (classifier-free, w)": "cfg", "conditional + CG": "cond+cg"}

with st.sidebar:
    source = st.radio("Mixture", ["preset", "upload JSON"], horizontal=True)
    if source == "preset":
        names = toy.preset_names()
        name = st.selectbox("Preset", names, index=names.index("overlapping"))
        mixture_json = toy.preset_json(name)
    else:
        up = st.file_uploader("Mixture file (toy_data format)", type=["json"], max_upload_size=1)
        if up is None:
            st.info("Upload a mixture JSON (format in README) or pick a preset.")
            st.stop()
        with answer_errors():
            mixture_json = Mixture.from_json(up.getvalue()).to_dict()
            import json
            mixture_json = json.dumps(mixture_json)
    mixture = toy.mixture_of(mixture_json)
    label = st.selectbox("Class y", list(range(mixture.num_classes)))
    method_name = st.radio("Method", list(METHODS))
    method = METHODS[method_name]
    kind = st.radio("Models", ["exact", "learned"], horizontal=True,
                    help="exact: closed-form ε and p_t(y|x); learned: small MLPs trained here (~25 s, once)")
    knob = "w" if method == "cfg" else "s"
    scale = st.slider(f"Guidance scale {knob}", toy.SCALE_MIN, toy.SCALE_MAX, 1.0, toy.SCALE_STEP, key="scale")
    steps = st.select_slider("Sampling steps", [10, 25, 50, 100, 250, 1000], value=100)
    n = st.select_slider("Samples", [200, 500, 1000, 2000, 5000], value=1000)
    seed = st.number_input("Seed", 0, 2**31 - 1, 0)
    gradient_at = "x_t"
    if method in ("cg-ddpm", "cond+cg"):
        gradient_at = st.radio("Gradient at", ["x_t", "mu"], horizontal=True,
                               help="x_t: guided-diffusion's code; mu: the paper's derivation")

# the density that guidance tilts towards: p(x) p(y|x)^exponent
exponent = {"cg-ddpm": scale, "cg-ddim": scale, "cfg": 1 + scale, "cond+cg": 1 + scale}[method]
request = SampleRequest(method=method, label=int(label), scale=float(scale), steps=int(steps), n=int(n),
                        seed=int(seed), gradient_at=gradient_at)

with answer_errors():
    if kind == "learned":
        with st.status("Training the small networks on this mixture (once, shared)…", expanded=False) as status:
            bar = st.progress(0.0)
            toy.learned(mixture_json, _progress=lambda d: bar.progress(min(1.0, d["step"] / d["steps"]),
                                                                       text=f"{d['model']} step {d['step']}"))
            status.update(label="Small networks ready", state="complete")
    title = f"{n} samples, {method}, {knob}={scale:g}"
    fig_samples = toy.samples_fig(mixture_json, kind, request, float(exponent), title)
    recorded = [s.t for s in toy.guided_run(mixture_json, kind, request).snapshots]

st.latex(r"\text{tilted: } p_s(x\mid y) \propto p(x)\,p(y\mid x)^{%s}" % f"{exponent:g}"
         + (r"\;=\;p(x\mid y)\,p(y\mid x)^{%s}" % f"{exponent - 1:g}" if method in ("cfg", "cond+cg") else ""))
left, right = st.columns(2)
with left:
    st.plotly_chart(fig_samples, key="samples")
    st.caption("Blue: exact p(x|y). Red dashed: exact p(x)·p(y|x)^s. At s = 1 guided sampling with exact "
               "models draws p(x|y); at s ≠ 1 the samples do not follow the red contours exactly — "
               "the guided reverse process is not the diffusion of the tilted density.")
with right:
    t_pick = st.select_slider("Time scrubber: step t", options=recorded, value=recorded[len(recorded) // 2])
    with answer_errors():
        fig_step = toy.step_fig(mixture_json, kind, request, int(t_pick))
    st.plotly_chart(fig_step, key="step")
    st.caption("Grey: x_t. Black: unguided means μ. Red: the guidance shift (sΣg for the mean-shift form; "
               "the change of the mean for the ε forms), magnified when tiny. Background: exact p_t(y|x).")

st.subheader("From noise to samples")
if st.toggle("Animate the run from noise to samples", value=False, key="animate",
             help="Plotly animation of the first 300 points over the recorded steps"):
    with answer_errors():
        st.plotly_chart(toy.trajectory_fig(mixture_json, kind, request), key="trajectory")

st.subheader(f"What the scale does (same seed, {knob} from 0 to 10)")
scales = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0)
with answer_errors():
    sweep_req = SampleRequest(**{**request.__dict__, "scale": 0.0, "n": min(int(n), 1000), "steps": min(int(steps), 100)})
    st.plotly_chart(toy.sweep_fig(mixture_json, kind, sweep_req, scales, knob), key="sweep")
st.caption("Share: samples whose Bayes class under the exact p(y|x) is y. Spread: standard deviation of the "
           "samples. Larger scales make samples more typical of y and less diverse.")
