"""Training: train the 2D models live (losses, learned density, classifier boundary as they train; the trained
networks kept for the 2D page); the shipped image models' curves and the noisy classifier's accuracy over t."""

import time

import streamlit as st

from ui import records, toy, training
from ui.common import answer_errors, setup
from ui.images import available_datasets, checkpoint_root

setup("Training", "🏋️")
st.title("Training")

st.subheader("Train the 2D models live")
st.markdown("An $\\varepsilon$-network $\\varepsilon_\\theta(x_t, t, y)$ (its label dropped now and then, so it also serves "
            "classifier-free guidance), then a noisy classifier $p_\\phi(y \\mid x_t, t)$, learn a 2D mixture from "
            "fresh samples of it, drawn beside the exact answers as they train. The trained networks are kept for "
            "the **Guidance in 2D** page (under *Models*).")
c1, c2, c3, c4 = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
name = c1.selectbox("Mixture", toy.preset_names(), key="train_mixture")
steps = c2.select_slider("Steps per network", [100, 250, 500, 1000, 2500], value=500, key="train_steps")
seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed")
go_train = c4.button("Train", type="primary", key="train", width="stretch")
mixture_json = toy.preset_json(name)
steps, seed = int(steps), int(seed)

bar = st.empty()
loss_cols = st.columns(2)
loss_slots = [c.empty() for c in loss_cols]
map_cols = st.columns(2)
map_slots = [c.empty() for c in map_cols]
caption_cols = st.columns(2)
caption_slots = [c.empty() for c in caption_cols]
FRAMES = iter(range(10**6))  # a fresh key for every redraw of a slot within this run
LOSS = {"eps": ("ε-network", "ε loss (mean of 50 steps)"), "classifier": ("noisy classifier", "cross-entropy")}


def draw_losses(history: dict) -> None:
    for slot, key in zip(loss_slots, ("eps", "classifier")):
        if history.get(key):
            title, ytitle = LOSS[key]
            slot.plotly_chart(training.loss_figure(history[key], title=title, ytitle=ytitle, steps=steps),
                              key=f"loss_{key}_{next(FRAMES)}")


def draw_density(views: dict, step_text: str) -> None:
    map_slots[0].plotly_chart(training.density_figure(views, title=f"Learned density, {step_text}"),
                              key=f"density_{next(FRAMES)}")
    caption_slots[0].caption(
        f"Grey cells: where {training.DENSITY_POINTS} samples of the learned model fall (its ε-network without a "
        f"label, {training.DENSITY_STEPS} DDPM steps, the same noise in every frame). Black lines: the exact "
        f"$p(x)$. Total-variation distance between the samples' histogram and $p(x)$: **{views['tv']:.2f}**; "
        f"as many exact samples of $p(x)$ score {views['tv_exact']:.2f} on the same cells.")


def draw_boundary(grid: dict, step_text: str) -> None:
    points, labels = training.data_points(mixture_json)
    map_slots[1].plotly_chart(training.boundary_figure(grid, points, labels,
                                                       title=f"Classifier at t = 0, {step_text}"),
                              key=f"boundary_{next(FRAMES)}")
    caption_slots[1].caption(
        "Colour: the learned $p_\\phi(y \\mid x, t = 0)$, each class its colour, white where it is unsure. "
        "Dashed: where the exact $p(y \\mid x) = 1/2$. Dots: the data, coloured by class. The learned and the "
        f"exact classifier pick the same class on **{training.agreement(grid):.0%}** of the plotted square.")


every = max(50, (steps // 5) // 50 * 50)  # about five frames per network, on the trainer's 50-step reports
if go_train:
    t0 = time.perf_counter()
    history = {"eps": [], "classifier": []}
    map_slots[1].info("The classifier trains after the ε-network.")

    def report(d):
        history[d["model"]].append(d["loss"])
        done = (d["step"] + (steps if d["model"] == "classifier" else 0)) / (2 * steps)
        label = LOSS[d["model"]][0]
        bar.progress(min(done, 1.0), text=f"{label}: step {d['step']} of {d['steps']}, "
                                          f"{time.perf_counter() - t0:.0f} s")
        if d["step"] % every == 0 or d["step"] == d["steps"]:
            draw_losses(history)
            frame = f"step {d['step']} of {d['steps']}"
            if d["model"] == "eps":
                draw_density(training.density_views(mixture_json, d["net"]), frame)
            else:
                draw_boundary(training.boundary_views(mixture_json, d["net"]), frame)

    with answer_errors():
        training.train(mixture_json, steps, seed, report)
    kept = f"They are kept: on the Guidance in 2D page, pick *{training.kind_of(steps, seed)}* under Models."
    if history["eps"]:
        bar.success(f"Trained both networks in {time.perf_counter() - t0:.0f} s. {kept}")
    else:  # the shared cache had them: training is deterministic for a seed, so they are the same networks
        bar.success(f"These networks were trained already (the same mixture, steps and seed give the same "
                    f"networks). {kept}")

if (steps, seed) in st.session_state.get(training.SESSION_KEY, {}).get(mixture_json, []):
    with answer_errors():
        final = training.final_views(mixture_json, steps, seed)
    draw_losses(final["history"])
    draw_density(final["density"], f"after {steps} steps")
    draw_boundary(final["boundary"], f"after {steps} steps")
elif not go_train:
    bar.info("Press **Train**: the curves, the learned density and the classifier's boundary are drawn as the "
             "networks learn.")

st.subheader("The shipped image models")
datasets = available_datasets()
if not datasets:
    st.warning("No shipped image models found in "
               f"`{checkpoint_root()}`; train them with `bash checkpoints/train.sh mnist`.")
    st.stop()
dataset = st.selectbox("Dataset", datasets, key="train_dataset")
curves = training.image_curves(dataset, str(checkpoint_root()))
about = []
if curves:
    first, rest = curves[0], curves[1:]
    with st.container(key=f"curvebox_{first[0]}"):
        st.plotly_chart(first[1], key=f"curve_{first[0]}")
    st.caption(first[2])
    cols = st.columns(2)
    for col, (kind, fig, caption, _) in zip(cols, rest):
        with col:
            with st.container(key=f"curvebox_{kind}"):
                st.plotly_chart(fig, key=f"curve_{kind}")
            st.caption(caption)
    about = [f"- **{kind}**: {text}" for kind, _, _, text in curves]
else:
    st.info("No training records (`*.json`) next to the weights.")

acc = records.classifier_accuracy(dataset, str(checkpoint_root()))
if acc is not None:
    st.subheader("The noisy classifier's accuracy against $t$")
    st.plotly_chart(acc[0], key="acc_t")
    caption, more = training.classifier_notes(dataset)
    st.caption(caption)
    about += more
else:
    st.info(f"No measured quality yet: run `python -m cgd.quality --dataset {dataset}`.")

with st.expander("About these models"):
    st.markdown("\n".join(about) or "No records.")
