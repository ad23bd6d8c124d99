"""Fidelity vs diversity: FID, IS, precision, recall and accuracies against the guidance scale."""

import streamlit as st

from ui import figures
from cgd.evaluate import REFERENCE_FILE, evaluate_one, load_reference
from cgd.models import available_datasets, checkpoint_root
from cgd.results import load_records, paper_analogue, sweep
from ui import images
from ui.common import answer_errors, setup

setup("Fidelity vs diversity", "⚖️")
st.title("Fidelity vs diversity")
st.markdown("The seed paper's central claim: larger scales raise fidelity (IS, precision) and lower diversity "
            "(recall); an unconditional model needs a large scale, a conditional one is best at a moderate one. "
            "Features and class probabilities come from the **judge**, a classifier of clean images that never "
            "guides sampling (standing in for Inception on 28×28 data).")

records = load_records()
datasets = sorted({r["dataset"] for r in records})
METRICS = [("fid", "FID ↓"), ("inception_score", "IS ↑"), ("precision", "precision ↑"), ("recall", "recall ↑"),
           ("judge_accuracy", "judge accuracy ↑"), ("classifier_accuracy", "guiding classifier accuracy")]

if not datasets:
    st.warning("No results yet in `results/`. Make them with "
               "`python -m cgd.evaluate --dataset mnist --methods cg-ddpm,cfg --scales 0,1,2,4,10 --n 1000 "
               "--out results/mnist_sweep.json`.")
else:
    dataset = st.selectbox("Dataset", datasets, key="fd_dataset")
    methods = sorted({r["method"] for r in records if r["dataset"] == dataset})
    chosen = st.multiselect("Methods", methods, default=[m for m in methods if m in ("cg-ddpm", "cfg", "cond+cg")]
                            or methods, key="fd_methods")
    cols = st.columns(3)
    for k, (key, title) in enumerate(METRICS):
        series, xs = {}, None
        for m in chosen:
            pts = [r for r in sweep(records, dataset, m) if r.get(key) is not None]
            if len(pts) > 1:
                series[m] = ([r["scale"] for r in pts], [r[key] for r in pts])
        with cols[k % 3]:
            fig = figures.lines_figure([], {}, xtitle="scale (CFG: w)", ytitle=title, height=260)
            for m, (x, y) in series.items():
                fig.add_scatter(x=x, y=y, mode="lines+markers", name=m)
            st.plotly_chart(fig, key=f"metric_{key}")
    st.subheader("The paper's table, on our data")
    st.dataframe(paper_analogue(records, dataset), hide_index=True)
    st.caption("Paper: Dhariwal & Nichol (2021), ImageNet 256×256, Inception features, 250 steps. Ours: the judge's "
               "features on 28×28 images; the numbers are not comparable across the two, the trends are. "
               "See docs/results.md for the comparison.")

st.subheader("A small live run")
avail = available_datasets()
if not avail:
    st.info("No trained image models: `bash checkpoints/train.sh mnist`.")
    st.stop()
c1, c2, c3, c4 = st.columns(4)
ds = c1.selectbox("Dataset", avail, key="live_dataset")
method = c2.selectbox("Method", ["cg-ddpm", "cg-ddim", "cfg", "cond+cg", "cond", "uncond"], key="live_method")
scale = c3.number_input("Scale", 0.0, 100.0, 4.0, 0.5, key="live_scale")
n = c4.select_slider("Samples", [50, 100, 200, 500], value=100, key="live_n")
if st.button("Measure", key="live_go"):
    ref_path = checkpoint_root() / ds / REFERENCE_FILE
    with answer_errors():
        ref = load_reference(ref_path)
        models = images.get_models(ds)
        steps = 25
        bar = st.progress(0.0, text="sampling…")
        total = -(-int(n) // 250) * steps
        done = {"k": 0}

        def tick():
            done["k"] += 1
            bar.progress(min(1.0, done["k"] / total), text=f"step {done['k']}/{total}")

        rec = evaluate_one(models, ref, method, float(scale) if method not in ("cond", "uncond") else 0.0,
                           n=int(n), steps=steps, seed=0, on_step=tick)
    st.dataframe([{k: rec[k] for k in ("method", "scale", "n", "fid", "inception_score", "precision", "recall",
                                       "judge_accuracy", "classifier_accuracy")}], hide_index=True)
    st.caption("Few samples: FID is biased upwards and precision/recall are noisy; the shipped sweeps use more.")
