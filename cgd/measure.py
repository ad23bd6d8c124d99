"""The code that measures: samples and real images against the reference statistics of the test set.

One module for both measuring CLIs, :mod:`cgd.evaluate` (sweeps over methods and scales) and :mod:`cgd.quality`
(the shipped models' record): the judge's features and probabilities, the reference, one (method, scale)
record, the metrics of a set of images, the noisy classifier's accuracy against t.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from cgd import methods as registry
from cgd.data import load_dataset
from cgd.errors import InputError
from cgd.fileio import atomic_write, file_sha256
from cgd.metrics import (background_speckle, class_shares, frechet_distance, gaussian_stats, inception_score,
                         judge_accuracy, precision_recall)
from cgd.models import ImageModels, sample_images
from cgd.pipeline import SAMPLER_VERSIONS, SampleRequest

__all__ = ["REFERENCE_FILE", "Reference", "judge_outputs", "make_reference", "save_reference", "load_reference",
           "draw_labels", "evaluate_one", "measure_images", "model_tag", "classifier_accuracy_by_t"]

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
                 batch: int = 250, on_step: Optional[Callable[[], None]] = None, interval=None, options=(),
                 guidance_schedule: str = "constant", sampler: Optional[str] = None) -> dict:
    """Sample n images with per-sample random labels and measure them against the reference.

    interval: ``(t_lo, t_hi)`` to guide only there (limited-interval guidance); options: the method's own
    (:mod:`cgd.methods`); guidance_schedule: w(t); sampler: another than the method's own (``'dpmpp-2m'``).
    Each is recorded in the result when it is not the default.
    """
    unlabelled = not registry.get(method).needs_label and not registry.get(method).guided  # the unconditional model
    labels = draw_labels(n, models.num_classes, seed)
    xs = []
    for b, start in enumerate(range(0, n, batch)):
        yb = labels[start:start + batch]
        req = SampleRequest(method=method, label=None if unlabelled else 0, scale=scale, steps=steps, n=len(yb),
                            seed=seed * 1_000_003 + b, x0_mode="clip", interval=interval, options=options,
                            guidance_schedule=guidance_schedule, sampler=sampler)
        xs.append(sample_images(models, req, labels=None if unlabelled else yb,
                                callback=(lambda d: on_step()) if on_step else None).cpu())
    x = torch.cat(xs)
    return {"method": method, "scale": float(scale), "n": n, "steps": steps, "seed": seed,
            "sampler_version": SAMPLER_VERSIONS[method],
            **({"interval": list(interval)} if interval is not None else {}),
            **({"options": dict(req.options)} if req.options else {}),
            **({"guidance_schedule": guidance_schedule} if guidance_schedule != "constant" else {}),
            **({"sampler": sampler} if sampler is not None else {}),
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


@torch.no_grad()
def classifier_accuracy_by_t(classifier, data, schedule, ts, *, n: int = 1000, seed: int = 0,
                             batch: int = 500) -> list:
    """Accuracy of ``classifier(x_t, t)`` on ``x_t ~ q(x_t | x_0)`` of n test images, for each t in ts."""
    gen = torch.Generator().manual_seed(seed)
    dev = next(iter(list(classifier.parameters()) + list(classifier.buffers())), torch.empty(0)).device
    out = []
    for t in ts:
        t = torch.as_tensor(t).long()
        correct = 0
        for start in range(0, n, batch):
            m = min(batch, n - start)
            x0, y = data.batch(torch.randint(0, len(data), (m,), generator=gen))
            tb = t.expand(m) if t.ndim == 0 else t[start:start + m]
            x_t = schedule.q_sample(x0, tb, torch.randn(x0.shape, generator=gen))
            correct += int((classifier(x_t.to(dev), tb.to(dev)).argmax(1).cpu() == y).sum())
        out.append(correct / n)
    return out
