"""The Classifier Guidance Lab: Home (what guidance is, in true words, where to start, what is loaded).

Run with ``streamlit run app.py``. Each page is a script in ``pages/`` (widgets -> a cached ``ui``
call -> a figure); all computing lives in ``cgd/``, figures and Streamlit glue in ``ui/``.
"""

import streamlit as st

from ui import home, lesson
from ui.common import setup

setup("Home")

st.title("The Classifier Guidance Lab")
st.markdown(
    """
A diffusion model turns noise into data by undoing a noising process one small Gaussian step
at a time. **Guidance** bends those steps towards a class *y*. Slide the guidance scale (*s* for
classifier guidance, *w* for classifier-free guidance) and watch what it does: samples become more
typical of *y* and less diverse, the fidelity/diversity trade-off reported by Dhariwal & Nichol (2021)
and Ho & Salimans (2022).
"""
)

left, right = st.columns(2)
with left:
    st.subheader("Classifier guidance")
    st.markdown("A classifier trained on noisy images adds *s* times its gradient to the model's score. "
                "At every noise level *t* the guided score is the score of a tilted density:")
    st.latex(r"\begin{aligned}&\nabla_x \log p_t(x) + s\,\nabla_x \log p_\phi(y \mid x, t) \\ "
             r"&\quad= \nabla_x \log\big[p_t(x)\, p_t(y \mid x)^{s}\big]\end{aligned}")  # two lines: fits the column
    st.markdown("Ancestral (DDPM) step: shift the mean by the classifier gradient times the step's variance")
    st.latex(r"x_{t-1} \sim \mathcal{N}\!\big(\mu + s\,\Sigma\, \nabla_{x}\log p_\phi(y \mid x_t),\; \Sigma\big)")
    st.markdown("Deterministic (DDIM) step: change the predicted noise instead")
    st.latex(r"\hat\varepsilon = \varepsilon_\theta(x_t) - s\sqrt{1-\bar\alpha_t}\;\nabla_{x_t}\log p_\phi(y \mid x_t)")
with right:
    st.subheader("Classifier-free guidance")
    st.markdown("One network, trained with the label dropped now and then, extrapolates away from "
                "its unconditional prediction:")
    st.latex(r"\tilde\varepsilon = (1+w)\,\varepsilon_\theta(z, c) - w\,\varepsilon_\theta(z)")
    st.markdown("With exact networks this is the score of $p_t(z)\\,p_t(c\\mid z)^{1+w}$ at every noise "
                "level: the tilt exponent is $1+w$. The often quoted \"guidance scale\" is that $1+w$ "
                "(so $w=0$ is the plain conditional model).")
st.warning("**What guidance does not do.** At every noise level the guided score is the score of "
           "p_t(x)·p_t(y|x)^k (k = s, or 1+w). But those tilted densities are not the marginals of one "
           "diffusion, so the sampler does **not** draw the tilted density p(x)·p(y|x)^k of the data, "
           "except at k = 1, where it draws p(x|y). With exact models, CFG at w = 2 lands far from "
           "p(x|c)·p(c|x)^2 (see docs/results.md). The **Guidance in 2D** page shows the difference on "
           "exact densities, and that DDPM and DDIM even end at different distributions.")

st.subheader("Where to start")
st.markdown(
    """
1. **Lesson** — eight steps, about ten minutes, nothing to prepare: for a lecturer in front of a class.
2. **Guidance in 2D** — a Gaussian mixture whose every quantity is exact: see guided samples against
   the exact tilted density, the mean shift $s\\Sigma g$ of each step, and a trajectory animation.
3. **Scale explorer** — what $p(y\\mid x)^s$ does in one dimension, and when the Gaussian-shift
   approximation behind classifier guidance holds.
4. **Image generation** — MNIST digits and Fashion-MNIST garments with every guidance method.
5. **Training** — train the 2D models live; the image models' curves and the noisy classifier's accuracy over t.
6. **Fidelity vs diversity** — FID, IS, precision and recall against the scale, beside the paper's table.
"""
)

st.subheader("What is loaded")
for line in home.loaded_lines():
    st.markdown(line)
lesson.warm()  # the Lesson's figures, computed once per server in the background (after this page is drawn)
