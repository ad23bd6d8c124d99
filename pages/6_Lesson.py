"""Lesson: eight steps through classifier guidance, for a lecturer in front of a class (about ten minutes).

``?step=N`` is the step shown (Back/Next, the browser's Back/Forward, → ← PageDown PageUp move it);
``?present=1`` (or the toggle) is presentation mode: one projector screen per step (ui/present.py).
"""

import pandas as pd
import streamlit as st

from ui import figures, images, lesson, present, records
from ui.common import answer_errors, setup
from ui.images import image_grid
from ui.lesson_figures import projector

setup("Lesson", "🎓")
on_projector = present.present_from_url()
present.style(on_projector)

last = len(lesson.STEPS) - 1
k = present.step_from_url(len(lesson.STEPS))
step = lesson.STEPS[k]
if not on_projector:
    st.title("Lesson: guidance in ten minutes")
    present.presentation_toggle()

nav = st.container(key="lesson_nav")
nav_back, nav_title, nav_next = nav.columns([1, 8, 1], vertical_alignment="center")
nav_back.button("← Back", key=present.BACK_KEY, on_click=present.go_to, args=(k - 1,), disabled=k == 0,
                use_container_width=True)
nav_title.markdown(f"### Step {k + 1} of {len(lesson.STEPS)} · {step.title.split(' · ', 1)[-1]}")
nav_next.button("Next →", key=present.NEXT_KEY, on_click=present.go_to, args=(k + 1,), disabled=k == last,
                type="primary", use_container_width=True)


def notice(extra: str = "") -> None:
    st.info(f"**What to notice.** {step.notice}" + (f" {extra}" if extra else ""))


def question(where=st) -> None:
    where.success(f"**Question for the class.** {step.question}")


def pct(v: float) -> str:
    return f"{100 * v:.0f}%"


ABOUT_2D = ("**About these models.** Exact models: the mixture's closed-form ε and $p_t(y\\mid x)$ (`cgd/toy`), "
            "so every difference from the exact densities is the sampler's. {n} samples, {steps} steps of the "
            "linear schedule (T = 1000), seed 0.")

with answer_errors():
    about = ABOUT_2D.format(n=lesson.NOISE_TO_DATA.n, steps=lesson.NOISE_TO_DATA.steps)
    if step.figure == "trajectory":
        left, right = st.columns([0.58, 0.42], gap="medium")
        present.chart(left, lesson.trajectory(on_projector), "lesson_fig")
        f = lesson.trajectory_facts()
        with right:
            st.markdown(step.text)
            notice(f"Here the first half of the way takes {f['half_steps']} of the {f['steps']} steps "
                   f"($t$ = {f['first_t']} to {f['half_t']}), the second half the last "
                   f"{f['steps'] - f['half_steps']}.")
            question()
        about += (f" The animation shows the first 300 points in {len(f['frames'])} frames, chosen so that the "
                  f"points' mean distance to their end point (at first {f['start_distance']:.2f}) falls by the "
                  f"same amount from one frame to the next.")

    elif step.figure in ("posterior", "shift"):
        name, req = ((lesson.BLOBS, lesson.POSTERIOR) if step.figure == "posterior" else
                     (lesson.OVERLAP, lesson.SHIFT))
        ts = lesson.recorded(name, req)
        left, right = st.columns([0.58, 0.42], gap="medium")
        with right:
            st.markdown(step.text)
            t = st.select_slider("Time scrubber: step t (noise level)", options=ts, value=ts[len(ts) // 2],
                                 key=f"lesson_t_{step.figure}")
        present.chart(left, lesson.step(name, req, t, on_projector), "lesson_fig")
        with right:
            if step.figure == "posterior":
                f = lesson.posterior_facts(t)
                notice(f"Here, at $t = {f['t']}$: at the {f['points']} points $p_t(y={req.label}\\mid x)$ lies "
                       f"between {f['low']:.2f} and {f['high']:.2f}; at {pct(f['sure'])} of them it is below 0.05 "
                       f"or above 0.95.")
            else:
                st.latex(r"x_{t-1} \sim \mathcal N\big(\mu + s\,\Sigma\,\nabla_x \log p_t(y\mid x_t),\ \Sigma\big),"
                         r"\qquad s = %g" % req.scale)
                f = lesson.shift_facts(t)
                notice(f"Arrows are drawn {f['gain']:g}× longer than they are, at every $t$. Here, at $t = {f['t']}$: "
                       f"$\\Sigma$ = {f['var']:.2g}, the median shift is {f['median']:.2g}.")
            question()

    elif step.figure == "sharpen":
        s = st.session_state.get("lesson_s", lesson.SHARPEN.scale)
        present.chart(st, lesson.sharpen(float(s), on_projector), "lesson_fig", "wide")
        left, right = st.columns(2, gap="medium")
        with left:
            st.select_slider("Guidance scale s", [0.0, 0.5, 1.0, 2.0, 3.0, 5.0], value=lesson.SHARPEN.scale,
                             key="lesson_s")
            st.markdown(step.text)
        with right:
            f = lesson.sharpen_facts(float(s))
            notice(f"Here, $s = {f['scale']:g}$: the mean of $x_1$ is {f['samples']:.2f} ± {f['se']:.2f} over the "
                   f"samples, {f['tilted']:.2f} under the red dashed density, {f['conditional']:.2f} under "
                   f"$p(x\\mid y)$.")
            question()

    elif step.figure == "cg_vs_cfg":
        n_steps = st.session_state.get("lesson_cfg_steps", lesson.CG_VS_CFG[0].steps)
        left, right = st.columns(2, gap="medium")
        cg, cfg = lesson.cg_vs_cfg(int(n_steps), on_projector)
        present.chart(left, cg, "lesson_fig", "wide")
        present.chart(right, cfg, "lesson_fig2", "wide")
        left, right = st.columns(2, gap="medium")
        with left:
            st.radio("Sampling steps", lesson.CG_VS_CFG_STEPS, index=lesson.CG_VS_CFG_STEPS.index(
                lesson.CG_VS_CFG[0].steps), horizontal=True, key="lesson_cfg_steps")
            st.markdown(step.text)
        with right:
            f = lesson.cg_vs_cfg_facts(int(n_steps))
            notice(f"Here, at {f['steps']} steps, the far component holds {pct(f['cg_far'])} of CG's samples and "
                   f"{pct(f['cfg_far'])} of CFG's, where $p(x\\mid y)$ puts {pct(f['exact'])}; the two clouds are "
                   f"{f['between']:.4f} apart (squared energy distance), CG's clouds of two seeds {f['seeds']:.4f}.")
            question()
        about = ABOUT_2D.format(n=lesson.CG_VS_CFG[0].n, steps="25 or 100")

    elif step.figure == "images":
        made = lesson.image_row()
        if made is None:
            st.info("No MNIST models here (see *About these models* below).")
            about = "**About these models.** `bash checkpoints/train.sh mnist` trains the MNIST models."
        else:
            source, row = made
            box = st.container(key="lessonfig_images")
            cols = box.columns(len(row))
            y = lesson.IMAGE_REQUEST.label
            for col, (s, imgs, judge) in zip(cols, row):
                col.image(images.enlarge(image_grid(imgs, cols=2), 300), caption=f"s = {s:g} · judge p(y={y}|x) {judge:.2f}")
            f = lesson.image_facts(row)
            left, right = st.columns(2, gap="medium")
            left.markdown(step.text)
            left.caption(f"Class {y}, {lesson.image_steps(source)} steps, the same four starting noises in every "
                         "column. The image page's scale atlas has every scale in between.")
            with right:
                scales = ", ".join(f"{v:g}" for v in f["scales"])
                notice(f"Here, at $s$ = {scales}: the judge's mean $p(y={y}\\mid x)$ is "
                       f"{', '.join(f'{v:.2f}' for v in f['judge'])}; the mean pixel difference between two images "
                       f"of a column is {', '.join(f'{v:.3f}' for v in f['apart'])} (smaller: more alike).")
                question()
            about = ("**About these models.** CG-DDPM (the mean shift) on the shipped MNIST U-Net and noisy classifier, "
                     f"{lesson.image_steps(source)} steps, four images of one seed's batch"
                     + (" (from the scale atlas)." if source == "atlas" else " (sampled now).")
                     + " The judge is a separate classifier of clean digits, trained on its own, that never guides.")

    elif step.figure == "fidelity":
        made = lesson.fidelity()
        if made is None:
            st.info("No MNIST results in `results/` yet.")
        else:
            left, right = st.columns([0.58, 0.42], gap="medium")
            present.chart(left, projector(made[0]) if on_projector else made[0], "lesson_fig")
            with right:
                st.markdown(step.text)
                notice()
                question()
            st.markdown(figures.method_key_html(lesson.FIDELITY_METHODS), unsafe_allow_html=True)
            st.plotly_chart(made[1], key="lesson_fig2")
            with st.expander("The paper's table beside ours"):
                st.dataframe(records.paper_table("mnist"), hide_index=True)
        about = ""

    elif step.figure == "weak_model":
        left, right = st.columns(2, gap="medium")
        cfg, ag = lesson.autoguidance(on_projector)
        present.chart(left, cfg, "lesson_fig", "wide")
        present.chart(right, ag, "lesson_fig2", "wide")
        left, right = st.columns(2, gap="medium")
        f = lesson.autoguidance_facts()
        with left:
            st.markdown(step.text)
            question()
        with right:
            notice(f"Here: far component CFG {pct(f['cfg_far'])}, autoguidance {pct(f['auto_far'])}, "
                   f"$p(x\\mid y)$ {pct(f['exact'])}; spread within a component: autoguidance {f['spread']:.2f}, "
                   f"$p(x\\mid y)$ {f['exact_spread']:.2f}.")
        st.caption("Blue: exact $p(x\\mid y=0)$. Red dashed: left, CFG's $p(x)\\,p(y=0\\mid x)^{1+w}$; right, "
                   "$p(x\\mid y=0)$ itself. Same seed in both. The 2D page compares them over every $w$.")
        rows = lesson.autoguidance_images()
        if rows:
            cols = st.columns(len(rows))
            y = lesson.AUTOGUIDANCE_LABEL
            for col, (title, imgs, judge) in zip(cols, rows):
                col.image(images.enlarge(image_grid(imgs, cols=4), 300),
                          caption=f"{title} · judge p(y={y}|x) {judge:.2f}")
            st.caption(f"On MNIST, class {y}, the same seeds in both.")
        table = lesson.autoguidance_table()
        if table:
            def cell(r, m, fmt):
                seeds = r["seeds"].get(m)
                return format(r[m], fmt) + (f" ({seeds[2]} seeds: {seeds[0]:{fmt}} ± {seeds[1]:{fmt}})" if seeds else "")

            st.dataframe(pd.DataFrame([{"dataset": r["dataset"], "model": "conditional" if r["w"] == 0 else
                                        lesson.AUTO_NAME, "w": f"{r['w']:g}", "judge-FID ↓": cell(r, "fid", ".2f"),
                                        "precision": cell(r, "precision", ".3f"), "recall": f"{r['recall']:.3f}",
                                        "judge reads the class": f"{r['judge']:.1%}"} for r in table]),
                         hide_index=True)
            sizes = ", ".join(sorted({f"{r['n']} samples, {r['steps']} steps" for r in table}))
            st.caption(f"Measured on {sizes}, seed 0; where a setting was measured with more seeds, their mean ± sd is "
                       "beside it. Sharper would show as higher precision than the conditional model's, beyond its "
                       "spread over seeds.")
        about = (ABOUT_2D.format(n=lesson.AUTOGUIDANCE[0].n, steps=lesson.AUTOGUIDANCE[0].steps)
                 + " On MNIST autoguidance's weak model is the 3000-step U-Net from which the shipped 12000-step one's "
                 "training started (the records: `results/mnist_sweep.json`, `results/fashion-mnist_sweep.json`, "
                 "seeds in `results/spread/`; docs/results.md).")

if about:
    with st.expander("About these models"):
        st.markdown(about)
if on_projector:
    present.presentation_toggle()
else:
    st.caption("Keys: → or PageDown next, ← or PageUp back.")
present.keyboard()
lesson.warm()  # after this step is drawn: the other steps compute in the background while it is read
