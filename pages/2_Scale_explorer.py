"""Scale explorer: what raising a density to the power s does, and when the guidance step's approximation holds."""

import numpy as np
import streamlit as st

from ui import figures
from cgd.toy.scale1d import power_of_gaussian, sharpen, taylor_check
from cgd.toy.sampling import default_schedule
from ui.common import answer_errors, setup

setup("Scale explorer", "🎚️")
st.title("Scale explorer")

st.header("1 · Sharpening: p(x) p(y|x)^s")
st.markdown("Two classes on a line, p(x|y=0) = N(−1, 0.6²) and p(x|y=1) = N(1, 0.6²). Raising the "
            "classifier's p(y|x) to the power s keeps only the x that are *very* surely y.")
s = st.slider("Scale s", 0.0, 20.0, 1.0, 0.5, key="s1")
xs = np.linspace(-4, 4, 801)
curves = sharpen(xs, 1, [0.0, 1.0, float(s)])
st.plotly_chart(figures.lines_figure(xs, {"p(x)  (s = 0)": curves[0.0][1], "p(x | y=1)  (s = 1)": curves[1.0][1],
                                          f"p(x) p(y=1|x)^{s:g}": curves[float(s)][1]},
                                     xtitle="x", ytitle="density", dash={"p(x)  (s = 0)": "dot"}), key="sharpen")
st.latex(r"p_s(x\mid y)\;\propto\;p(x)\,p(y\mid x)^{s}:\quad s=0 \to p(x),\quad s=1 \to p(x\mid y),"
         r"\quad s\to\infty \to \text{only the most surely-}y\text{ region}")

st.header("2 · The temperature analogy")
st.markdown("A Gaussian raised to the power s is again a Gaussian, with variance 1/s: guidance at scale s "
            "acts like sampling at temperature T = 1/s — less diverse, more typical.")
powers = st.multiselect("Powers s", [0.25, 0.5, 1.0, 2.0, 4.0, 10.0], default=[0.5, 1.0, 4.0], key="powers")
if not powers:
    st.warning("Pick at least one power.")
else:
    st.plotly_chart(figures.lines_figure(xs, {f"N(0,1)^{p:g} = N(0, {1 / p:.3g})": power_of_gaussian(xs, p)
                                              for p in powers}, xtitle="x", ytitle="density"), key="powers_fig")
st.latex(r"\mathcal N(x;0,1)^{s} \propto e^{-s x^2/2} \propto \mathcal N\!\big(x;0,\tfrac1s\big),\qquad T=\tfrac1s")

st.header("3 · The Gaussian-shift approximation")
st.markdown(r"Classifier guidance replaces the exact guided step $p(x_t\mid x_{t+1})\,p(y\mid x_t)^s$ "
            r"by a Gaussian with a shifted mean, from a first-order Taylor expansion of $\log p(y\mid x_t)$ "
            r"around $\mu$. It is good when $\Sigma$ is small next to the curvature of $\log p(y\mid x)$ — "
            r"with many sampling steps — and breaks with few.")
st.latex(r"p(x_t\mid x_{t+1})\,p(y\mid x_t)^s \;\approx\; \mathcal N\!\big(\mu + s\,\Sigma\,g,\;\Sigma\big),"
         r"\qquad g=\nabla_{x}\log p(y\mid x)\big|_{x=\mu}")
c1, c2, c3 = st.columns(3)
steps = c1.select_slider("Sampling steps (sets Σ)", [5, 10, 25, 50, 100, 1000], value=10, key="taylor_steps")
scale = c2.slider("Scale s", 0.0, 20.0, 4.0, 0.5, key="taylor_s")
x_from = c3.slider("Start point x_{t+1}", -3.0, 3.0, -0.5, 0.1, key="taylor_x")
with answer_errors():
    idx = sorted({0, steps // 4, steps // 2, (3 * steps) // 4, steps - 2})
    rows = taylor_check(float(x_from), 1, float(scale), default_schedule(), int(steps), idx)
cols = st.columns(len(rows))
for col, r in zip(cols, rows):
    with col:
        st.plotly_chart(figures.lines_figure(r.xs, {"exact": r.exact, "Gaussian shift": r.approx}, xtitle="x_t",
                                             ytitle="density", height=260, dash={"Gaussian shift": "dash"}),
                        key=f"taylor_{r.i}")
        st.caption(f"t={r.t}→{r.t_next}: Σ={r.var:.2g}, TV distance {r.tv:.3f}")
st.caption("TV: total-variation distance between the exact guided step and its Gaussian approximation "
           "(0 = identical, 1 = disjoint).")
