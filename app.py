"""The Classifier Guidance Lab: landing page.

Run with ``streamlit run app.py``. Pages live in ``pages/``; all computing lives in ``cgd/``.
"""

import streamlit as st
import torch

from cgd.device import describe, pick_device
from cgd.models import available_datasets, checkpoint_root, quality_record
from cgd.toy.mixture import load_mixture, presets
from ui.common import setup

setup("Home")

st.title("The Classifier Guidance Lab")
st.markdown(
    """
A diffusion model turns noise into data by undoing a noising process one small Gaussian step
at a time. **Guidance** bends those steps towards a class *y*. Slide the guidance scale *s* and
watch what it does: the distribution sharpens, samples become more typical of *y* and less
diverse — exactly the fidelity/diversity trade-off reported by Dhariwal & Nichol (2021) and
Ho & Salimans (2022).
"""
)

left, right = st.columns(2)
with left:
    st.subheader("Classifier guidance")
    st.markdown("Sample the tilted density, with a classifier trained on noisy images:")
    st.latex(r"p_s(x \mid y) \;\propto\; p(x)\, p(y \mid x)^{s}")
    st.markdown("Ancestral (DDPM) step: shift the mean by the classifier gradient times the step's variance")
    st.latex(r"x_{t-1} \sim \mathcal{N}\!\big(\mu + s\,\Sigma\, \nabla_{x}\log p_\phi(y \mid x_t),\; \Sigma\big)")
    st.markdown("Deterministic (DDIM) step: change the predicted noise instead")
    st.latex(r"\hat\varepsilon = \varepsilon_\theta(x_t) - s\sqrt{1-\bar\alpha_t}\;\nabla_{x_t}\log p_\phi(y \mid x_t)")
with right:
    st.subheader("Classifier-free guidance")
    st.markdown("One network, trained with the label dropped now and then, extrapolates away from "
                "its unconditional prediction:")
    st.latex(r"\tilde\varepsilon = (1+w)\,\varepsilon_\theta(z, c) - w\,\varepsilon_\theta(z)")
    st.markdown("Implicitly this samples $p(x\\mid c)\\,p(c\\mid x)^{w}$; the often quoted "
                "\"guidance scale\" is $1+w$ (so $w=0$ is the plain conditional model).")

st.subheader("Where to start")
st.markdown(
    """
1. **Guidance in 2D** — a Gaussian mixture whose every quantity is exact: see guided samples against
   the exact tilted density, the mean shift $s\\Sigma g$ of each step, and a trajectory animation.
2. **Scale explorer** — what $p(y\\mid x)^s$ does in one dimension, and when the Gaussian-shift
   approximation behind classifier guidance holds.
3. **Image generation** — MNIST and Fashion-MNIST digits with every guidance method.
4. **Training** — train the 2D models live; the image models' curves and the noisy classifier's accuracy over t.
5. **Fidelity vs diversity** — FID, IS, precision and recall against the scale, beside the paper's table.
"""
)

st.subheader("What is loaded")
device = pick_device("auto")
st.markdown(f"- Device: **{describe(device)}**, torch {torch.__version__}")
st.markdown(f"- 2D mixtures: {', '.join(f'`{n}`' for n in presets())} "
            f"({sum(load_mixture(p).num_components for p in presets().values())} components in all)")
datasets = available_datasets()
if datasets:
    for name in datasets:
        q = quality_record(name)
        extra = ""
        if q:
            guided = {g["method"]: g for g in q.get("guided", [])}
            parts = [f"{m} s={g['scale']:g}: judge {g['judge_accuracy']:.0%}" for m, g in guided.items()
                     if m in ("cg-ddim", "cfg")]
            extra = f" — judge test accuracy {q['judge_test_accuracy']:.1%}; " + ", ".join(parts)
        st.markdown(f"- Image models: **{name}** (U-Net, noisy classifier, judge){extra}")
else:
    st.markdown(f"- Image models: none found in `{checkpoint_root()}` — train them with "
                "`bash checkpoints/train.sh mnist`.")
