"""Fidelity vs diversity: FID, IS, precision, recall and accuracies against the guidance scale."""

import streamlit as st

from ui import figures, records
from ui.images import available_datasets, recommended_scale, scale_symbol
from ui.common import answer_errors, setup

setup("Fidelity vs diversity", "⚖️")
st.title("Fidelity vs diversity")
st.markdown("The seed paper's central claim: larger scales raise fidelity (IS, precision) and lower diversity "
            "(recall); an unconditional model needs a large scale, a conditional one is best at a moderate one. "
            "Features and class probabilities come from the **judge**, a classifier of clean images that never "
            "guides sampling (standing in for Inception on 28×28 data).")

recs = records.records()
datasets = sorted({r["dataset"] for r in recs})

if not datasets:
    st.warning("No results yet in `results/`. Make them with "
               "`python -m cgd.evaluate --dataset mnist --methods cg-ddpm,cfg --scales 0,1,2,4,10 --n 1000 "
               "--out results/mnist_sweep.json`.")
else:
    dataset = st.selectbox("Dataset", datasets, index=datasets.index("mnist") if "mnist" in datasets else 0,
                           key="fd_dataset")
    methods = sorted({r["method"] for r in recs if r["dataset"] == dataset})
    chosen = st.multiselect("Methods", methods, default=[m for m in methods if m in ("cg-ddpm", "cfg", "cond+cg")]
                            or methods, key="fd_methods")
    st.markdown(figures.method_key_html(chosen), unsafe_allow_html=True)
    st.caption("Each method against its own knob: s for classifier guidance, w for CFG and autoguidance (w = 0 is "
               "the plain conditional model). n = 500 samples per point, 25 steps (docs/results.md has the commands).")
    cols = st.columns(2)
    for k, (key, fig) in enumerate(records.metric_figures(dataset, tuple(chosen))):
        with cols[k % 2]:
            st.plotly_chart(fig, key=f"metric_{key}")
    st.subheader("The paper's table, on our data")
    st.dataframe(records.paper_table(dataset), hide_index=True)
    st.caption("Paper: Dhariwal & Nichol (2021), ImageNet 256×256, Inception features, 250 steps. Ours: the judge's "
               "features on 28×28 images; the numbers are not comparable across the two, the trends are. "
               "See docs/results.md for the comparison.")

st.subheader("A small live run")
avail = available_datasets()
if not avail:
    st.info("No trained image models: `bash checkpoints/train.sh mnist`.")
    st.stop()


def _reset_live_scale():
    """A new method or dataset starts at its own recommended scale."""
    state = st.session_state
    state["live_scale"] = recommended_scale(state["live_dataset"], state["live_method"])


c1, c2, c3, c4 = st.columns(4)
ds = c1.selectbox("Dataset", avail, index=avail.index("mnist") if "mnist" in avail else 0, key="live_dataset",
                  on_change=_reset_live_scale)
method = c2.selectbox("Method", ["cg-ddpm", "cg-ddim", "cfg", "cond+cg", "cond", "uncond"], key="live_method",
                      on_change=_reset_live_scale)
guided = method not in ("cond", "uncond")
if "live_scale" not in st.session_state:
    st.session_state["live_scale"] = recommended_scale(ds, method)
scale = c3.number_input(f"Guidance scale {scale_symbol(method)}", 0.0, 100.0, step=0.5, key="live_scale",
                        disabled=not guided)
n = c4.select_slider("Samples", [50, 100, 200, 500], value=100, key="live_n")
if st.button("Measure", key="live_go"):
    with answer_errors():
        bar = st.progress(0.0, text="sampling…")
        total = -(-int(n) // 250) * records.LIVE_STEPS
        done = {"k": 0}

        def tick():
            done["k"] += 1
            bar.progress(min(1.0, done["k"] / total), text=f"step {done['k']}/{total}")

        rec = records.measure_live(ds, method, float(scale) if guided else 0.0, int(n), tick)
        bar.empty()
    row = {k: rec[k] for k in ("method", "n", "fid", "inception_score", "precision", "recall", "judge_accuracy",
                               "classifier_accuracy")}
    row = {"method": row.pop("method"), scale_symbol(method): rec["scale"], **row}
    st.dataframe([row], hide_index=True)
    st.caption("Few samples: FID is biased upwards and precision/recall are noisy; the shipped sweeps use more.")
