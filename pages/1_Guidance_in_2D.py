"""Guidance in 2D: guided samples against the exact densities of a Gaussian mixture."""

import streamlit as st

from ui import toy
from ui.toy import SampleRequest, scale_symbol, tilt_exponent
from ui.common import answer_errors, setup

setup("Guidance in 2D", "🎯")
st.title("Guidance in 2D")
st.markdown("A Gaussian mixture stays a mixture under noising, so every density, score and "
            "p_t(y|x) below is **exact**. Move the scale and compare the guided samples with the "
            "tilted density they are often said to sample.")

METHODS = {"CG-DDPM (mean shift sΣg)": "cg-ddpm", "CG-DDIM (ε form)": "cg-ddim",
           "CFG (classifier-free, w)": "cfg", "conditional + CG": "cond+cg"}
# the scale at which each method's guided score is the score of p_t(x|y) (tilt exponent 1)
EXACT_AT = {"cg-ddpm": 1.0, "cg-ddim": 1.0, "cfg": 0.0, "cond+cg": 0.0}

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
            mixture_json = toy.upload_json(up.getvalue())
    mixture = toy.mixture_of(mixture_json)
    label = st.selectbox("Class y", list(range(mixture.num_classes)))
    method_name = st.radio("Method", list(METHODS))
    method = METHODS[method_name]
    kind = st.radio("Models", ["exact", "learned"], horizontal=True,
                    help="exact: closed-form ε and p_t(y|x); learned: small MLPs trained here (~30 s, once)")
    knob = scale_symbol(method)
    scale = st.slider(f"Guidance scale {knob}", toy.SCALE_MIN, toy.SCALE_MAX, 1.0, toy.SCALE_STEP, key="scale")
    steps = st.select_slider("Sampling steps", [10, 25, 50, 100, 250, 1000], value=100)
    n = st.select_slider("Samples", [200, 500, 1000, 2000, 5000], value=1000)
    seed = st.number_input("Seed", 0, 2**31 - 1, 0)
    gradient_at = "x_t"
    if method in ("cg-ddpm", "cond+cg"):
        gradient_at = st.radio("Gradient at", ["x_t", "mu"], horizontal=True,
                               help="x_t: guided-diffusion's code; mu: the paper's derivation")

exponent = tilt_exponent(method, float(scale))
exact_at = EXACT_AT[method]
request = SampleRequest(method=method, label=int(label), scale=float(scale), steps=int(steps), n=int(n),
                        seed=int(seed), gradient_at=gradient_at)

with answer_errors():
    if kind == "learned":
        with st.status("Training the small networks on this mixture (once per mixture, shared by everyone)…",
                       expanded=True) as status:
            bar = st.progress(0.0, text="starting…")
            toy.learned(mixture_json, _progress=lambda d: bar.progress(
                min(1.0, d["step"] / d["steps"]), text=f"{d['model']} network: step {d['step']} of {d['steps']}"))
            status.update(label="Small networks ready", state="complete", expanded=False)
    title = f"{n} samples, {method}, {knob} = {scale:g}"
    fig_samples = toy.samples_fig(mixture_json, kind, request, float(exponent), title)
    recorded = [s.t for s in toy.guided_run(mixture_json, kind, request).snapshots]

k_text = f"{knob}" if method in ("cg-ddpm", "cg-ddim") else f"1+{knob}"
st.markdown(f"**What the sampler uses.** At every noise level the guided score is the score of "
            f"p_t(x)·p_t(y|x)^k with k = {k_text} = **{exponent:g}** here. Red dashed below: the density "
            f"p(x)·p(y|x)^{exponent:g} of the *data* that this is often said to sample.")
st.latex(r"\nabla_x \log p_t(x) + %s\,\nabla_x \log p_t(y\mid x) \;=\; \nabla_x \log\big[p_t(x)\,p_t(y\mid x)^{%s}\big]"
         % (f"{exponent:g}", f"{exponent:g}"))
left, right = st.columns(2)
with left:
    st.plotly_chart(fig_samples, key="samples")
    exact_case = f"{knob} = {exact_at:g}"
    st.caption(f"Blue: exact p(x|y). Red dashed: exact p(x)·p(y|x)^{exponent:g}. At {exact_case} (k = 1) guided "
               f"sampling with exact models draws p(x|y). At any other {knob} the samples do **not** follow the red "
               "contours: the tilted densities p_t(x)·p_t(y|x)^k at the different noise levels are not the "
               "marginals of one diffusion, so no reverse process that follows their scores ends at the tilted "
               "density of the data (the section *DDPM and DDIM part ways* below measures it).")
with right:
    t_pick = st.select_slider("Time scrubber: step t", options=recorded, value=recorded[len(recorded) // 2])
    with answer_errors():
        fig_step = toy.step_fig(mixture_json, kind, request, int(t_pick))
        med, rel, gain = toy.shift_size(mixture_json, kind, request, int(t_pick))
    st.plotly_chart(fig_step, key="step")
    shift_words = ("the guidance shift sΣg" if method in ("cg-ddpm", "cond+cg")
                   else "the change of the mean that the guided ε makes")
    st.caption(f"Grey: x_t. Black: unguided means μ. Red arrows: {shift_words}"
               + (f", drawn {gain:g}× longer than it is" if gain != 1 else "")
               + ". Background: exact p_t(y|x) at this step.")
    if rel < 1e-3:
        st.info(f"At t = {t_pick} the shift is negligible: its median length is {med:.1g}, "
                f"{rel:.0e} of the plot's width. Guidance does almost nothing at this step"
                + (" (no guidance at all: the scale is 0)." if float(scale) == 0 else
                   " — here p_t(y|x) hardly changes around the points."))

st.subheader("From noise to samples")
if st.toggle("Animate the run from noise to samples", value=False, key="animate",
             help="The first 300 points over the recorded steps; ▶ plays it (0.7 s a step), the slider steps through it"):
    with answer_errors():
        st.plotly_chart(toy.trajectory_fig(mixture_json, kind, request), key="trajectory")

st.subheader(f"What the scale does (same seed, {knob} from 0 to 10)")
scales = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0)
with answer_errors():
    sweep_req = SampleRequest(**{**request.__dict__, "scale": 0.0, "n": min(int(n), 1000), "steps": min(int(steps), 100)})
    st.plotly_chart(toy.sweep_fig(mixture_json, kind, sweep_req, scales, knob, float(scale)), key="sweep")
st.caption(f"Top, share: samples whose Bayes class under the exact p(y|x) is y. Bottom, spread: standard deviation "
           f"of the samples. The dotted line is the sidebar's {knob}. Larger scales make samples more typical of y "
           "and less diverse.")

st.subheader("DDPM and DDIM part ways at s ≠ 1")
st.markdown("The same guided score field drives both samplers: DDPM follows the reverse SDE (ancestral steps "
            "with fresh noise), DDIM at η = 0 the probability-flow ODE. When the scores are those of one "
            "diffusion's marginals (s = 1), both end at the same distribution. At s ≠ 1 they are not, and the "
            "two samplers move mass differently: they disagree with each other and with the tilted density.")
with answer_errors():
    cmp_req = SampleRequest(method="cg-ddpm", label=int(label), scale=0.0, steps=min(int(steps), 100),
                            n=min(int(n), 1000), seed=int(seed))
    sampler_scales = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
    fig_cmp = toy.sampler_fig(mixture_json, kind, cmp_req, sampler_scales,
                              float(scale) if method in ("cg-ddpm", "cg-ddim") else None)
if fig_cmp is None:
    st.info("Class y has one component here, so every sampler puts y's samples in it. Pick the preset "
            "**near_and_far** (class 0: one component next to class 1, one far from it) to see the samplers part.")
else:
    st.plotly_chart(fig_cmp, key="samplers")
    st.caption(f"Share of the guided samples that land in component {toy.far_of(mixture_json, int(label))}, the "
               "component of class y where p(y|x) is highest (the one guidance favours), by classifier guidance "
               "with exact models, against the same share under the exact tilted density p(x)·p(y|x)^s (red "
               "dashed). **What to notice:** the samplers push far more mass into it than the tilted density "
               "has, because guidance acts at high noise, where the components overlap; and DDIM moves more than "
               "DDPM. The reverse SDE is the ODE plus a Langevin step towards the current level's tilted "
               "density p_t(x)·p_t(y|x)^s: that step pulls DDPM part of the way back, the ODE has no such pull.")
