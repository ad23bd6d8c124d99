"""The Classifier Guidance Lab: Home (one picture of what guidance does, the Lesson's door, then the equations).

Run with ``streamlit run app.py``. Each page is a script in ``pages/`` (widgets -> a cached ``ui``
call -> a figure); all computing lives in ``cgd/``, figures and Streamlit glue in ``ui/``.
"""

import streamlit as st

from ui import home, lesson
from ui.common import setup

setup("Home")

st.title("The Classifier Guidance Lab")
dataset = home.picture_dataset()
picture = home.guidance_picture(dataset) if dataset else None
lead = ("A diffusion model turns noise into data in small Gaussian steps; **guidance** bends them towards a class "
        "$y$: classifier guidance with a scale $s$ (Dhariwal & Nichol 2021), classifier-free guidance with a weight "
        "$w$ (Ho & Salimans 2022).")
if picture:
    lead += (f" Below, {picture['panels'][0]['n']} samples of the shipped {home.DISPLAY.get(dataset, dataset)} U-Net "
             f"guided towards *{picture['class_name']}* by a classifier (DDIM, {picture['steps']} steps), the same "
             "seeds and noise in every panel.")
st.markdown(lead)
if picture:
    cols = st.columns(len(picture["panels"]))
    for col, panel in zip(cols, picture["panels"]):
        col.container(key=f"homepic_{panel['scale']:g}".replace(".", "_")).image(panel["png"], width="stretch")
        knob = "$s = 0$ (no guidance)" if panel["scale"] == 0 else f"$s = {panel['scale']:g}$"
        col.markdown(f"{knob}: **{panel['read']} of {panel['n']}** read as *{picture['class_name']}* by the judge")
    line = home.recall_line(dataset, tuple(p["scale"] for p in picture["panels"]))
    if line:
        st.caption("The judge is a classifier of clean images that never guides. " + line)
if st.button("Start the Lesson →", type="primary", key="start_lesson"):
    st.switch_page("pages/6_Lesson.py")
st.caption(f"{len(lesson.STEPS)} steps, about ten minutes, nothing to prepare: for a lecturer in front of a class.")

st.divider()
left, right = st.columns(2)
with left:
    st.subheader("Classifier guidance")
    st.markdown("A classifier $p_\\phi(y \\mid x_t, t)$ trained on noisy inputs adds $s$ times its gradient to "
                "the model's score. At every noise level $t$ the guided score is the score of a tilted density:")
    st.latex(r"\begin{aligned}&\nabla_x \log p_t(x) + s\,\nabla_x \log p_\phi(y \mid x, t) \\ "
             r"&\quad= \nabla_x \log\big[p_t(x)\, p_t(y \mid x)^{s}\big]\end{aligned}")  # two lines: fits the column
    st.markdown("Ancestral (DDPM) step: shift the mean $\\mu$ by the classifier gradient times the step's "
                "variance $\\Sigma$")
    st.latex(r"x_{t-1} \sim \mathcal{N}\!\big(\mu + s\,\Sigma\, \nabla_{x_t}\log p_\phi(y \mid x_t),\; \Sigma\big)")
    st.markdown("Deterministic (DDIM) step: change the predicted noise instead")
    st.latex(r"\hat\varepsilon = \varepsilon_\theta(x_t) - s\sqrt{1-\bar\alpha_t}\;\nabla_{x_t}\log p_\phi(y \mid x_t)")
with right:
    st.subheader("Classifier-free guidance")
    st.markdown("One network, trained with the label dropped now and then, extrapolates away from "
                "its unconditional prediction:")
    st.latex(r"\tilde\varepsilon = (1+w)\,\varepsilon_\theta(x_t, y) - w\,\varepsilon_\theta(x_t)")
    st.markdown("With exact networks this is the score of $p_t(x)\\,p_t(y\\mid x)^{1+w}$ at every noise "
                "level: the tilt exponent is $k = 1+w$. The often quoted \"guidance scale\" is that $1+w$ "
                "(so $w=0$ is the plain conditional model).")
st.warning(home.WARNING)

st.subheader("Where to start")
st.markdown(
    """
1. **Lesson** — {n_steps} steps, about ten minutes, nothing to prepare: for a lecturer in front of a class.
2. **Guidance in 2D** — a Gaussian mixture whose every quantity is exact: see guided samples against
   the exact tilted density, the mean shift $s\\Sigma g$ of each step, and a trajectory animation.
3. **Scale explorer** — what $p(y\\mid x)^s$ does in one dimension, and when the Gaussian-shift
   approximation behind classifier guidance holds.
4. **Image generation** — MNIST digits and Fashion-MNIST garments with every guidance method.
5. **Training** — train the 2D models live; the image models' curves and the noisy classifier's accuracy over $t$.
6. **Fidelity vs diversity** — FID, IS, precision and recall against the scale, beside the paper's table.
""".format(n_steps=len(lesson.STEPS))
)

with st.expander("About these models: what is loaded, on which device"):
    for line in home.loaded_lines():
        st.markdown(line)
lesson.warm()  # the Lesson's figures, computed once per server in the background (after this page is drawn)
