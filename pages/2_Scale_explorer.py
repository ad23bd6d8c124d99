"""Scale explorer: what raising a density to the power s does, and when the guidance step's approximation holds."""

import streamlit as st

from ui import explorer
from ui.common import answer_errors, setup

setup("Scale explorer", "🎚️")
st.title("Scale explorer")

st.header(r"1 · Sharpening: $p(x)\,p(y\mid x)^s$")
st.markdown(r"Two classes on a line, $p(x\mid y=0) = \mathcal N(-1, 0.6^2)$ and $p(x\mid y=1) = \mathcal N(1, 0.6^2)$, "
            r"equally likely. Raising the classifier's $p(y\mid x)$ to the power $s > 1$ weighs the $x$ that are "
            r"surely $y$ more and the doubtful ones less.")
s = st.slider("Guidance scale s", 0.0, 20.0, 1.0, 0.5, key="s1")
st.plotly_chart(explorer.sharpen_fig(float(s)), key="sharpen")
st.latex(r"p_s(x\mid y)\;\propto\;p(x)\,p(y\mid x)^{s}:\quad s=0 \to p(x),\quad s=1 \to p(x\mid y),"
         r"\quad s\to\infty \to \text{only the most surely-}y\text{ region}")
st.caption("This is the density whose score guidance follows at every noise level. At s ≠ 0, 1 the samplers "
           "need not draw it: the Guidance in 2D page measures the difference.")

st.header("2 · The temperature analogy, and where it stops")
st.markdown(r"A Gaussian raised to the power $s$ is again a Gaussian, with variance $1/s$: raising a *whole* "
            r"density to the power $s$ is sampling it at temperature $T = 1/s$.")
powers = st.multiselect("Powers s", [0.25, 0.5, 1.0, 2.0, 4.0, 10.0], default=[0.5, 1.0, 4.0], key="powers")
if not powers:
    st.warning("Pick at least one power.")
else:
    st.plotly_chart(explorer.powers_fig(tuple(sorted(float(p) for p in powers))), key="powers_fig")
st.latex(r"\mathcal N(x;0,1)^{s} \propto e^{-s x^2/2} \propto \mathcal N\!\big(x;0,\tfrac1s\big),\qquad T=\tfrac1s")
st.markdown(r"Guidance is **not** that: it raises only the classifier factor $p(y\mid x)$ to the power $s$, and "
            r"keeps $p(x)$ as it is. So $p(x)\,p(y\mid x)^s$ is not $p(x\mid y)$ at temperature $1/s$. Both "
            r"sharpen, but differently:")
s_t = st.slider("Guidance scale s", 0.5, 10.0, 3.0, 0.5, key="s_temp")
fig_t, sd_cond, sd_tilted, sd_cold = explorer.temperature(float(s_t))
st.plotly_chart(fig_t, key="temperature")
(near, far), (near_c, far_c) = explorer.half_widths(float(s_t)), explorer.half_widths(1.0)
st.caption(rf"At $s = {s_t:g}$: guidance leaves the class with sd {sd_tilted:.2f}; $p(x\mid y=1)$ at temperature "
           rf"$1/{s_t:g}$ would have sd {sd_cold:.2f}; $p(x\mid y=1)$ itself has {sd_cond:.2f}. **What to notice:** "
           f"the half-width at half height of the guided density is {near:.2f} on the side that faces the other "
           rf"class and {far:.2f} on the far side, against {near_c:.2f} on both sides for $p(x\mid y=1)$: guidance "
           + ("cuts mostly into the side that faces the other class." if near_c - near > 2 * (far_c - far) else
              "changes the two sides alike here." if abs(near - far) < 0.02 else "widens the side that faces the "
              "other class." if near > near_c else "narrows both sides."))

st.header("3 · The Gaussian-shift approximation")
st.markdown(r"Classifier guidance replaces the exact guided step $p(x_t\mid x_{t+1})\,p(y\mid x_t)^s$ "
            r"by a Gaussian with a shifted mean, from a first-order Taylor expansion of $\log p(y\mid x_t)$ "
            r"around $\mu$. It is good when $\Sigma$ is small next to the curvature of $\log p(y\mid x)$ — "
            r"with many sampling steps — and breaks with few.")
st.latex(r"p(x_t\mid x_{t+1})\,p(y\mid x_t)^s \;\approx\; \mathcal N\!\big(\mu + s\,\Sigma\,g,\;\Sigma\big),"
         r"\qquad g=\nabla_{x}\log p(y\mid x)\big|_{x=\mu}")
c1, c2, c3 = st.columns(3)
steps = c1.select_slider(r"Sampling steps (they set $\Sigma$)", [5, 10, 25, 50, 100, 1000], value=10,
                         key="taylor_steps")
scale = c2.slider("Guidance scale $s$", 0.0, 20.0, 4.0, 0.5, key="taylor_s")
x_from = c3.slider("Start point $x_{t+1}$", -3.0, 3.0, -0.5, 0.1, key="taylor_x")
with answer_errors():
    rows = explorer.taylor(float(x_from), float(scale), int(steps))
cols = st.columns(len(rows))
for col, (r, fig) in zip(cols, rows):
    with col:
        st.plotly_chart(fig, key=f"taylor_{r.i}")
        st.caption(f"$t = {r.t} \\to {r.t_next}$: $\\Sigma = {r.var:.2g}$, TV distance {r.tv:.3f}")
worst = max(r.tv for r, _ in rows)
st.caption("Black: the exact guided step. Red dashed: its Gaussian-shift approximation. TV: total-variation "
           f"distance between them (0 = identical, 1 = disjoint). **Here**, with {steps} steps and $s = {scale:g}$, "
           f"the largest of these {len(rows)} distances is {worst:.3f}.")
