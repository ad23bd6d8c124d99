"""Training: train the 2D models live; the shipped image models' curves and the noisy classifier's accuracy over t."""

import time

import streamlit as st

from ui import records, toy
from ui.images import available_datasets, checkpoint_root
from ui.common import answer_errors, setup

setup("Training", "🏋️")
st.title("Training")

st.header("Train the 2D models live")
st.markdown("An ε-network (with label dropout, so it also serves classifier-free guidance) and a noisy "
            "classifier p(y | x_t, t), both small MLPs, trained on fresh samples of the mixture.")
c1, c2, c3 = st.columns(3)
name = c1.selectbox("Mixture", toy.preset_names(), key="train_mixture")
steps = c2.select_slider("Steps per network", [100, 250, 500, 1000, 2500], value=500, key="train_steps")
seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed")
if st.button("Train", type="primary", key="train"):
    bar = st.progress(0.0, text="starting…")
    chart = st.empty()
    curves = {"eps": [], "classifier": []}
    t0 = time.perf_counter()

    def progress(d):
        curves[d["model"]].append(d["loss"])
        done = (d["step"] + (steps if d["model"] == "classifier" else 0)) / (2 * steps)
        bar.progress(min(done, 1.0), text=f"{d['model']}: step {d['step']}/{d['steps']}, loss {d['loss']:.4f}, "
                                          f"{time.perf_counter() - t0:.1f} s")
        if d["step"] % 250 == 0 or d["step"] == d["steps"]:
            ys = {k: v for k, v in curves.items() if v}
            chart.plotly_chart(records.toy_loss_figure(ys))

    with answer_errors():
        toy.train_live(name, int(steps), int(seed), progress)
    st.success(f"Trained both networks in {time.perf_counter() - t0:.1f} s.")

st.header("The shipped image models")
datasets = available_datasets()
if not datasets:
    st.warning("No shipped image models found in "
               f"`{checkpoint_root()}`; train them with `bash checkpoints/train.sh mnist`.")
    st.stop()
dataset = st.selectbox("Dataset", datasets, key="train_dataset")
curves = records.loss_curves(dataset, str(checkpoint_root()))
if curves:
    cols = st.columns(len(curves))
    for col, (kind, fig, caption) in zip(cols, curves):
        with col:
            st.plotly_chart(fig, key=f"curve_{kind}")
            st.caption(caption)
else:
    st.info("No training records (`*.json`) next to the weights.")

acc = records.classifier_accuracy(dataset, str(checkpoint_root()))
if acc is not None:
    fig, by_quarter = acc
    st.subheader("The noisy classifier's accuracy against t")
    st.plotly_chart(fig, key="acc_t")
    if by_quarter:
        st.table({"t range": list(by_quarter), "accuracy": [f"{v:.3f}" for v in by_quarter.values()]})
    st.caption("Near t = T the image is pure noise and no classifier beats chance (1/10); guidance there "
               "only follows the prior. Most of the steering happens at middle t.")
else:
    st.info(f"No measured quality yet: run `python -m cgd.quality --dataset {dataset}`.")
