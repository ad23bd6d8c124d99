"""Fidelity vs diversity: the precision-recall trade-off, and FID, IS, precision, recall and accuracies against
the tilt exponent k (one axis for every method, so s and w never share one)."""

import streamlit as st

from ui import figures, records
from ui import methods as registry
from ui.figures import METHOD_LABELS
from ui.images import available_datasets, recommended_scale, scale_symbol
from ui.common import answer_errors, setup

setup("Fidelity vs diversity", "⚖️")
st.title("Fidelity vs diversity")
st.markdown("The seed paper's central claim: larger scales raise fidelity (IS, precision) and lower diversity "
            "(recall). Here the same measurements on our models, with the **judge** (a classifier of clean images "
            "that never guides sampling) standing in for Inception on 28×28 data.")

LIVE = "fd_live"  # the last measurement made on this page (a dict), drawn as a star on the charts
recs = records.records()
datasets = sorted({r["dataset"] for r in recs})
live = st.session_state.get(LIVE)

if not datasets:
    st.warning("No results yet in `results/`. Make them with "
               "`python -m cgd.evaluate --dataset mnist --methods cg-ddpm,cfg --scales 0,1,2,4,10 --n 1000 "
               "--out results/mnist_sweep.json`.")
else:
    c_data, c_methods = st.columns([1, 3])
    dataset = c_data.selectbox("Dataset", datasets, index=datasets.index("mnist") if "mnist" in datasets else 0,
                               key="fd_dataset")
    methods = sorted({r["method"] for r in recs if r["dataset"] == dataset} - set(records.ANCHORS))
    chosen = c_methods.multiselect("Methods", methods, format_func=lambda m: METHOD_LABELS.get(m, m),
                                   default=[m for m in methods if m in registry.menu("trade-off")] or methods,
                                   key="fd_methods")
    shown_live = tuple(live.items()) if live and live.get("dataset") == dataset else ()
    pr_col, words_col = st.columns([3, 2])
    with pr_col:
        st.plotly_chart(records.tradeoff_figure(dataset, tuple(chosen), shown_live, height=520), key="tradeoff")
    with words_col:
        st.markdown("**How to read it.** Each point is one guidance scale, labelled with the method's own knob "
                    "(*s* for classifier guidance, *w* for CFG and autoguidance). Up is more precision: samples "
                    "that look like real data. Right is more recall: real data that the samples cover. The "
                    "diamonds are the unguided models every curve starts from: the unconditional model for "
                    "classifier guidance, the conditional model for CFG, conditional + CG and autoguidance.")
        st.markdown("**The papers' picture.** Guidance trades recall for precision: a curve that runs up and to "
                    "the left. The hollow circles are the same settings measured again with other seeds: how far "
                    "one measurement moves by chance. A difference smaller than that gap is noise.")
        if live:
            where = ("the ★ marks it on every chart" if shown_live else
                     f"it was made on {live['dataset']}: choose that dataset to see it on the charts")
            st.info(f"Your measurement ({live['n']} samples): {where}.")

    st.subheader("Each measure against the tilt exponent k")
    st.markdown(figures.method_key_html(chosen), unsafe_allow_html=True)
    st.markdown(r"One axis for every method: the tilt exponent $k$ of the guided score, the score of "
                r"$p_t(x)\,p_t(y\mid x)^k$. Classifier guidance on the unconditional model has $k = s$, conditional "
                r"+ CG $k = 1 + s$, CFG $k = 1 + w$; autoguidance tilts by no power of $p(y\mid x)$ and sits at "
                r"CFG's $k = 1 + w$ of the same $w$. With exact networks, methods at the same $k$ follow the same "
                r"score (the 2D page shows it); differences between them here come from the networks and the "
                r"step's form. Diamonds: the unconditional model ($k = 0$) and the conditional model ($k = 1$).")
    cols = st.columns(2)
    for k, (key, fig) in enumerate(records.metric_figures(dataset, tuple(chosen), shown_live)):
        with cols[k % 2]:
            st.plotly_chart(fig, key=f"metric_{key}")
    st.subheader("The paper's table, on our data")
    st.dataframe(records.paper_table(dataset), hide_index=True)
    st.caption("Paper: Dhariwal & Nichol (2021), ImageNet 256×256, Inception features, 250 steps. Ours: the judge's "
               "features on 28×28 images; the numbers are not comparable across the two, the trends are. "
               "See docs/results.md for the comparison.")
    with st.expander("About these measurements"):
        shown = [r for m in chosen for r in records.sweep(recs, dataset, m)]
        sizes = ", ".join(f"{v}" for v in sorted({r["n"] for r in shown}))
        steps = ", ".join(f"{v}" for v in sorted({r["steps"] for r in shown if r.get("steps")}))
        st.markdown(f"Each point: {sizes} samples, {steps} sampling steps, judge features against the test set "
                    "(`results/*.json`); the hollow circles: the same settings with other seeds "
                    "(`results/spread/`). docs/results.md has the commands and the spread over seeds of each "
                    "measure.")

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
live_methods = registry.menu("measure")
method = c2.selectbox("Method", live_methods, index=live_methods.index(registry.opens_on("measure")),
                      key="live_method",
                      on_change=_reset_live_scale, format_func=lambda m: METHOD_LABELS.get(m, m))
guided = registry.guided(method)
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
            bar.progress(min(1.0, done["k"] / total), text=f"sampling: {done['k']} of {total} steps")

        rec = records.measure_live(ds, method, float(scale) if guided else 0.0, int(n), tick)
        bar.empty()
    st.session_state[LIVE] = {**{k: rec.get(k) for k in ("method", "scale", "n", *records.LIVE_COLUMNS)},
                              "dataset": ds}
    st.rerun()  # draw it on the charts above
if live:
    st.dataframe([records.live_row(live)], hide_index=True)
    st.caption(f"Measured on {live['dataset']} with {records.LIVE_STEPS} steps, seed 0, {live['n']} samples. "
               "Few samples: FID is biased upwards and precision and recall are noisy; the hollow circles above show "
               "how far one measurement moves from seed to seed.")
