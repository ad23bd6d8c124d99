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
    window = st.slider("Guide only for t in", 0, 999, (0, 999), 1, key="interval",
                       help="training timesteps t (999: pure noise, 0: data); 0–999 is plain guidance "
                            "(limited-interval guidance, Kynkäänniemi et al. 2024)")

exponent = tilt_exponent(method, float(scale))
exact_at = EXACT_AT[method]
interval = None if tuple(window) == (0, 999) else (int(window[0]), int(window[1]))
request = SampleRequest(method=method, label=int(label), scale=float(scale), steps=int(steps), n=int(n),
                        seed=int(seed), gradient_at=gradient_at, interval=interval)

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
if st.toggle("Show DDPM against DDIM", value=False, key="show_samplers"):
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
                   "has, because guidance acts while the noised components still overlap (t ≈ 200–700 here: see the "
                   "interval section below); and DDIM moves more than "
                   "DDPM. The reverse SDE is the ODE plus a Langevin step towards the current level's tilted "
                   "density p_t(x)·p_t(y|x)^s: that step pulls DDPM part of the way back, the ODE has no such pull.")

st.subheader("Is guidance needed at every step? Guidance in a limited interval")
st.markdown(f"Kynkäänniemi et al. (2024) guide only in a window of noise levels. The sidebar's *Guide only for t "
            f"in* sets the window of every plot above; here the same {knob} and seed, guided only at t ≥ 200 (high "
            "and middle noise) and only at t < 200 (low noise).")
# The three sections below cost several sampling runs each: drawn on demand, so that a class moving the
# scale slider pays only for the plots above (bench/load.py measured the page without them).
if st.toggle("Show guidance in two windows", value=False, key="show_interval"):
    with answer_errors():
        half, shares = [], []
        for lo, hi, words in ((200, 999, "only t ≥ 200"), (0, 199, "only t < 200")):
            req = SampleRequest(**{**request.__dict__, "interval": (lo, hi)})
            half.append(toy.samples_fig(mixture_json, kind, req, float(exponent),
                                        f"{method}, {knob} = {scale:g}, {words}"))
            shares.append(toy.component_shares(mixture_json, kind, req))
        shares.append(toy.component_shares(mixture_json, kind, SampleRequest(**{**request.__dict__, "interval": None})))
    c_hi, c_lo = st.columns(2)
    c_hi.plotly_chart(half[0], key="interval_high")
    c_lo.plotly_chart(half[1], key="interval_low")
    st.dataframe({"guided at": ["t ≥ 200", "t < 200", "every t"],
                  **{f"component {k} (class {c})": [f"{row[k]:.0%}" for row in shares]
                     for k, c in enumerate(mixture.labels.tolist())}}, hide_index=True)
    st.caption("Share of all samples nearest to each component. **What to notice** (near_and_far, class 0, s = 3): "
               "guidance at t ≥ 200 alone gives what guidance at every step gives, so the last 20% of the steps "
               "need none; guidance only at t < 200 comes too late to move samples to the far component. On this "
               "schedule the steps above t ≈ 700 are so noisy that guidance there alone changes almost nothing "
               "(docs/results.md).")

st.subheader("Autoguidance: sharpen with a worse model instead of a classifier")
st.markdown("Karras et al. (2024) guide a model with a weaker model of the *same* task: "
            "ε = ε_bad + (1+w)·(ε_good − ε_bad), written with CFG's w, so w = 0 is the good model alone. Here "
            "the good model is exact and the weak one is the exact model of the same mixture with every "
            "covariance doubled, an exactly known stand-in for an underfit network, which spreads its mass "
            "too wide. Exact models only.")
if st.toggle("Show CFG against autoguidance", value=False, key="show_autoguidance"):
    w_cmp = st.select_slider("w for the comparison", [0.0, 0.5, 1.0, 2.0, 3.0, 5.0], value=2.0,
                             key="w_autoguidance")
    with answer_errors():
        base = SampleRequest(method="cfg", label=int(label), scale=float(w_cmp), steps=min(int(steps), 100),
                             n=min(int(n), 1000), seed=int(seed))
        c_cfg, c_ag = st.columns(2)
        c_cfg.plotly_chart(toy.samples_fig(mixture_json, "exact", base, toy.held_against("cfg", float(w_cmp)),
                                           f"CFG, w = {w_cmp:g}"),
                           key="cmp_cfg")
        ag = SampleRequest(**{**base.__dict__, "method": "autoguidance"})
        c_ag.plotly_chart(toy.samples_fig(mixture_json, "exact", ag, toy.held_against("autoguidance", float(w_cmp)),
                                          f"autoguidance, w = {w_cmp:g}"),
                          key="cmp_ag")
        st.plotly_chart(toy.compare_fig(mixture_json, SampleRequest(**{**base.__dict__, "scale": 0.0}),
                                        ("cfg", "autoguidance"), (0.0, 0.5, 1.0, 2.0, 3.0, 5.0), float(w_cmp)),
                        key="compare")
    st.caption("Left, CFG: the red dashed density is p(x)·p(y|x)^(1+w). Right, autoguidance: its samples are held "
               "against p(x|y) (red = blue there). **What to notice:** CFG moves mass *between* components, away "
               "from the other class, and its distance to p(x|y) grows fast; autoguidance keeps every component's "
               "share (its guided score has no p(y|x) in it, only where the weak model is too broad) and only "
               "tightens each component, so it loses far less of p(x|y) at the same w.")

st.subheader("A sampler that does sample the tilted density: Langevin corrector steps")
st.markdown("After each step, K Langevin steps x ← x + δ·score + √(2δ)·z with the guided score at that level "
            "(δ = size·(1 − ᾱ_t)) pull the samples towards p_t(x)·p_t(y|x)^k itself (predictor–corrector; "
            "Bradley & Nakkiran 2024). K = 0 is the sampler above. Exact models.")
if st.toggle("Show the corrector", value=False, key="show_corrector"):
    cc1, cc2 = st.columns(2)
    k_corr = cc1.select_slider("Corrector steps K", [0, 1, 2, 5, 10, 20], value=5, key="corrector_k")
    size = cc2.select_slider("Corrector size (δ / (1 − ᾱ_t))", [0.1, 0.25, 0.5], value=0.5, key="corrector_size")
    with answer_errors():
        corr = SampleRequest(**{**request.__dict__, "steps": min(int(steps), 100), "n": min(int(n), 1000),
                                "corrector_steps": int(k_corr), "corrector_size": float(size)})
        plain = SampleRequest(**{**corr.__dict__, "corrector_steps": 0})
        left_c, right_c = st.columns(2)
        left_c.plotly_chart(toy.samples_fig(mixture_json, "exact", corr, float(exponent),
                                            f"{method}, {knob} = {scale:g}, K = {k_corr}"), key="corrector_samples")
        right_c.plotly_chart(toy.samples_fig(mixture_json, "exact", plain, float(exponent),
                                             f"{method}, {knob} = {scale:g}, K = 0 (the plain sampler)"),
                             key="corrector_plain")
        if st.toggle("Measure K = 0…20 against exact samples of the tilted density (a few seconds)",
                     key="corrector_measure"):
            st.plotly_chart(toy.corrector_fig(mixture_json, plain, (0, 1, 2, 5, 10, 20)), key="corrector_curve")
    st.caption("**What to notice:** as K grows the samples settle onto the red dashed contours and the distance "
               "to exact samples of the tilted density falls towards the noise floor. What is slowest to fix is "
               "the mass *between* well-separated components (the far component's share): Langevin steps rarely "
               "cross the gap between them.")
