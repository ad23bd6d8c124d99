"""Measure the shipped models of a dataset and record it next to them (``quality.json``).

    python -m cgd.quality --dataset mnist [--n 500] [--steps 25]

Records: the digests of the measured U-Net (and weak U-Net); the judge's accuracy on the clean test set
(and per class); the background speckle of n real test images; n real training images measured as
samples are (what real data scores); the noisy classifier's accuracy on
q(x_t | x_0) of test images against t (and per quarter of t); for the unguided unconditional model, every
guided method at its recommended scale (autoguidance when a weak U-Net is shipped) and the plain
conditional model, the :func:`cgd.evaluate.evaluate_one` record (judge-FID, precision, recall, the judge's
share of the asked class, the background speckle); and the judge's class histogram of unguided
unconditional samples.
Needs the test set (``python -m cgd.data fetch DATASET``) and the reference statistics.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from cgd.cliutil import Parser
from cgd.cliutil import number, run
from cgd.data import load_dataset
from cgd.device import pick_device
from cgd import methods as registry
from cgd.measure import (REFERENCE_FILE, classifier_accuracy_by_t, evaluate_one, judge_outputs,  # noqa: F401
                         load_reference, make_reference, measure_images, model_tag, save_reference)
from cgd.fileio import atomic_write
from cgd.metrics import background_speckle, class_shares
from cgd.models import FILES, checkpoint_root, load_image_models, recommended_scale, sample_images
from cgd.pipeline import SampleRequest
from cgd.results import current, load_records

__all__ = ["classifier_accuracy_by_t", "main"]


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.quality", description="Measure and record the shipped models.")
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    p.add_argument("--n", default="500", help="samples per guided setting")
    p.add_argument("--steps", default="25")
    p.add_argument("--classifier-n", default="1000", help="test images per t for the classifier's accuracy")
    p.add_argument("--seed", default="0")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--data-root", default=None)
    p.add_argument("--results", default=None, metavar="DIR",
                   help="reuse the records cgd.evaluate wrote here (default: results/)")
    return run(_run, p.parse_args(argv))


def _run(args) -> int:
    n, steps, seed = number(args.n, "n", int), number(args.steps, "steps", int), number(args.seed, "seed", int)
    clf_n = number(args.classifier_n, "classifier-n", int)
    device = pick_device(args.device)
    folder = checkpoint_root() / args.dataset
    models = load_image_models(args.dataset, device=device)
    data_root = Path(args.data_root) if args.data_root else None
    data = load_dataset(args.dataset, "test", data_root)
    t0 = time.perf_counter()
    if not (folder / REFERENCE_FILE).is_file():
        save_reference(make_reference(models, args.dataset, data_root), folder / REFERENCE_FILE)
    ref = load_reference(folder / REFERENCE_FILE)

    x, y = data.batch(torch.arange(len(data)))
    _, probs = judge_outputs(models.judge, x)
    # confusion[c, j]: real test images of class c the judge reads as j. Its accuracy is the trace over the total;
    # on each class's images (samples can score above it: it is no bound) the diagonal over the row
    n_classes = models.num_classes
    confusion = np.bincount(y.numpy() * n_classes + probs.argmax(1),
                            minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    judge_test = float(np.trace(confusion) / confusion.sum())
    by_class = [float(confusion[c, c] / confusion[c].sum()) for c in range(n_classes)]
    real_speckle = background_speckle(x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]])

    ts = list(range(0, 1000, 50)) + [999]
    acc = classifier_accuracy_by_t(models.classifier, data, models.schedule, tqdm(ts, desc="classifier vs t"),
                                   n=clf_n, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    quarters = {}
    for q in range(4):
        t_rand = torch.randint(250 * q, 250 * (q + 1), (2 * clf_n,), generator=gen)
        quarters[f"{250 * q}-{250 * (q + 1) - 1}"] = classifier_accuracy_by_t(
            models.classifier, data, models.schedule, [t_rand], n=2 * clf_n, seed=seed + 2 + q)[0]

    # records `cgd.evaluate` measured already: today's arithmetic and U-Net, every field, the shipped weak model
    unet = model_tag(folder / FILES["unet"])
    weak = model_tag(folder / FILES["weak"]) if models.weak_unet is not None else None
    known = {(r["method"], float(r["scale"]), r["n"], r["steps"], r["seed"], r.get("weak")): r
             for r in load_records(Path(args.results) if args.results else None)
             if r.get("dataset") == args.dataset and current(r) and "background_speckle" in r
             and not r.get("interval") and r.get("unet") == unet}

    def measured(method: str) -> dict:
        scale = recommended_scale(args.dataset, method)
        this_weak = weak if "weak" in registry.get(method).needs else None
        rec = known.get((method, float(scale), n, steps, seed, this_weak))
        if rec is None:
            with tqdm(total=-(-n // 250) * steps, desc=f"{method} s={scale:g}") as bar:
                rec = evaluate_one(models, ref, method, scale, n=n, steps=steps, seed=seed,
                                   on_step=lambda: bar.update(1))
            rec = {**rec, "unet": unet, **({"weak": this_weak} if this_weak else {})}
        return {k: v for k, v in rec.items() if k not in ("source", "dataset", "seconds")}

    # what real data scores: n training images (never in the test set's reference) measured like samples
    train = load_dataset(args.dataset, "train", data_root)
    x_real, y_real = train.batch(torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n])
    real = {"n": n, "seed": seed, **measure_images(models, ref, x_real, y_real, seed=seed)}
    # the unconditional model, then the methods the record holds (cgd.methods.Method.quality_rank; one that needs a
    # weak U-Net when one is shipped), each at its recommended scale
    unguided = [m for m in registry.REGISTRY if not m.guided]
    uncond = measured(unguided[0].name)
    methods = sorted((m for m in registry.REGISTRY if m.quality_rank is not None and ("weak" not in m.needs or weak)),
                     key=lambda m: m.quality_rank)
    guided = [measured(m.name) for m in methods]

    hist = uncond.get("judge_class_shares")
    if hist is None:  # a record from before measure_images kept the class shares: sample the model once more
        req = SampleRequest(method=unguided[0].name, label=None, scale=0.0, steps=steps, n=n, seed=seed,
                            x0_mode="clip")
        _, p_unc = judge_outputs(models.judge, sample_images(models, req).cpu())
        hist = class_shares(p_unc)

    record = {"dataset": args.dataset, "command": "python -m cgd.quality " + " ".join(sys.argv[1:]),
              "judge_test_accuracy": round(judge_test, 4),
              "judge_test_accuracy_by_class": [round(a, 4) for a in by_class],
              "judge_test_confusion": confusion.tolist(),
              "background_speckle_real": round(real_speckle, 4),
              "classifier_accuracy_by_t": {"t": ts, "accuracy": [round(a, 4) for a in acc], "n_per_t": clf_n,
                                           "by_quarter": {k: round(v, 4) for k, v in quarters.items()}},
              "models": {"unet": unet, **({"weak": weak} if weak else {})},
              "real_train": real, "uncond": uncond, "guided": guided,
              "uncond_judge_class_shares": [round(float(h), 4) for h in hist],
              "seconds": round(time.perf_counter() - t0, 1), "device": str(device)}
    atomic_write(folder / "quality.json", json.dumps(record, indent=1).encode())
    print(json.dumps({k: record[k] for k in ("judge_test_accuracy", "uncond_judge_class_shares",
                                             "background_speckle_real")}))
    print(f"real training images: FID {real['fid']:.2f}, precision {real['precision']:.3f}, "
          f"recall {real['recall']:.3f}, judge {real['judge_accuracy']:.3f}")
    print(f"uncond: FID {uncond['fid']:.2f}, precision {uncond['precision']:.3f}, recall {uncond['recall']:.3f}, "
          f"speckle {uncond['background_speckle']:.4f}")
    for r in guided:
        print(f"{r['method']:8s} scale {r['scale']:g}: judge accuracy {r['judge_accuracy']:.3f}, FID {r['fid']:.2f}, "
              f"speckle {r['background_speckle']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
