"""Image generation: every guidance method on the trained MNIST / Fashion-MNIST models, looked up in the scale
atlas (:func:`atlas_mode`) or sampled live (:func:`live_mode`)."""

from dataclasses import replace

import numpy as np
import streamlit as st

from ui import atlas as ui_atlas
from ui import images
from ui import methods as registry
from ui.images import SampleRequest, by_scale, image_grid, scale_symbol, tilt_exponent
from ui.common import answer_errors, setup

setup("Image generation", "🖼️")
st.title("Image generation")

available = images.datasets()
if not available:
    st.error("No trained image models found. Train them with `bash checkpoints/train.sh mnist` "
             "(data first: `python -m cgd.data fetch mnist`).")
    st.stop()

# the methods the page offers, in its order, and the one it opens on; their labels from the registry
METHODS = {registry.label(m): m for m in registry.menu("images")}
OPENS_ON = registry.label(registry.opens_on("images"))


def _reset_scale():
    """A new method starts at its own recommended scale (never CFG at the s = 8 of CG-DDIM)."""
    state = st.session_state
    state["scale"] = images.recommended_scale(state["dataset"], METHODS[state["method"]])


def _reset_scales():
    """Another dataset: every slider goes back to that dataset's recommended scales."""
    for key in [k for k in st.session_state if k == "scale" or str(k).startswith("atlas_scale_")]:
        del st.session_state[key]


def _tilt_words(method: str, scale: float) -> str:
    """The tilt exponent of a guided method at a scale, in words and LaTeX."""
    k = tilt_exponent(method, scale)
    return (rf"Tilt exponent $k = {k:g}$: with exact networks the guided score is that of "
            rf"$p_t(x)\,p_t(y\mid x)^{{{k:g}}}$.")


def _class_option(classes):
    """How a Class box names option k: MNIST's "3" (its class names are its digits), else "0: T-shirt/top"."""
    return lambda k: classes[k] if classes[k] == str(k) else f"{k}: {classes[k]}"


SOURCES = ("Scale atlas (instant)", "Live sampling")


def atlas_mode(dataset: str, atlas) -> None:
    """The scale atlas: images sampled ahead of time at every scale of a grid, looked up as the slider moves."""
    classes = images.classes(dataset)
    guided_names = [k for k, v in METHODS.items() if v in atlas.config.methods]
    with st.sidebar:
        method_name = st.radio("Method", guided_names, index=guided_names.index(OPENS_ON)
                               if OPENS_ON in guided_names else 0, key="atlas_method")
        method = METHODS[method_name]
        # one key per dataset: a kept key would keep showing the last dataset's class names (Streamlit does not
        # redraw a selectbox's shown value when only its format_func changes)
        label = st.selectbox("Class", list(range(len(classes))), key=f"atlas_label_{dataset}",
                             format_func=_class_option(classes))
        knob = scale_symbol(method)
        grid = atlas.scales(method)
        recommended = images.recommended_scale(dataset, method)
        default = recommended if recommended in grid else grid[len(grid) // 2]
        scale = st.select_slider(f"Guidance scale {knob}", options=grid, value=default, key=f"atlas_scale_{method}",
                                 format_func=lambda v: f"{v:g}",
                                 help=f"recommended for this method: {knob} = {recommended:g}; "
                                      f"the atlas holds {len(grid)} values from 0 to {grid[-1]:g}")
    cfg = atlas.config
    eq, words = registry.equation(method)
    st.latex(eq)
    if scale == 0:
        tilt = f"At {knob} = 0 this is {registry.zero_means(method)}, unguided."
    elif not registry.has_tilt(method):
        tilt = ""  # no power of p(y|x): the words above say so
    else:
        tilt = _tilt_words(method, scale)
    st.markdown(f"{words} {tilt}")
    st.info(f"**Scale atlas**: {cfg.n} images per class and scale, sampled ahead of time with the same starting "
            f"noise and step noise at every scale. Moving the slider only looks them up. For other steps, seeds, "
            f"image counts or scales, choose **Live sampling** in the sidebar.")
    with st.expander("About these models"):
        st.markdown(f"The atlas was made by `{atlas.record['command']}`: {cfg.steps} sampling steps, seed "
                    f"{cfg.seed}, {cfg.n} images per class and scale, x̂₀ kept for {cfg.trajectory_seeds} of them. "
                    f"The judge is a classifier of clean images trained apart from the guiding classifier; it "
                    f"never guides sampling.")
    st.markdown(f"**{method_name}** on {dataset}, class **{classes[label]}**, {knob} = {scale:g}.")
    cell = atlas.cell(method, label, scale)
    left, right = st.columns([1, 1.25])
    with left:
        st.image(ui_atlas.images_png(dataset, method, label, scale),
                 caption=f"{cfg.n} samples at {knob} = {scale:g} (the same seeds at every {knob})")
        judge = cell["judge"].astype(float)
        c1, c2 = st.columns(2)
        c1.metric("judge: read as the asked class", f"{(judge > 0.5).mean():.0%}",
                  help="the judge is a classifier of clean images that never guides sampling")
        c2.metric("judge: mean p(y|x₀)", f"{judge.mean():.2f}")
    with right:
        st.plotly_chart(ui_atlas.judge_figure(dataset, method, label, classes[label], knob, scale),
                        key="atlas_judge", config={"displayModeBar": False})
        st.caption(f"Solid: the share of this class's {cfg.n} images the judge reads as {classes[label]}; dashed: "
                   f"its mean confidence; dotted: the share over every class's images. The dotted line is the "
                   f"slider's {knob}.")

    st.subheader("Watch x̂₀ form")
    frames = cfg.frame_steps()
    t1, t2 = st.columns([1, 3])
    with t1:
        seed = st.radio("Seed", list(range(cfg.trajectory_seeds)), horizontal=True, key="atlas_traj_seed",
                        format_func=lambda j: f"image {j + 1}")
        step_no = st.select_slider("Step", [i + 1 for i in frames], value=frames[-1] + 1, key="atlas_frame",
                                   help="the model's prediction of the clean image, x̂₀, at this sampling step "
                                        f"(the atlas keeps it at steps {', '.join(str(i + 1) for i in frames)})")
        frame = frames.index(step_no - 1)
        st.image(ui_atlas.frame_png(dataset, method, label, scale, seed, frame),
                 caption=f"x̂₀ at {ui_atlas.frame_label(atlas, frame)}")
    with t2:
        steps_kept = [i + 1 for i in frames]
        st.image(list(ui_atlas.trajectory_frames_png(dataset, method, label, scale, seed)),
                 caption=[f"step {i}" for i in steps_kept], width=ui_atlas.FRAME_PX)
        st.caption(f"x̂₀ of image {seed + 1} at steps {steps_kept[0]} to {steps_kept[-1]} of {cfg.steps}, "
                   "left to right")
        late = ui_atlas.late_change(dataset, method, label, scale, seed)
        notice = (f"**What to notice** (class {classes[label]}, image {seed + 1}, {knob} = {scale:g}). The first "
                  "predictions are mostly noise (x̂₀ is shown clipped to [−1, 1]). Find the step where the image "
                  "becomes readable."
                  + (f" Here {late[0]:.0%} of x̂₀'s change, frame to frame, comes after step {late[1]} of "
                     f"{cfg.steps}." if late else ""))
        if registry.unconditional_at_zero(method):  # the unconditional model: guidance decides the class
            notice += f" Then move the scale and find the step again: does a larger {knob} make the class readable sooner?"
        st.markdown(notice)

    st.subheader(f"One seed across every {knob}")
    row_seed = st.selectbox("Seed", list(range(cfg.n)), key="atlas_row_seed", format_func=lambda j: f"image {j + 1}")
    st.image(list(ui_atlas.seed_frames_png(dataset, method, label, row_seed)),
             caption=[f"{knob} = {v:g}" for v in grid], width=ui_atlas.FRAME_PX)


def live_mode(dataset: str, atlas, atlas_reason: str) -> None:
    """Live sampling: the models run on this server when the student presses Generate, with any settings."""
    with st.sidebar:
        classes = images.classes(dataset)
        live_names = [k for k, v in METHODS.items() if not registry.needs(v, "weak") or images.has_weak_model(dataset)]
        if "method" in st.session_state and st.session_state["method"] not in live_names:
            st.session_state.pop("method")  # autoguidance on a dataset with no weak model: start over,
            st.session_state.pop("scale", None)  # at the default method's own scale
        method_name = st.radio("Method", live_names, index=live_names.index(OPENS_ON), key="method",
                               on_change=_reset_scale)
        method = METHODS[method_name]
        guided = registry.guided(method)
        conditional = registry.takes_label(method)
        label = st.selectbox("Class", list(range(len(classes))), disabled=not conditional, key=f"label_{dataset}",
                             format_func=_class_option(classes),
                             help=None if conditional else "The unconditional model draws any class.")
        knob = scale_symbol(method)
        if "scale" not in st.session_state:
            st.session_state["scale"] = images.recommended_scale(dataset, method)
        scale = st.number_input(f"Guidance scale {knob}", 0.0, 100.0, step=0.5, disabled=not guided, key="scale",
                                help=f"recommended for this method: {knob} = "
                                     f"{images.recommended_scale(dataset, method):g}")
        sampler = st.radio("Sampler", registry.samplers(method), key=f"sampler_{method}",
                           format_func=registry.SAMPLER_NAMES.get, horizontal=True,
                           disabled=len(registry.samplers(method)) == 1, help=registry.SAMPLER_HELP)
        steps = st.select_slider("Steps", [5, 10, 25, 50, 100, 250], value=25, key="steps")
        eta = st.slider("η (DDIM noise)", 0.0, 1.0, 0.0, 0.1) if sampler == "ddim" else 0.0
        n = st.select_slider("Images", [1, 4, 8, 16, 32, 64], value=16, key="n")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="seed")

    label_arg = int(label) if conditional else None
    with answer_errors():
        request = SampleRequest(method=method, label=label_arg, scale=float(scale) if guided else 0.0, steps=int(steps),
                                n=int(n), seed=int(seed), eta=float(eta), sampler=sampler, x0_mode="clip")
        request = request.validated(len(classes), 1000)
        models = images.get_models(dataset)

    eq, words = registry.equation(method)
    st.latex(eq)
    st.markdown(f"{words} "
                + (_tilt_words(method, request.scale) if guided and registry.has_tilt(method) else ""))
    what = f"class **{classes[label_arg]}**" if conditional else "any class"
    st.markdown(f"**{method_name}** on {dataset}, {what}"
                + (f", {knob} = {request.scale:g}" if guided else "")
                + f", {request.steps} steps of {registry.SAMPLER_NAMES[request.sampler]}, seed {request.seed}.")
    if atlas is None:
        st.caption(f"**Live sampling**: the models run on this server when you press Generate. There is no scale atlas "
                   f"for these models yet, so nothing is instant: {atlas_reason}")
    else:
        st.caption("**Live sampling**: the models run on this server when you press Generate, with any settings. "
                   "For instant images across scales, choose **Scale atlas** in the sidebar.")

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
                    strip.image(images.enlarge(images.preview(d["x0_hat"]), 640),
                                caption="predicted x₀ at this step (first 8 images)")

            def on_wait(ahead, seconds):
                wait = f", about {seconds:.0f} s" if seconds >= 1 else ""
                bar.progress(0.0, text=f"waiting for the server: {ahead} run{'s' * (ahead != 1)} ahead of yours"
                                       f"{wait}…")

            with answer_errors():
                result = images.generate(dataset, str(images.checkpoint_root()), request, _on_step=on_step,
                                         _on_wait=on_wait)
            bar.empty()
            strip.empty()
            cols = min(8, max(1, int(np.ceil(np.sqrt(request.n)))))
            grid = image_grid(result.images, cols=cols)
            st.image(images.enlarge(grid, 560), caption=f"{request.n} samples")
            if result.judge_conf is not None:
                judge_share = float((result.judge_conf > 0.5).mean())
                uses_classifier = registry.needs(method, "classifier") and request.scale > 0
                c1, c2 = st.columns(2)
                c1.metric("judge: share read as the asked class", f"{judge_share:.0%}",
                          help="the judge is a classifier of clean images that never guides sampling")
                rows = {"image": list(range(request.n)), "judge p(y|x₀)": np.round(result.judge_conf, 3)}
                if uses_classifier:
                    clf_share = float((result.classifier_conf > 0.5).mean())
                    c2.metric("guiding classifier: share", f"{clf_share:.0%}")
                    rows["guiding classifier p(y|x₀)"] = np.round(result.classifier_conf, 3)
                st.dataframe(rows, hide_index=True, height=min(35 * (request.n + 1) + 3, 400))
                if uses_classifier and clf_share - judge_share >= 0.2:
                    st.caption(f"The guiding classifier reads the asked class in {clf_share:.0%} of these images, "
                               f"the independent judge in {judge_share:.0%}: a sign that the samples please the "
                               "classifier that steered them more than they look like the class.")
            st.download_button("Download PNG", images.png_bytes(grid), file_name=f"{dataset}_{method}_{label_arg}.png",
                               mime="image/png")
        else:
            st.info("Press **Generate** to sample; results are cached by their settings.")

    with tab_row:
        st.markdown(f"The same starting noise at growing {knob}, like the paper's figures.")
        scales = st.multiselect(f"Scales {knob}", [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
                                default=[0.0, 1.0, 4.0, 16.0], key="row_scales")
        with st.form("row"):
            go_row = st.form_submit_button("Generate the row", disabled=not guided)
        if not guided:
            st.info("Pick a guided method to compare scales.")
        elif go_row and scales:
            row_scales = sorted(float(v) for v in scales)
            r = replace(request, n=4).at_scales(row_scales)  # one batch, the same noise at every scale
            status = st.progress(0.0, text="sampling every scale at once…")
            with answer_errors():
                res = images.generate(dataset, str(images.checkpoint_root()), r, _on_step=lambda d: status.progress(
                    (d["i"] + 1) / r.steps, text=f"step {d['i'] + 1}/{r.steps}"))
            status.empty()
            pictures = by_scale(res.images, r)  # each scale's rows, keyed by the scales the request holds
            judged = by_scale(res.judge_conf, r) if res.judge_conf is not None else None
            for col, v in zip(st.columns(len(r.scales)), r.scales):
                col.image(images.enlarge(image_grid(pictures[v], cols=2), 220), caption=f"{knob} = {v:g}"
                          + (f" · judge {judged[v].mean():.2f}" if judged is not None else ""))


with st.sidebar:
    dataset = st.selectbox("Dataset", available, key="dataset", on_change=_reset_scales)
    atlas, atlas_reason = ui_atlas.get(dataset)
    source = st.radio("Images from", SOURCES, key="source", disabled=atlas is None,
                      help="The atlas holds images sampled ahead of time at every scale of a grid: the slider "
                           "looks them up. Live sampling runs the models now, with any settings.")
    if atlas is None:
        source = SOURCES[1]
        st.caption(atlas_reason)

if source == SOURCES[0]:
    atlas_mode(dataset, atlas)
else:
    live_mode(dataset, atlas, atlas_reason)
