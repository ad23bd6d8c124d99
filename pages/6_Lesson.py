"""Lesson: eight steps through classifier guidance, for a lecturer in front of a class (about ten minutes)."""

import streamlit as st

from ui import figures, images, lesson, records
from ui.images import image_grid
from ui.common import answer_errors, setup

setup("Lesson", "🎓")
st.title("Lesson: guidance in ten minutes")

last = len(lesson.STEPS) - 1
if "lesson_step" not in st.session_state:
    try:
        st.session_state["lesson_step"] = min(max(int(st.query_params.get("step", 1)) - 1, 0), last)
    except ValueError:
        st.session_state["lesson_step"] = 0


def _go(delta: int) -> None:
    st.session_state["lesson_step"] = min(max(st.session_state["lesson_step"] + delta, 0), last)
    st.query_params["step"] = str(st.session_state["lesson_step"] + 1)


k = st.session_state["lesson_step"]
step = lesson.STEPS[k]
nav_back, nav_pos, nav_next = st.columns([1, 4, 1])
nav_back.button("← Back", key="lesson_back", on_click=_go, args=(-1,), disabled=k == 0, use_container_width=True)
nav_pos.progress((k + 1) / len(lesson.STEPS), text=f"Step {k + 1} of {len(lesson.STEPS)}")
nav_next.button("Next →", key="lesson_next", on_click=_go, args=(1,), disabled=k == last, type="primary",
                use_container_width=True)

st.header(step.title)
st.markdown(step.text)

with answer_errors():
    if step.figure == "trajectory":
        st.plotly_chart(lesson.trajectory(), key="lesson_fig")
    elif step.figure in ("posterior", "shift"):
        name, req = ((lesson.BLOBS, lesson.POSTERIOR) if step.figure == "posterior" else
                     (lesson.OVERLAP, lesson.SHIFT))
        ts = lesson.recorded(name, req)
        t = st.select_slider("Time scrubber: step t (noise level)", options=ts, value=ts[len(ts) // 2],
                             key=f"lesson_t_{step.figure}")
        st.plotly_chart(lesson.step(name, req, t), key="lesson_fig")
        if step.figure == "shift":
            st.latex(r"x_{t-1} \sim \mathcal N\big(\mu + s\,\Sigma\,\nabla_x \log p_\phi(y\mid x_t),\ \Sigma\big),"
                     r"\qquad s = 3")
    elif step.figure == "sharpen":
        s = st.select_slider("Guidance scale s", [0.0, 0.5, 1.0, 2.0, 3.0, 5.0], value=3.0, key="lesson_s")
        st.plotly_chart(lesson.sharpen(float(s)), key="lesson_fig")
        st.caption("Blue: exact p(x|y=0). Red dashed: exact p(x)·p(y=0|x)^s. Purple: guided samples (exact models).")
    elif step.figure == "cg_vs_cfg":
        left, right = st.columns(2)
        cg, cfg = lesson.cg_vs_cfg()
        left.plotly_chart(cg, key="lesson_fig")
        right.plotly_chart(cfg, key="lesson_fig2")
    elif step.figure == "images":
        made = lesson.image_row()
        if made is None:
            st.info("No MNIST models here: `bash checkpoints/train.sh mnist` trains them.")
        else:
            source, row = made
            cols = st.columns(len(row))
            for col, (s, imgs, judge) in zip(cols, row):
                col.image(images.enlarge(image_grid(imgs, cols=2), 300), caption=f"s = {s:g} · judge p(y=3|x) {judge:.2f}")
            st.caption("CG-DDPM on the shipped MNIST models, class 3, 25 steps, the same four seeds in every column"
                       + (" (from the scale atlas)." if source == "atlas" else " (sampled now).")
                       + " The judge is a separate classifier of clean digits that never guides. The image page's "
                       "scale atlas has every scale in between.")
    elif step.figure == "fidelity":
        made = lesson.fidelity()
        if made is None:
            st.info("No MNIST results in `results/` yet.")
        else:
            left, right = st.columns([3, 2])
            left.plotly_chart(made[0], key="lesson_fig")
            right.markdown(figures.method_key_html(lesson.FIDELITY_METHODS), unsafe_allow_html=True)
            right.plotly_chart(made[1], key="lesson_fig2")
            with st.expander("The paper's table beside ours"):
                st.dataframe(records.paper_table("mnist"), hide_index=True)

    elif step.figure == "autoguidance":
        left, right = st.columns(2)
        cfg, ag = lesson.autoguidance()
        left.plotly_chart(cfg, key="lesson_fig")
        right.plotly_chart(ag, key="lesson_fig2")
        st.caption("Blue: exact p(x|y=0). Red dashed: left, CFG's p(x)·p(y=0|x)^(1+w); right, p(x|y=0) itself. "
                   "Same seed in both. The 2D page compares them over every w.")
        rows = lesson.autoguidance_images()
        if rows:
            cols = st.columns(len(rows))
            y = lesson.AUTOGUIDANCE_LABEL
            for col, (title, imgs, judge) in zip(cols, rows):
                col.image(images.enlarge(image_grid(imgs, cols=4), 300),
                          caption=f"{title} · judge p(y={y}|x) {judge:.2f}")
            st.caption(f"On MNIST, from the scale atlas: the same seeds, class {y}. Autoguidance's weak model is the "
                       "3000-step U-Net from which the shipped one's training started. Measured over 500 samples in "
                       "docs/results.md.")

st.info(f"**What to notice.** {step.notice}")
st.success(f"**Question for the class.** {step.question}")
lesson.warm()  # after this step is drawn: the other steps compute in the background while it is read
