"""The shipped image models of a dataset, loaded weights-only, and what the pages ask of them.

``load_image_models('mnist')`` reads ``checkpoints/mnist/{unet,classifier,judge}.safetensors``
(or ``$CGD_CHECKPOINTS/mnist``). The models come back in eval mode with gradients off, so one
copy can be shared read-only by every user of a server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import torch

from cgd import compute
from cgd import methods as registry
from cgd.checkpoint import load_model
from cgd.data import DATASETS, DatasetInfo
from cgd.errors import InputError
from cgd.pipeline import SampleRequest, batch_key, guided_sample, sample_together
from cgd.schedule import NoiseSchedule, make_schedule

__all__ = ["CHECKPOINT_ROOT", "checkpoint_root", "available_datasets", "ImageModels", "load_image_models",
           "sample_images", "confidences", "RECOMMENDED_SCALE", "recommended_scale"]

CHECKPOINT_ROOT = Path(__file__).resolve().parents[1] / "checkpoints"


def _recommended() -> dict:
    """dataset -> {method: scale} from the registry's measured choices (the unguided models at 0)."""
    datasets = sorted({d for m in registry.REGISTRY for d in m.recommended})
    return {d: {**{m.name: 0.0 for m in registry.REGISTRY if not m.guided},
                **{m.name: float(m.recommended[d]) for m in registry.REGISTRY if d in m.recommended}}
            for d in datasets}


# per dataset and method: the scale the README recommends (CFG and autoguidance: w), chosen from the sweeps of
# results/DATASET_sweep.json by the rule of cgd.results.choose_scale and measured in checkpoints/DATASET/quality.json
# (kept in each method's registry entry, cgd.methods.Method.recommended). A dataset's own choice, because it belongs
# to its models: the better a U-Net, the less guidance it needs (docs/results.md, "Recommended scales").
RECOMMENDED_SCALE = _recommended()
DEFAULT_SCALE = RECOMMENDED_SCALE["fashion-mnist"]  # datasets with no measured choice (CIFAR-10)


def recommended_scale(dataset: str, method: str) -> float:
    """The recommended guidance scale of a method on a dataset's shipped models (:data:`RECOMMENDED_SCALE`); a
    method with no measured choice there gets its registry default (:attr:`cgd.methods.Method.default_scale`)."""
    chosen = RECOMMENDED_SCALE.get(dataset, DEFAULT_SCALE)
    return float(chosen[method]) if method in chosen else float(registry.get(method).default_scale)


FILES = {"unet": "unet.safetensors", "classifier": "classifier.safetensors", "judge": "judge.safetensors",
         "weak": "unet_weak.safetensors"}
# autoguidance's weak model is optional: a dataset without one offers every other method


def checkpoint_root() -> Path:
    """The one folder models are loaded from: ``$CGD_CHECKPOINTS`` or the repository's ``checkpoints/``."""
    env = os.environ.get("CGD_CHECKPOINTS")
    return Path(env) if env else CHECKPOINT_ROOT


def available_datasets(root: Optional[Path] = None) -> list:
    """Datasets whose U-Net checkpoint exists under the root."""
    root = root or checkpoint_root()
    return [name for name in DATASETS if (root / name / FILES["unet"]).is_file()]


@dataclass(frozen=True, eq=False)
class ImageModels:
    info: DatasetInfo
    unet: torch.nn.Module
    classifier: Optional[torch.nn.Module]
    judge: Optional[torch.nn.Module]
    schedule: NoiseSchedule
    device: torch.device
    weak_unet: Optional[torch.nn.Module] = None  # autoguidance's weak model (a shorter-trained U-Net)

    @property
    def shape(self) -> tuple:
        return (self.info.channels, self.info.size, self.info.size)

    @property
    def num_classes(self) -> int:
        return len(self.info.classes)


def load_image_models(dataset: str, *, root: Optional[Path] = None, device="cpu",
                      unet_path: Optional[Path] = None, folder: Optional[Path] = None,
                      need=("unet", "classifier", "judge", "weak"), weak_path: Optional[Path] = None) -> ImageModels:
    """Load the models that ``need`` names from ``folder`` (default ``root/dataset``); others are None.

    The weak U-Net of autoguidance (``unet_weak.safetensors``, or ``weak_path``) is loaded when it
    exists and is None otherwise; the other files must exist.
    """
    if dataset not in DATASETS:
        raise InputError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    folder = Path(folder) if folder else (root or checkpoint_root()) / dataset
    info = DATASETS[dataset]
    device = torch.device(device)
    if unet_path is None and not (folder / FILES["unet"]).is_file():
        raise InputError(f"no trained U-Net for {dataset}: {folder / FILES['unet']} not found; train it with "
                         f"`bash checkpoints/train.sh {dataset}`")
    unet = _load_unet(unet_path or folder / FILES["unet"], info, device, dataset)
    loaded = {}
    for kind in ("classifier", "judge"):
        path = folder / FILES[kind]
        loaded[kind] = load_model(path, kind, device) if kind in need else None
    weak = None
    if weak_path is not None or ("weak" in need and (folder / FILES["weak"]).is_file()):
        weak = _load_unet(Path(weak_path) if weak_path else folder / FILES["weak"], info, device, dataset)
        if (weak.cfg.T, getattr(weak.cfg, "schedule", "linear")) != (unet.cfg.T, getattr(unet.cfg, "schedule",
                                                                                          "linear")):
            raise InputError("the weak U-Net was trained with another noise schedule than the U-Net")
    schedule = make_schedule(getattr(unet.cfg, "schedule", "linear"), unet.cfg.T)
    return ImageModels(info, unet, loaded["classifier"], loaded["judge"], schedule, device, weak)


def _load_unet(path: Path, info: DatasetInfo, device, dataset: str):
    unet = load_model(path, "unet", device)
    if unet.cfg.in_channels != info.channels or unet.cfg.image_size != info.size:
        raise InputError(f"the U-Net checkpoint {path.name} is for {unet.cfg.in_channels}x{unet.cfg.image_size}px "
                         f"images, not {dataset}")
    return unet


# On a CPU the networks see every batch in chunks of this many rows, so that a request's images are
# the same bits alone or batched with others (cgd.compute.fixed_batch). With every core of this 2-core
# CPU a chunk of 16 runs the page's 16 x 25 CG-DDIM request in 2.39-2.62 s against 3.15-3.26 s in
# chunks of 8 and 4.19-4.25 s in chunks of 4 (python bench/live_path.py --rounds 2, 2026-12-07; chunks
# of 8 were faster only at one thread). A request of 8 images gives the same bits in chunks of 8 or 16
# here (tests/test_one_team.py's recorded digests). On CUDA batches run whole.
CPU_CHUNK = 16
# The most images one shared batch holds. On this CPU an image costs the same in any batch from
# about 8 up, and sharing did not pay: four requests of 16 took 30.9 s as one batch against 27.5 s
# one after another (bench/live_path.py, 2026-11-23), and 30 students' requests as one batch of 464
# gave every one of them 155 s (bench/load.py). So on a CPU only small requests share (up to 16
# images), and the queue stays first come, first served. A GPU is the opposite: a lone request
# leaves it mostly idle (README, "Serving a classroom").
MAX_BATCH_IMAGES = {"cpu": 16, "cuda": 4096}
_RATE = {}  # (models id, method) -> measured seconds per image and step (waiting-time estimates)
_DEFAULT_RATE = 0.02


def _nets(models: ImageModels) -> tuple:
    """``(unet, classifier, weak_unet)`` as the samplers call them (on a CPU: in fixed chunks)."""
    if models.device.type != "cpu":
        return models.unet, models.classifier, models.weak_unet
    return tuple(None if m is None else compute.fixed_batch(m, CPU_CHUNK)
                 for m in (models.unet, models.classifier, models.weak_unet))


def _run_group(items: list, callbacks: list) -> list:
    """The compute thread's runner: requests [(models, request)] sharing one batch key, as one batch."""
    import time

    models = items[0][0]
    requests = [r for _, r in items]
    net, clf, weak = _nets(models)
    t0 = time.perf_counter()
    out = sample_together(net, clf, models.schedule, requests, shape=models.shape, num_classes=models.num_classes,
                          device=models.device, callbacks=callbacks, weak_net=weak)
    work = sum(r.n * r.steps for r in requests)
    rate_key = (id(models), requests[0].method)
    rate = (time.perf_counter() - t0) / work
    _RATE[rate_key] = 0.5 * _RATE.get(rate_key, rate) + 0.5 * rate  # a moving average of recent runs
    return out


def estimated_seconds(models: ImageModels, request: SampleRequest) -> float:
    """How long ``request`` alone takes, from the rate of this method's recent runs on these models."""
    return _RATE.get((id(models), request.method), _DEFAULT_RATE) * request.n * request.steps


def sample_images(models: ImageModels, request: SampleRequest, *, callback: Optional[Callable[[dict], None]] = None,
                  x_T: Optional[torch.Tensor] = None, labels: Optional[torch.Tensor] = None,
                  on_wait: Optional[Callable[[int, float], None]] = None) -> torch.Tensor:
    """Guided samples ``[n, C, H, W]`` in [-1, 1] (predicted x_0 clipped to [-1, 1] at every step).

    Runs on the one compute thread (:mod:`cgd.compute`). A plain request (no x_T, labels or scales)
    waits in the queue with the others: those with its batch key that wait at the same time run with
    it as one batch, and ``on_wait(groups ahead, estimated seconds)`` is told the place in the queue.
    The same seed and settings give the same bits either way.
    """
    needs = registry.get(request.method).needs
    if "classifier" in needs and models.classifier is None and max(request.scales) > 0:
        raise InputError(f"method {request.method!r} needs the noisy classifier checkpoint")
    if "weak" in needs and models.weak_unet is None:
        raise InputError(f"{request.method} needs a weak U-Net ({FILES['weak']} beside the U-Net); this dataset has none")
    if request.x0_mode is None:
        request = replace(request, x0_mode="clip")
    request = request.validated(models.num_classes, models.schedule.T)
    if x_T is None and labels is None and len(request.scales) == 1:
        return compute.run_batched(_run_group, (id(models), batch_key(request)), (models, request),
                                   cost=estimated_seconds(models, request), size=request.n,
                                   max_size=MAX_BATCH_IMAGES.get(models.device.type, 16), callback=callback,
                                   on_wait=on_wait, wait_every=2.0)  # every update is a message to the browser
    net, clf, weak = _nets(models)
    return compute.run(guided_sample, net, clf, models.schedule, request, shape=models.shape,
                       num_classes=models.num_classes, device=models.device, callback=callback, x_T=x_T,
                       labels=labels, weak_net=weak)


@torch.no_grad()
def confidences(models: ImageModels, x0: torch.Tensor, label: int) -> dict:
    """p(label | x_0) by the guiding classifier (at t = 0) and by the independent judge: ``{name: [n]}``."""
    out = {}
    x0 = x0.to(models.device)
    if models.classifier is not None:
        t0 = torch.zeros(x0.shape[0], dtype=torch.long, device=models.device)
        out["classifier"] = torch.softmax(models.classifier(x0, t0).float(), 1)[:, label].cpu()
    if models.judge is not None:
        out["judge"] = torch.softmax(models.judge(x0).float(), 1)[:, label].cpu()
    return out


def training_records(dataset: str, root: Optional[Path] = None) -> dict:
    """``{kind: record}`` from the ``.json`` training records next to the shipped weights."""
    import json

    folder = (root or checkpoint_root()) / dataset
    out = {}
    for kind, name in FILES.items():
        path = (folder / name).with_suffix(".json")
        if path.is_file():
            try:
                out[kind] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
    return out


def quality_record(dataset: str, root: Optional[Path] = None) -> Optional[dict]:
    """The measured quality of the shipped models (``quality.json``, written by ``python -m cgd.quality``)."""
    import json

    path = (root or checkpoint_root()) / dataset / "quality.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
