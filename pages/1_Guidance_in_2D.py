"""Guidance in 2D: guided samples against the exact densities of a Gaussian mixture."""

from dataclasses import replace

import streamlit as st

from ui import methods as registry
from ui import toy
from ui.toy import SampleRequest, scale_symbol, tilt_exponent
from ui.common import answer_errors, setup

setup("Guidance in 2D", "🎯")
st.title("Guidance in 2D")
st.markdown(r"A Gaussian mixture stays a mixture under noising: with the **exact** models every density, score and "
            r"$p_t(y\mid x)$ below is exact. Compare the guided samples with the density they are often said to sample.")

# the methods the page offers, in its order (it opens on the first); their labels and names from the registry
METHODS = {registry.label(m): m for m in registry.menu("2d")}
AGAINST, AUTO = registry.contrasts()[0]  # CFG and autoguidance, side by side at one w
NAMES = {m: registry.short(m) for m in METHODS.values()}  # "CG-DDPM"
# Where the page opens: CG-DDPM at s = 3 (k = 3), a scale where guidance visibly moves the samples off p(x|y)
DEFAULT_SCALE = 3.0
# the tilt exponents k at which the guided score is the score of one diffusion's marginals: p(x) and p(x|y)
EXACT_K = (0.0, 1.0)


def _keep_k() -> None:
    """A new method keeps the tilt exponent k of the old one (CG at s = 3 -> CFG at w = 2), and says so."""
    state = st.session_state
    old, new = state.get("_method_shown", next(iter(METHODS.values()))), METHODS[state["method"]]
    old_scale = float(state.get("scale", DEFAULT_SCALE))
    k = tilt_exponent(old, old_scale)
    state["scale"] = toy.scale_for_exponent(new, k)
    state["_k_note"] = (old, old_scale, new, state["scale"])


def _k_note(old: str, old_scale: float, new: str, scale: float) -> str:
    k_old, k_new = tilt_exponent(old, old_scale), tilt_exponent(new, scale)
    was = f"{NAMES[old]} at {scale_symbol(old)} = {old_scale:g}"
    now = f"{NAMES[new]} at {scale_symbol(new)} = {scale:g}"
    if abs(k_old - k_new) < 1e-9:
        return f"{was} → {now}: the same tilt exponent k = {k_new:g}."
    lo, hi = (tilt_exponent(new, v) for v in (toy.SCALE_MIN, toy.SCALE_MAX))
    return (f"{was} had k = {k_old:g}, which {NAMES[new]} cannot reach on this slider (k from {lo:g} to {hi:g}): "
            f"{now}, the nearest, has k = {k_new:g}.")


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
    method_name = st.radio("Method", list(METHODS), key="method", on_change=_keep_k,
                           help="A new method keeps the tilt exponent k: CG at s = 3 becomes CFG at w = 2")
    method = METHODS[method_name]
    kind = st.radio("Models", toy.model_kinds(mixture_json), horizontal=True,
                    help="exact: closed-form ε and p_t(y|x); learned: small MLPs trained here, once per mixture; "
                         "trained here: what you trained on the Training page")
    sampler = st.radio("Sampler", registry.samplers(method), key=f"sampler_{method}",
                       format_func=registry.SAMPLER_NAMES.get, horizontal=True,
                       disabled=len(registry.samplers(method)) == 1, help=registry.SAMPLER_HELP)
    steps = st.select_slider("Sampling steps", [5, 10, 25, 50, 100, 250, 1000], value=100)
    n = st.select_slider("Samples", [200, 500, 1000, 2000, 5000], value=1000)
    seed = st.number_input("Seed", 0, 2**31 - 1, 0)
    gradient_at = "x_t"
    if registry.mean_shift(method):
        gradient_at = st.radio("Gradient at", ["x_t", "mu"], horizontal=True,
                               help="x_t: guided-diffusion's code; mu: the paper's derivation")
    window = st.slider("Guide only for t in", 0, 999, (0, 999), 1, key="interval",
                       help="training timesteps t (999: pure noise, 0: data); 0–999 is plain guidance "
                            "(limited-interval guidance, Kynkäänniemi et al. 2024)")
st.session_state["_method_shown"] = method
knob = scale_symbol(method)
st.session_state.setdefault("scale", DEFAULT_SCALE)

left, right = st.columns(2)
with left:
    # the scale slider beside the figure it moves (not at the bottom of the sidebar)
    # the slider's position, read once: the chunk of slider values sampled together is keyed by it
    slot = toy.slider_index(st.slider(f"Guidance scale {knob}", toy.SCALE_MIN, toy.SCALE_MAX, step=toy.SCALE_STEP,
                                      key="scale"))
    scale = toy.SLIDER[slot]
    exponent = tilt_exponent(method, scale)
    note = st.session_state.pop("_k_note", None)
    if note is not None and note[0] != method:
        st.info(_k_note(*note))
    k_text = registry.tilt_text(method)
    st.caption(f"Tilt exponent $k = {k_text} = {exponent:g}$")

interval = None if tuple(window) == (0, 999) else (int(window[0]), int(window[1]))
# the shown run is one of a batch: the slider values next to this one (toy.slider_chunk), validated here, once
request = SampleRequest(method=method, label=int(label), scales=toy.slider_chunk(slot, int(n), kind), steps=int(steps),
                        n=int(n), seed=int(seed), gradient_at=gradient_at, interval=interval, sampler=sampler)
shown = request.at_scales((scale,))  # the shown run alone, for the sections below that vary its settings

with answer_errors():
    if kind == "learned":
        with st.status("Training the small networks on this mixture (once per mixture, shared by everyone)…",
                       expanded=True) as status:
            bar = st.progress(0.0, text="starting…")
            toy.learned(mixture_json, _progress=lambda d: bar.progress(
                min(1.0, d["step"] / d["steps"]), text=f"{d['model']} network: step {d['step']} of {d['steps']}"))
            status.update(label="Small networks ready", state="complete", expanded=False)
    title = f"{n} samples, {NAMES[method]}, {knob} = {scale:g}" + (
        f", {registry.SAMPLER_NAMES[sampler]} {steps} steps" if sampler != registry.default_sampler(method) else "")
    run = toy.guided_runs(mixture_json, kind, request)[scale]
    recorded = [s.t for s in run.snapshots]
    fig_samples = toy.samples_fig(mixture_json, kind, request, float(exponent), title, at=scale)
    d2, floor, m_used = toy.distance_to_tilted(mixture_json, kind, request, float(exponent), at=scale)

with left:
    st.plotly_chart(fig_samples, key="samples")
    exact_at = [f"${knob} = {toy.scale_for_exponent(method, k):g}$ ($k = {k:g}$)" for k in EXACT_K
                if tilt_exponent(method, toy.scale_for_exponent(method, k)) == k]
    measured = (rf"These samples against exact samples of the red dashed density: $D^2 = {d2:.2g}$, "
                rf"{d2 / floor:.{0 if d2 >= 10 * floor else 1}f}× the noise floor {floor:.1g} of two exact sets"
                + (f" (the first {m_used} samples)" if m_used < int(n) else "") + ".")
    if exponent in EXACT_K:
        why = (rf"At $k = {exponent:g}$ the guided score is the score of one diffusion's marginals "
               + (r"($p(x|y)$)" if exponent == 1 else r"($p(x)$)")
               + f", so with exact models the sampler draws that density up to its discretisation error, which "
                 f"shrinks as the steps grow (here {steps} steps). ")
    else:
        why = ("At this $k$ the tilted densities $p_t(x)\\,p_t(y\\mid x)^k$ at the different noise levels are not "
               "the marginals of one diffusion, so a sampler that follows their scores need not end at the tilted "
               "density of the data, however many steps it takes (the Langevin corrector below moves it closer). "
               + "Exact only at " + " and ".join(exact_at) + ". ")
    st.caption(rf"Blue: exact $p(x\mid y)$. Red dashed: exact $p(x)\,p(y\mid x)^{{{exponent:g}}}$. " + why + measured)
with right:
    t_pick = st.select_slider("Time scrubber: step t", options=recorded, value=recorded[len(recorded) // 2])
    with answer_errors():
        fig_step = toy.step_fig(mixture_json, kind, request, int(t_pick), at=scale)
        med, rel, gain = toy.shift_size(mixture_json, kind, request, int(t_pick), at=scale)
    st.plotly_chart(fig_step, key="step")
    shift_words = (r"the guidance shift $s\,\Sigma\,\nabla_x\log p_t(y\mid x)$" if registry.mean_shift(method)
                   else r"the change of the mean that the guided $\hat\varepsilon$ makes")
    st.caption(f"Grey: $x_t$. Black: unguided means $\\mu$. Red arrows: {shift_words}"
               + (f", drawn {gain:g}× longer than it is" if gain != 1 else "")
               + r". Background: exact $p_t(y\mid x)$ at this step.")
    if rel < 1e-3:
        st.info(f"At $t = {t_pick}$ the shift is negligible: its median length is {med:.1g}, "
                f"{rel:.0e} of the plot's width. Guidance does almost nothing at this step"
                + (" (no guidance at all: the scale is 0)." if float(scale) == 0 else
                   r" — here $p_t(y\mid x)$ hardly changes around the points."))

st.markdown(f"**What the sampler uses.** At every noise level the guided score is the score of "
            rf"$p_t(x)\,p_t(y\mid x)^k$, here with $k = {k_text} = {exponent:g}$ (with exact models exactly, with "
            "learned ones as far as they are right):")
st.latex(r"\nabla_x \log p_t(x) + %s\,\nabla_x \log p_t(y\mid x) \;=\; \nabla_x \log\big[p_t(x)\,p_t(y\mid x)^{%s}\big]"
         % (f"{exponent:g}", f"{exponent:g}"))

st.subheader("From noise to samples")
if st.toggle("Animate the run from noise to samples", value=False, key="animate",
             help="The first 300 points over the recorded steps; ▶ plays it (0.7 s a step), the slider steps through it"):
    with answer_errors():
        st.plotly_chart(toy.trajectory_fig(mixture_json, kind, request, at=scale), key="trajectory")

st.subheader(f"What the scale does (same seed, {knob} from 0 to 10)")
scales = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0)
with answer_errors():
    sweep_req = replace(request, scales=scales, n=min(int(n), 1000), steps=min(int(steps), 100))
    st.plotly_chart(toy.sweep_fig(mixture_json, kind, sweep_req, knob, scale), key="sweep")
    sweep_pts = toy.sweep(mixture_json, kind, sweep_req)
first, last = sweep_pts[0], sweep_pts[-1]
st.caption(rf"Top, share: samples whose Bayes class under the exact $p(y\mid x)$ is $y$. Bottom, spread: standard "
           f"deviation of the samples. The dotted line is the slider's {knob}. Here, from {knob} = {first.scale:g} "
           f"to {knob} = {last.scale:g} ({sweep_req.n} samples, {sweep_req.steps} steps), the share of class "
           f"{label} goes from {first.share_y:.0%} to {last.share_y:.0%} and the spread from {first.spread:.2f} "
           f"to {last.spread:.2f}.")

st.subheader("DDPM and DDIM part ways at s ≠ 0, 1")
st.markdown(r"The same guided score field drives both classifier-guided samplers, in two forms: CG-DDPM moves the "
            r"mean of each ancestral step by $s\,\Sigma\,\nabla_x\log p_t(y\mid x)$ (Algorithm 1, the reverse SDE with "
            r"fresh noise), CG-DDIM puts the gradient into $\hat\varepsilon$ (Algorithm 2; at $\eta = 0$ the "
            r"probability-flow ODE). At $s = 0$ and $s = 1$ the scores are those of one diffusion's marginals, so "
            r"both samplers approach the same density as the steps grow; at a finite number of steps each carries "
            r"its own discretisation error. At other $s$ they need not agree with each other or with the tilted "
            r"density.")
if st.toggle("Show DDPM against DDIM", value=False, key="show_samplers"):
    with answer_errors():
        sampler_scales = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
        cmp_req = SampleRequest(method=registry.cg_on("ddpm"), label=int(label), scales=sampler_scales,
                                steps=min(int(steps), 100), n=min(int(n), 1000), seed=int(seed))
        # the slider's scale is this figure's s when the method's k is classifier guidance's at it (CG-DDPM, CG-DDIM)
        cg_now = float(scale) if tilt_exponent(method, scale) == tilt_exponent(cmp_req.method, scale) else None
        fig_cmp = toy.sampler_fig(mixture_json, kind, cmp_req, cg_now)
        pts = {p.scale: p for p in toy.sampler_points(mixture_json, kind, cmp_req)}
    if fig_cmp is None:
        st.info("Class y has one component here, so every sampler puts y's samples in it. Pick the preset "
                "**near_and_far** (class 0: one component next to class 1, one far from it) to see the samplers part.")
    else:
        st.plotly_chart(fig_cmp, key="samplers")
        far = toy.far_of(mixture_json, int(label))
        at = cg_now if cg_now in pts and cg_now not in (0.0, 1.0) else 3.0
        here, one = pts[at], pts[1.0]
        more = here.far_ddpm > here.far_tilted and here.far_ddim > here.far_tilted
        st.caption(rf"Share of class {label}'s guided samples in component {far}, the component where $p(y\mid x)$ "
                   rf"is highest (the one guidance favours), exact models, {cmp_req.n} samples, {cmp_req.steps} steps; "
                   rf"red dashed: the same share under the exact tilted density $p(x)\,p(y\mid x)^s$. "
                   f"**Here**, at s = {at:g}: CG-DDPM {here.far_ddpm:.0%}, CG-DDIM {here.far_ddim:.0%}, the tilted "
                   f"density {here.far_tilted:.0%}; at s = 1: {one.far_ddpm:.0%}, {one.far_ddim:.0%} and "
                   f"{one.far_tilted:.0%}. "
                   + ("Both samplers push more mass into the favoured component than the tilted density has: "
                      "guidance acts while the noised components still overlap (the next section shows at which "
                      "noise levels). " if more else "")
                   + "The two differ in the step's form as well as in SDE against ODE, so the gap between them is "
                     "not the ODE's alone.")

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
            req = replace(shown, interval=(lo, hi))
            half.append(toy.samples_fig(mixture_json, kind, req, float(exponent),
                                        f"{NAMES[method]}, {knob} = {scale:g}, {words}"))
            shares.append(toy.component_shares(mixture_json, kind, req))
        # guided at every t: the run shown above when the sidebar guides at every t (not a second run of it)
        every = dict(request=request, at=scale) if interval is None else dict(request=replace(shown, interval=None))
        shares.append(toy.component_shares(mixture_json, kind, **every))
    c_hi, c_lo = st.columns(2)
    c_hi.plotly_chart(half[0], key="interval_high")
    c_lo.plotly_chart(half[1], key="interval_low")
    st.dataframe({"guided at": ["t ≥ 200", "t < 200", "every t"],
                  **{f"component {k} (class {c})": [f"{row[k]:.0%}" for row in shares]
                     for k, c in enumerate(mixture.labels.tolist())}}, hide_index=True)
    own = [k for k, c in enumerate(mixture.labels.tolist()) if c == int(label)]
    top = max(own, key=lambda k: shares[2][k])  # class y's component that guidance at every t fills most
    hi_s, lo_s, all_s = (row[top] for row in shares)
    st.caption(f"Share of all samples nearest to each component. **Here**, component {top}: guided only at t ≥ 200 "
               f"{hi_s:.0%}, only at t < 200 {lo_s:.0%}, at every t {all_s:.0%}. "
               + ("Guidance at t ≥ 200 alone does about what guidance at every t does: the last 20% of the steps "
                  "need none. " if abs(hi_s - all_s) <= 0.05 else "")
               + ("Guidance only at t < 200 comes too late to move the samples there. "
                  if all_s - lo_s >= 0.2 else ""))

st.subheader("Autoguidance: sharpen with a worse model instead of a classifier")
st.markdown(r"Karras et al. (2024) guide a model with a weaker model of the *same* task, written with CFG's $w$, "
            r"so $w = 0$ is the good model alone: "
            r"$\tilde\varepsilon(x_t, y) = \varepsilon_{\mathrm{weak}}(x_t, y) + (1+w)\,\big(\varepsilon(x_t, y) - "
            r"\varepsilon_{\mathrm{weak}}(x_t, y)\big)$. Here the good model is exact and the weak one is the exact "
            r"model of the same mixture with every covariance doubled, an exactly known stand-in for an underfit "
            r"network, which spreads its mass too wide. Exact models only.")
if st.toggle("Show CFG against autoguidance", value=False, key="show_autoguidance"):
    w_cmp = st.select_slider("w for the comparison", [0.0, 0.5, 1.0, 2.0, 3.0, 5.0], value=2.0,
                             key="w_autoguidance")
    with answer_errors():
        base = SampleRequest(method=AGAINST, label=int(label), scale=float(w_cmp), steps=min(int(steps), 100),
                             n=min(int(n), 1000), seed=int(seed))
        c_cfg, c_ag = st.columns(2)
        c_cfg.plotly_chart(toy.samples_fig(mixture_json, "exact", base, toy.held_against(AGAINST, float(w_cmp)),
                                           f"CFG, w = {w_cmp:g}"),
                           key="cmp_cfg")
        ag = replace(base, method=AUTO)
        c_ag.plotly_chart(toy.samples_fig(mixture_json, "exact", ag, toy.held_against(AUTO, float(w_cmp)),
                                          f"autoguidance, w = {w_cmp:g}"),
                          key="cmp_ag")
        cmp_base = base.at_scales((0.0, 0.5, 1.0, 2.0, 3.0, 5.0))
        st.plotly_chart(toy.compare_fig(mixture_json, cmp_base, (AGAINST, AUTO), float(w_cmp)), key="compare")
        cmp = {(p.method, p.scale): p for p in toy.compare_points(mixture_json, cmp_base, (AGAINST, AUTO))}
    c0, cw, aw = cmp[(AGAINST, 0.0)], cmp[(AGAINST, float(w_cmp))], cmp[(AUTO, float(w_cmp))]
    far_cmp = c0.far_share is not None
    what = "in the far component" if far_cmp else f"of class {label}"

    def share(p):
        return p.far_share if far_cmp else p.share_y

    st.caption(rf"Left, CFG: the red dashed density is $p(x)\,p(y\mid x)^{{1+w}}$. Right, autoguidance: its samples "
               rf"are held against $p(x\mid y)$ (red = blue there). CFG's guided score tilts by $p(y\mid x)^{{1+w}}$, "
               rf"away from the other class; autoguidance's has no $p(y\mid x)$ in it, only the difference to the "
               rf"weak model. **Here**, at w = {w_cmp:g}: the share {what} is {share(cw):.0%} for CFG and "
               rf"{share(aw):.0%} for autoguidance, against {share(c0):.0%} at w = 0 (the good model alone); "
               rf"$D^2$ to exact samples of $p(x\mid y)$: CFG {cw.to_conditional:.2g}, autoguidance "
               rf"{aw.to_conditional:.2g} (w = 0: {c0.to_conditional:.2g}).")

st.subheader("Langevin corrector steps: moving the samples toward the tilted density")
st.markdown(r"After each step, $K$ Langevin steps $x \leftarrow x + \delta\,\nabla_x \log\big[p_t(x)\,p_t(y\mid x)^k\big]"
            r" + \sqrt{2\delta}\,z$ with $\delta = r\,(1 - \bar\alpha_t)$ move the samples toward "
            r"$p_t(x)\,p_t(y\mid x)^k$ itself (predictor–corrector; Bradley & Nakkiran 2024). With a finite step "
            r"$\delta$ they reach it only as $K \to \infty$ and $\delta \to 0$. $K = 0$ is the sampler above. "
            r"Exact models.")
if st.toggle("Show the corrector", value=False, key="show_corrector"):
    cc1, cc2 = st.columns(2)
    k_corr = cc1.select_slider("Corrector steps K", [0, 1, 2, 5, 10, 20], value=5, key="corrector_k")
    size = cc2.select_slider("Corrector size r = δ / (1 − ᾱ_t)", [0.1, 0.25, 0.5], value=0.5, key="corrector_size")
    with answer_errors():
        corr = replace(shown, steps=min(int(steps), 100), n=min(int(n), 1000), corrector_steps=int(k_corr),
                       corrector_size=float(size))
        plain = replace(corr, corrector_steps=0)
        left_c, right_c = st.columns(2)
        left_c.plotly_chart(toy.samples_fig(mixture_json, "exact", corr, float(exponent),
                                            f"{NAMES[method]}, {knob} = {scale:g}, K = {k_corr}"), key="corrector_samples")
        right_c.plotly_chart(toy.samples_fig(mixture_json, "exact", plain, float(exponent),
                                             f"{NAMES[method]}, {knob} = {scale:g}, K = 0 (the plain sampler)"),
                             key="corrector_plain")
        measured_k = st.toggle("Measure K = 0…20 against exact samples of the tilted density (a few seconds)",
                               key="corrector_measure")
        if measured_k:
            ks = (0, 1, 2, 5, 10, 20)
            st.plotly_chart(toy.corrector_fig(mixture_json, plain, ks), key="corrector_curve")
            cps = toy.corrector_points(mixture_json, plain, ks)
    if measured_k:
        c_first, c_last = cps[0], cps[-1]
        st.caption(f"**Here**: $D^2$ to exact samples of the tilted density is {c_first.to_tilted:.2g} at K = 0 and "
                   f"{c_last.to_tilted:.2g} at K = {c_last.steps} (noise floor {c_last.noise_floor:.1g})"
                   + (f"; the far component holds {c_first.far_share:.0%} of the samples at K = 0 and "
                      f"{c_last.far_share:.0%} at K = {c_last.steps}" if c_first.far_share is not None else "")
                   + ".")
    else:
        st.caption("**What to look for:** whether the samples settle onto the red dashed contours as K grows, and "
                   "whether the mass between well-separated components moves. The measurement above puts numbers "
                   "on both.")

st.subheader("Sampling p(x)·p(y|x)^k for real: rejection and sequential Monte Carlo", anchor="sampling-for-real")
st.markdown(r"None of the samplers above is built to draw $p(x)\,p(y\mid x)^k$ at $k \ne 0, 1$ (the corrector "
            r"only as $K \to \infty$, $\delta \to 0$). Two ways that are built for it. "
            r"**Rejection**: draw $x \sim p(x)$ and keep it with probability $p(y\mid x)^k$ (at most 1 for $k \ge 0$). "
            r"Exact, at $1/Z_k$ draws per kept sample, $Z_k = \mathbb{E}_{p}\big[p(y\mid x)^k\big]$; with a diffusion "
            r"model every draw of $p(x)$ is a whole sampling run. **Sequential Monte Carlo (SMC)**: run the guided "
            r"sampler on many particles at once, weight each by how much more or less the tilted densities "
            r"$p_t(x)\,p_t(y\mid x)^k$ want it there than the sampler put it, resample when the weights grow uneven, "
            r"and move the copies with Metropolis-adjusted Langevin steps. With exact 2D densities the weights are "
            r"exact; the **Feynman–Kac** weights (Skreta et al. 2025) need only what the networks give, the "
            r"classifier gradient $g = \nabla_x \log p_t(y\mid x)$ (for CFG, $g = -(\varepsilon(x_t, y) - "
            r"\varepsilon(x_t))/\sqrt{1-\bar\alpha_t}$):")
st.latex(r"d \log w \;=\; \frac{k\,(k-1)}{2}\;\beta(t)\;\big\lVert \nabla_x \log p_t(y\mid x)\big\rVert^2\,dt")
st.caption("Flat at k = 0 and k = 1, where the tilted densities are one diffusion's marginals; for k > 1 it favours "
           "particles where the classifier is steep, near the other class. Derivation: cgd/toy/smc.py.")
st.markdown(r"**Which intermediate densities.** SMC may pass through any densities that end at the target. The "
            r"*guided* path uses $p_t(x)\,p_t(y\mid x)^k$ at every noise level, with the weights above. The "
            r"*tempered* path runs the exact diffusion of $p(x\mid y)$ ($k = 1$; of $p(x)$ for $k < 1$), whose "
            r"weights stay flat, and reaches $k$ at the data: weights $p(y\mid x)^{\Delta k}$ in steps that keep "
            r"them even, each followed by MALA moves. On the guided path a component next to another class can hold "
            r"little of the mass at middle noise and much of it at the data, so the few particles that pass the "
            r"squeeze decide its share; docs/results.md measures both paths.")
if st.toggle(f"Run the five samplers at k = {exponent:g} (exact models, 1000 samples, 100 steps; computed once "
             "per setting, and the first time takes a while)",
             value=False, key="show_smc"):
    from ui import smc

    smc_path = st.radio("SMC's path", list(smc.PATH_NAMES), format_func=smc.PATH_NAMES.get, horizontal=True,
                        key="smc_path")
    smc_args = (mixture_json, int(label), float(exponent), int(seed), smc_path)
    with answer_errors(), st.spinner("Sampling five ways and measuring each against exact samples…"):
        smc_samples = smc.samples_fig(*smc_args)
        smc_trace = smc.trace_fig(*smc_args)
        smc_table = smc.table(*smc_args)
        smc_text = smc.summary(*smc_args)
    st.plotly_chart(smc_samples, key="smc_samples")
    st.dataframe(smc_table, hide_index=True)
    st.caption(smc_text)
    st.plotly_chart(smc_trace, key="smc_trace")
    st.caption("Left: the effective sample size (ESS) before each step, as a share of the particles; SMC resamples "
               "when it falls under half. Right: the share of the starting particles that still have descendants. "
               "The ESS only measures the weights of the particles at hand; the ancestors show how many lineages "
               "are left." + (" On the tempered path the last steps are the tempering steps at the data." if
                              smc_path == "tempered" else ""))

st.subheader("Guidance zoo: every method at one matched setting", anchor="guidance-zoo")
from ui import zoo as ui_zoo  # noqa: E402 - the section's own module, like ui.smc above

ui_zoo.section(mixture_json, int(label), int(seed))

with st.expander("About these models"):
    st.markdown("**Exact**: the mixture's closed-form ε and $p_t(y\\mid x)$ at every noise level (linear schedule, "
                "T = 1000). **Learned**: small MLPs (an ε-network and a noisy classifier) trained on the mixture the "
                "first time someone asks for them (that request waits), then shared by everyone. The scale slider's "
                "neighbouring values are sampled in one batch with the same noise, so moving it is quick. "
                "$D^2$ is the squared energy distance; its noise floor is the distance between two independent "
                "exact sample sets of the same size.")
