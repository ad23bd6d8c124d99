"""Plots and tables of the shipped results: ``python -m cgd.report [--results results] [--out docs]``.

Writes ``docs/results_DATASET.png`` (FID, IS, precision, recall, judge accuracy against the
scale, one curve per method) and prints markdown tables of every record, and the spread over
seeds of the settings that ``results/spread/*.json`` repeats with other seeds.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cgd.cliutil import Parser, run
from cgd.methods import REGISTRY
from cgd.palette import METHOD_COLORS, METHOD_LABELS
from cgd.results import JUDGE_FLOOR, RESULTS_DIR, choose_scale, load_records, paper_analogue, sweep

METRICS = [("fid", "FID (judge features) ↓"), ("inception_score", "IS (judge) ↑"), ("precision", "precision ↑"),
           ("recall", "recall ↑"), ("judge_accuracy", "judge accuracy ↑"), ("classifier_accuracy", "guiding classifier acc.")]


def plot(records: list, dataset: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = sorted({r["method"] for r in records if r["dataset"] == dataset})
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.6))
    for ax, (key, title) in zip(axes.flat, METRICS):
        for m in methods:
            pts = [r for r in sweep(records, dataset, m) if r.get(key) is not None]
            color = METHOD_COLORS.get(m, "black")  # the app's colour of the method
            if len(pts) > 1:
                ax.plot([r["scale"] for r in pts], [r[key] for r in pts], "o-", color=color,
                        label=METHOD_LABELS.get(m, m))
            elif pts:
                ax.axhline(pts[0][key], ls=":", color=color, label=f"{METHOD_LABELS.get(m, m)} (no scale)")
        ax.set_title(title)
        ax.set_xlabel("guidance scale s (CFG, autoguidance: w)")
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)  # under the plots
    fig.suptitle(f"{dataset}: guidance scale against fidelity and diversity")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    path = out / f"results_{dataset}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def table(records: list, dataset: str) -> str:
    rows = ["| method | scale | n | FID | IS | precision | recall | judge acc. | classifier acc. |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in sorted({r["method"] for r in records if r["dataset"] == dataset}):
        for r in sweep(records, dataset, m):
            ca = "" if r.get("classifier_accuracy") is None else f"{r['classifier_accuracy']:.3f}"
            rows.append(f"| {m} | {r['scale']:g} | {r['n']} | {r['fid']:.2f} | {r['inception_score']:.2f} | "
                        f"{r['precision']:.3f} | {r['recall']:.3f} | {r['judge_accuracy']:.3f} | {ca} |")
    return "\n".join(rows)


def paper_table(records: list, dataset: str) -> str:
    rows = ["| conditional | guidance | scale | paper FID | paper IS | paper P | paper R | our FID | our IS | our P | our R |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    fmt = lambda v, f: "—" if v is None else format(v, f)  # noqa: E731
    for r in paper_analogue(records, dataset):
        rows.append(f"| {r['conditional']} | {r['guidance']} | {r['scale']} | {r['paper FID']} | {r['paper IS']} | "
                    f"{r['paper P']} | {r['paper R']} | {fmt(r['our FID'], '.2f')} | {fmt(r['our IS'], '.2f')} | "
                    f"{fmt(r['our P'], '.3f')} | {fmt(r['our R'], '.3f')} |")
    return "\n".join(rows)


def recommend_table(records: list, dataset: str) -> str:
    """Each guided method's scale by the rule of :func:`cgd.results.choose_scale`, with its record."""
    if dataset not in JUDGE_FLOOR:
        return ""
    rows = [f"| method | scale (judge ≥ {JUDGE_FLOOR[dataset]:.2%}, lowest FID) | judge acc. | FID | precision | recall |",
            "| --- | --- | --- | --- | --- | --- |"]
    unguided = {m.name for m in REGISTRY if not m.guided}
    for m in sorted({r["method"] for r in records if r["dataset"] == dataset} - unguided):
        r = choose_scale(records, dataset, m)
        rows.append(f"| {m} | none reaches it | | | | |" if r is None else
                    f"| {m} | {r['scale']:g} | {r['judge_accuracy']:.3f} | {r['fid']:.2f} | {r['precision']:.3f} | "
                    f"{r['recall']:.3f} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def spread_table(records: list, extra: list, dataset: str) -> str:
    """Mean and standard deviation over seeds of the configurations measured with several seeds."""
    import statistics

    groups = {}
    for r in records + extra:
        if r.get("dataset") == dataset:
            key = (r["method"], float(r["scale"]), r["n"], r["steps"])
            groups.setdefault(key, {})[r.get("seed")] = r
    rows = ["| method | scale | n | seeds | FID | IS | precision | recall | judge acc. |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (method, scale, n, _), by_seed in sorted(groups.items()):
        if len(by_seed) < 2:
            continue
        cells = []
        for key in ("fid", "inception_score", "precision", "recall", "judge_accuracy"):
            v = [r[key] for r in by_seed.values()]
            cells.append(f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}")
        rows.append(f"| {method} | {scale:g} | {n} | {len(by_seed)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) if len(rows) > 2 else ""


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.report", description="Plots and tables of results/*.json.")
    p.add_argument("--results", default=str(RESULTS_DIR))
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"))
    return run(_run, p.parse_args(argv))


def _run(args) -> int:
    records = load_records(Path(args.results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    extra = load_records(Path(args.results) / "spread")  # the same settings with other seeds
    for ds in sorted({r["dataset"] for r in records}):
        print(f"## {ds}\n\n![]({plot(records, ds, out).name})\n\n{table(records, ds)}\n\n{paper_table(records, ds)}\n")
        chosen = recommend_table(records, ds)
        if chosen:
            print(f"Recommended scales by the rule (cgd.results.choose_scale):\n\n{chosen}\n")
        spread = spread_table(records, extra, ds)
        if spread:
            print(f"Spread over seeds (mean ± standard deviation):\n\n{spread}\n")
    if not records:
        print("no results found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
