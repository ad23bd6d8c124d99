"""Measure guidance like the paper: FID, IS, precision/recall, judge and classifier accuracy per (method, scale).

    python -m cgd.evaluate --dataset mnist --methods cg-ddpm,cfg --scales 0,1,2,4,10 --n 1000 --steps 25 \\
        --seed 0 --out results/mnist_sweep.json

Labels are drawn uniformly at random per sample (as the paper does) from the seed; every
(method, scale) sees the same labels and the same starting noise, so differences between rows
are the guidance's, not the draw's. Features come from the judge; the real side is the shipped
reference file ``checkpoints/DATASET/reference.npz`` (judge statistics of the test set), made by
``python -m cgd.evaluate --dataset mnist --make-reference``.
"""

from __future__ import annotations

import io
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from tqdm import tqdm

from cgd.cliutil import Parser
from cgd.cliutil import number, run
from cgd.data import load_dataset
from cgd.device import pick_device
from cgd.errors import InputError
from cgd.fileio import atomic_write, file_sha256
from cgd.metrics import (background_speckle, class_shares, frechet_distance, gaussian_stats, inception_score,
                         judge_accuracy, precision_recall)
from cgd.models import CLASSIFIER_METHODS, FILES, ImageModels, checkpoint_root, load_image_models, sample_images
from cgd.pipeline import EXTRA_METHODS, METHODS, SAMPLER_VERSIONS, SampleRequest
from cgd.results import current

__all__ = ["Reference", "judge_outputs", "make_reference", "load_reference", "evaluate_one", "measure_images",
           "model_tag", "main"]

REFERENCE_FILE = "reference.npz"
PR_REAL = 5000  # real features kept for precision/recall


@dataclass(frozen=True)
class Reference:
    mu: np.ndarray  # [D]
    sigma: np.ndarray  # [D, D]
    features: np.ndarray  # [M, D] a random subset of the real features (precision / recall)
    n: int  # how many real images the statistics were computed from


@torch.no_grad()
def judge_outputs(judge: torch.nn.Module, x: torch.Tensor, batch: int = 500) -> tuple:
    """``(features [N, D], probs [N, C])`` of images ``x: [N, C, H, W]`` in [-1, 1]."""
    feats, probs = [], []
    dev = next(judge.parameters()).device
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(dev).float()
        f = judge.features(xb)
        feats.append(f.cpu())
        probs.append(torch.softmax(judge.head(f).float(), 1).cpu())
    return torch.cat(feats).double().numpy(), torch.cat(probs).double().numpy()


def make_reference(models: ImageModels, dataset: str, data_root: Optional[Path] = None, seed: int = 0) -> Reference:
    data = load_dataset(dataset, "test", data_root)
    x, _ = data.batch(torch.arange(len(data)))
    feats, _ = judge_outputs(models.judge, x)
    mu, sigma = gaussian_stats(feats)
    keep = np.random.default_rng(seed).permutation(len(feats))[:PR_REAL]
    return Reference(mu, sigma, feats[keep].astype(np.float32), len(feats))


def save_reference(ref: Reference, path: Path) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, mu=ref.mu, sigma=ref.sigma, features=ref.features.astype(np.float16), n=ref.n)
    atomic_write(path, buf.getvalue())


def load_reference(path: Path) -> Reference:
    if not path.is_file():
        raise InputError(f"reference statistics {path} not found; make them with "
                         f"`python -m cgd.evaluate --dataset {path.parent.name} --make-reference`")
    try:
        with np.load(path, allow_pickle=False) as z:
            return Reference(z["mu"], z["sigma"], z["features"].astype(np.float64), int(z["n"]))
    except (OSError, ValueError, KeyError) as e:
        raise InputError(f"reference statistics {path} are unreadable ({e})") from None


def draw_labels(n: int, num_classes: int, seed: int) -> torch.Tensor:
    return torch.randint(0, num_classes, (n,), generator=torch.Generator().manual_seed(seed))


def evaluate_one(models: ImageModels, ref: Reference, method: str, scale: float, *, n: int, steps: int, seed: int,
                 batch: int = 250, on_step: Optional[Callable[[], None]] = None, interval=None) -> dict:
    """Sample n images with per-sample random labels and measure them against the reference.

    interval: ``(t_lo, t_hi)`` to guide only there (limited-interval guidance), recorded in the result.
    """
    labels = draw_labels(n, models.num_classes, seed)
    xs = []
    for b, start in enumerate(range(0, n, batch)):
        yb = labels[start:start + batch]
        req = SampleRequest(method=method, label=None if method == "uncond" else 0, scale=scale, steps=steps,
                            n=len(yb), seed=seed * 1_000_003 + b, x0_mode="clip", interval=interval)
        xs.append(sample_images(models, req, labels=None if method == "uncond" else yb,
                                callback=(lambda d: on_step()) if on_step else None).cpu())
    x = torch.cat(xs)
    return {"method": method, "scale": float(scale), "n": n, "steps": steps, "seed": seed,
            "sampler_version": SAMPLER_VERSIONS[method],
            **({"interval": list(interval)} if interval is not None else {}),
            **measure_images(models, ref, x, labels, seed=seed)}


def measure_images(models: ImageModels, ref: Reference, x: torch.Tensor, labels: torch.Tensor, *,
                   seed: int) -> dict:
    """The metrics of images x ([N, C, H, W] in [-1, 1]) meant to show ``labels`` ([N]): judge-FID and
    judge-IS against the reference, precision/recall against N of its real features (drawn with ``seed``),
    the judge's and the noisy classifier's (at t = 0) accuracy on the labels, the background speckle, and
    the share of the images the judge reads as each class (``judge_class_shares``, [C])."""
    n = len(x)
    feats, probs = judge_outputs(models.judge, x)
    rng = np.random.default_rng(seed)
    real = ref.features[rng.permutation(len(ref.features))[:n]]
    precision, recall = precision_recall(real, feats)
    clf_acc = None
    if models.classifier is not None:
        with torch.no_grad():
            t0 = torch.zeros(len(x), dtype=torch.long, device=models.device)
            logits = torch.cat([models.classifier(x[i:i + 500].to(models.device), t0[i:i + 500]).cpu()
                                for i in range(0, len(x), 500)])
        clf_acc = float((logits.argmax(1) == labels).double().mean())
    return {"fid": round(frechet_distance(*gaussian_stats(feats), ref.mu, ref.sigma), 4),
            "inception_score": round(inception_score(probs), 4),
            "precision": round(precision, 4), "recall": round(recall, 4),
            "judge_accuracy": round(judge_accuracy(probs, labels.numpy()), 4),
            "classifier_accuracy": None if clf_acc is None else round(clf_acc, 4),
            "background_speckle": round(background_speckle(x), 4),
            "judge_class_shares": [round(float(h), 4) for h in class_shares(probs)]}


def model_tag(path: Path) -> str:
    """How a record names the network it measured (the U-Net, autoguidance's weak model): file name and the
    start of its sha256, so that a record of an older file is never taken for one of today's."""
    return f"{Path(path).name}@{file_sha256(Path(path))[:12]}"


def _list(text: str, what: str, kind=float) -> list:
    items = [s for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{what} must be a comma-separated list")
    return [number(s, what, kind) for s in items]


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    p.add_argument("--methods", default="cg-ddpm", help=f"comma-separated, of {', '.join(METHODS + EXTRA_METHODS)}")
    p.add_argument("--scales", default="0,1,2,4,10", help="comma-separated (CFG: w)")
    p.add_argument("--n", default="1000")
    p.add_argument("--steps", default="25")
    p.add_argument("--seed", default="0")
    p.add_argument("--batch", default="250")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", default=None, help="results JSON (records are appended; existing ones are kept)")
    p.add_argument("--make-reference", action="store_true", help="compute the test-set reference statistics")
    p.add_argument("--interval", nargs=2, default=None, metavar=("LO", "HI"),
                   help="guide only at training timesteps LO <= t <= HI (limited-interval guidance)")
    p.add_argument("--unet", default=None, metavar="PATH",
                   help="measure this U-Net (a training snapshot, say) instead of the shipped unet.safetensors; "
                        "records name it by its file name and digest")
    p.add_argument("--weak", default=None, metavar="PATH",
                   help="autoguidance's weak U-Net (default: the shipped unet_weak.safetensors)")
    args = p.parse_args(argv)
    return run(_run, args)


def _run(args) -> int:
    device = pick_device(args.device)
    folder = checkpoint_root() / args.dataset
    if args.make_reference:
        models = load_image_models(args.dataset, device=device, need=("unet", "judge"))
        ref = make_reference(models, args.dataset, Path(args.data_root) if args.data_root else None)
        save_reference(ref, folder / REFERENCE_FILE)
        print(f"wrote {folder / REFERENCE_FILE} ({ref.n} test images, {ref.features.shape[1]}-d judge features)")
        return 0
    if not args.out:
        raise InputError("--out is required (a results .json file)")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    known = METHODS + EXTRA_METHODS
    bad = [m for m in methods if m not in known]
    if bad or not methods:
        raise InputError(f"unknown method(s) {', '.join(bad) or '(none)'}; choose from {', '.join(known)}")
    weak_path = Path(args.weak) if args.weak else None
    if weak_path is not None and not weak_path.is_file():
        raise InputError(f"weak U-Net {weak_path} not found")
    unet_path = Path(args.unet) if args.unet else None
    if unet_path is not None and not unet_path.is_file():
        raise InputError(f"U-Net {unet_path} not found")
    scales = _list(args.scales, "scales")
    n, steps, seed, batch = (number(args.n, "n", int), number(args.steps, "steps", int),
                             number(args.seed, "seed", int), number(args.batch, "batch", int))
    if not 4 <= n <= 50_000:
        raise InputError(f"n must be between 4 and 50000, got {n}")
    if batch < 1:
        raise InputError(f"batch must be positive, got {batch}")
    interval = None if args.interval is None else tuple(number(v, "interval", int) for v in args.interval)
    for s in scales:  # validate every request before any work
        for m in methods:
            SampleRequest(method=m, label=0, scale=s, steps=steps, n=1, seed=seed,
                          interval=interval).validated(10, 1000)
    out = Path(args.out)
    if not out.parent.exists():
        raise InputError(f"output folder {out.parent} does not exist")
    records = []
    if out.is_file():
        try:
            records = json.loads(out.read_text())["records"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{out} exists but is not a results file; choose another --out") from None
    need = ("unet", "judge") + (("classifier",) if folder.joinpath("classifier.safetensors").is_file() else ())
    if any(m in CLASSIFIER_METHODS for m in methods):
        need = ("unet", "classifier", "judge")
    if "autoguidance" in methods:
        need = need + ("weak",)
    models = load_image_models(args.dataset, device=device, need=need, weak_path=weak_path, unet_path=unet_path)
    if models.judge is None:
        raise InputError(f"the judge checkpoint is missing in {folder}")
    if "autoguidance" in methods and models.weak_unet is None:
        raise InputError(f"autoguidance needs a weak U-Net: none in {folder}; give one with --weak PATH")
    weak = None if models.weak_unet is None else model_tag(weak_path or folder / FILES["weak"])
    unet = model_tag(unet_path or folder / FILES["unet"])
    ref = load_reference(folder / REFERENCE_FILE)
    todo = [(m, s) for m in methods for s in scales if m not in ("uncond", "cond") or s == scales[0]]
    done = {(r["method"], r["scale"], r["n"], r["steps"], r["seed"], tuple(r.get("interval") or ()), r.get("weak"))
            for r in records if r.get("dataset") == args.dataset and current(r) and r.get("unet") == unet}
    todo = [(m, s) for m, s in todo
            if (m, float(s), n, steps, seed, tuple(interval or ()), weak if m == "autoguidance" else None) not in done]
    with tqdm(total=len(todo) * n * steps, desc=f"evaluate {args.dataset}", unit="img-step") as bar:
        for m, s in todo:
            t0 = time.perf_counter()
            bsize = [min(batch, n - i) for i in range(0, n, batch)]
            counter = {"k": 0}

            def tick():
                bar.update(bsize[min(counter["k"] // steps, len(bsize) - 1)])
                counter["k"] += 1

            rec = evaluate_one(models, ref, m, 0.0 if m in ("uncond", "cond") else s, n=n, steps=steps, seed=seed,
                               batch=batch, on_step=tick, interval=interval)
            rec = {"dataset": args.dataset, **rec, "unet": unet, **({"weak": weak} if m == "autoguidance" else {}),
                   "seconds": round(time.perf_counter() - t0, 1)}
            records.append(rec)
            atomic_write(out, json.dumps({"records": records}, indent=1).encode())
            bar.write(f"{m:8s} scale {rec['scale']:<5g} FID {rec['fid']:8.3f}  IS {rec['inception_score']:5.2f}  "
                      f"P {rec['precision']:.3f}  R {rec['recall']:.3f}  judge {rec['judge_accuracy']:.3f}  "
                      f"speckle {rec['background_speckle']:.4f}")
    print(f"wrote {out} ({len(records)} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
