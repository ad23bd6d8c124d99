"""The scale atlas: fixed seeds sampled over a dense grid of guidance scales, stored for instant display.

    python -m cgd.atlas build --dataset mnist      # writes checkpoints/mnist/atlas.npz + atlas.json

For every guided method and every class, one *cell* is one batched run of ``n`` seeds at all of the
method's scales with common random numbers (:meth:`cgd.pipeline.SampleRequest.at_scales`): x_T and
every step's noise are shared, so moving from one scale to the next changes only the scale. Each
image keeps the independent judge's and the guiding classifier's p(y | x_0); the first
``trajectory_seeds`` seeds also keep the predicted x_0 of every step.

The file holds uint8 images and float16 confidences (``np.savez_compressed``, no pickles). Its sha256
and the sha256 of the three model files it was made from are recorded in ``atlas.json``: a changed
model makes the atlas *stale*, and :func:`load_atlas` refuses it with a one-line reason (rebuild with
the recorded command).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from cgd import methods as registry
from cgd.errors import InputError
from cgd.fileio import atomic_write, file_sha256
from cgd.pipeline import SAMPLER_VERSIONS

__all__ = ["GUIDED_METHODS", "ATLAS_METHODS", "DEFAULT_SCALES", "AtlasConfig", "Atlas", "build_cell", "build_atlas", "save_atlas",
           "load_atlas", "atlas_status", "ATLAS_FILE", "RECORD_FILE"]

ATLAS_FILE, RECORD_FILE = "atlas.npz", "atlas.json"
MODEL_FILES = ("unet.safetensors", "classifier.safetensors", "judge.safetensors", "unet_weak.safetensors")
# the methods with an atlas grid (cgd.methods.Method.atlas_scales); those needing a weak U-Net only for datasets
# that ship one
ATLAS_METHODS = tuple(m.name for m in registry.REGISTRY if m.atlas_scales is not None)
GUIDED_METHODS = tuple(name for name in ATLAS_METHODS if "weak" not in registry.get(name).needs)
# From 0 (unguided: the unconditional model for CG, the conditional one for cond+cg and CFG) past
# every dataset's recommended scale (cgd.models.RECOMMENDED_SCALE), close together where the
# samples change most (small scales), wider apart beyond.
DEFAULT_SCALES = {name: registry.get(name).atlas_scales for name in ATLAS_METHODS}


@dataclass(frozen=True)
class AtlasConfig:
    """What an atlas holds; recorded in ``atlas.json`` and part of the resume key of a build."""

    dataset: str = "mnist"
    methods: tuple = GUIDED_METHODS
    n: int = 8  # seeds per cell (images per class, method and scale)
    steps: int = 25
    seed: int = 0
    trajectory_seeds: int = 2  # the first k seeds keep x0_hat ...
    trajectory_every: int = 2  # ... after every this many steps (and after the last step)
    grids: tuple = field(default_factory=lambda: tuple((m, tuple(float(s) for s in DEFAULT_SCALES[m]))
                                                       for m in ATLAS_METHODS))

    def scales(self, method: str) -> tuple:
        for m, grid in self.grids:
            if m == method:
                return grid
        raise InputError(f"the atlas has no scales for {method!r}")

    def checked(self) -> "AtlasConfig":
        """Refuse an unusable configuration with one line (before any sampling)."""
        from cgd.pipeline import SampleRequest

        bad = [m for m in self.methods if m not in ATLAS_METHODS]
        if bad or not self.methods:
            raise InputError(f"atlas methods must be among {', '.join(ATLAS_METHODS)}, got {', '.join(bad) or 'none'}")
        for m in self.methods:
            SampleRequest(method=m, label=0, steps=self.steps, n=self.n, seed=self.seed,
                          scales=self.scales(m)).validated(10, 1000)
        if not 1 <= self.trajectory_seeds <= self.n:
            raise InputError(f"trajectory seeds must be between 1 and n = {self.n}, got {self.trajectory_seeds}")
        if not 1 <= self.trajectory_every <= self.steps:
            raise InputError(f"trajectory stride must be between 1 and the steps ({self.steps}), "
                             f"got {self.trajectory_every}")
        return self

    def to_json(self) -> dict:
        d = asdict(self)
        d["grids"] = {m: list(g) for m, g in self.grids}
        d["methods"] = list(self.methods)
        return d

    def frame_steps(self) -> tuple:
        """The sampling-grid indices i whose x0_hat the trajectories keep (the last step included)."""
        return tuple(sorted(set(range(0, self.steps, self.trajectory_every)) | {self.steps - 1}))

    @classmethod
    def from_json(cls, d: dict) -> "AtlasConfig":
        return cls(d["dataset"], tuple(d["methods"]), int(d["n"]), int(d["steps"]), int(d["seed"]),
                   int(d["trajectory_seeds"]), int(d["trajectory_every"]),
                   tuple((m, tuple(float(s) for s in g)) for m, g in d["grids"].items()))


def build_cell(models, cfg: AtlasConfig, method: str, label: int, *,
               on_step: Optional[Callable[[int], None]] = None) -> dict:
    """One method and class at all its scales, ``n`` seeds each: a dict of numpy arrays.

    ``images`` uint8 ``[S, n, H, W(, 3)]``; ``judge``, ``classifier`` float16 ``[S, n]`` (p(label | x_0));
    ``trajectory`` uint8 ``[S, k, F, H, W(, 3)]``: x0_hat after the steps ``cfg.frame_steps()`` (F of them)
    for the first k seeds.
    """
    import torch

    from cgd.models import confidences, sample_images
    from cgd.pipeline import SampleRequest
    from cgd.imaging import to_uint8

    scales = cfg.scales(method)
    request = SampleRequest(method=method, label=label, steps=cfg.steps, n=cfg.n, seed=cfg.seed,
                            x0_mode="clip").at_scales(scales)
    S, n, k = len(scales), cfg.n, cfg.trajectory_seeds
    keep = torch.tensor([s * n + j for s in range(S) for j in range(k)])
    frames, wanted = [], set(cfg.frame_steps())

    def callback(d):
        if d["i"] in wanted:
            frames.append(to_uint8(d["x0_hat"][keep.to(d["x0_hat"].device)]))
        if on_step is not None:
            on_step(d["i"])

    x0 = sample_images(models, request, callback=callback)
    conf = confidences(models, x0, label)
    images = to_uint8(x0)
    traj = np.stack(frames, axis=1)  # [S*k, F, H, W]
    return {
        "images": images.reshape(S, n, *images.shape[1:]),
        "judge": conf["judge"].numpy().astype(np.float16).reshape(S, n),
        "classifier": conf["classifier"].numpy().astype(np.float16).reshape(S, n),
        "trajectory": traj.reshape(S, k, *traj.shape[1:]),
    }


@dataclass(frozen=True, eq=False)
class Atlas:
    """A loaded atlas: per method, arrays indexed ``[class, scale index, ...]``."""

    config: AtlasConfig
    arrays: dict  # "<method>/<name>" -> array
    record: dict

    def scales(self, method: str) -> tuple:
        return self.config.scales(method)

    def index(self, method: str, scale: float) -> int:
        """The position of ``scale`` in the method's grid (it must be one of the grid's values)."""
        grid = self.scales(method)
        if float(scale) not in grid:
            raise InputError(f"{method} scale {scale:g} is not in the atlas (its values: "
                             f"{', '.join(f'{s:g}' for s in grid)})")
        return grid.index(float(scale))

    def get(self, method: str, name: str) -> np.ndarray:
        return self.arrays[f"{method}/{name}"]

    def cell(self, method: str, label: int, scale: float) -> dict:
        """``images [n, H, W]``, ``judge [n]``, ``classifier [n]``, ``trajectory [k, F, H, W]`` at one scale."""
        i = self.index(method, scale)
        return {name: self.get(method, name)[label, i] for name in ("images", "judge", "classifier", "trajectory")}

    def judge_curve(self, method: str, label: Optional[int] = None) -> dict:
        """Against the method's scales: the share the judge reads as the asked class (p > 0.5) and its mean p.

        ``label=None`` pools every class (n x classes images per scale).
        """
        p = self.get(method, "judge").astype(np.float64)  # [classes, S, n]
        p = p[label] if label is not None else p.transpose(1, 0, 2).reshape(p.shape[1], -1)
        return {"scale": np.array(self.scales(method)), "share": (p > 0.5).mean(-1), "mean_p": p.mean(-1),
                "count": p.shape[-1]}


def _cell_key(cfg: AtlasConfig, method: str, model_digests: dict) -> str:
    """What one method's cells depend on: the shared settings, that method's scales, the model files; not
    the other methods (so builds of different methods, even run side by side, share one work folder)."""
    config = {k: v for k, v in cfg.to_json().items() if k not in ("methods", "grids")}
    text = json.dumps({"config": config, "method": method, "scales": list(cfg.scales(method)),
                       "models": model_digests}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def model_digests(folder: Path) -> dict:
    return {name: file_sha256(Path(folder) / name) for name in MODEL_FILES if (Path(folder) / name).is_file()}


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


# uint8 arrays [classes, S, ...] go into the file as differences between neighbouring scales (mod 256):
# neighbours look alike, so the differences are mostly 0 and deflate packs them about 1.6x smaller.
def _delta_encode(a: np.ndarray) -> np.ndarray:
    return np.diff(a, axis=1, prepend=np.zeros_like(a[:, :1])) if a.dtype == np.uint8 else a


def _delta_decode(a: np.ndarray) -> np.ndarray:
    return np.cumsum(a, axis=1, dtype=np.uint8) if a.dtype == np.uint8 else a


def build_atlas(models, cfg: AtlasConfig, folder: Path, *, work_dir: Optional[Path] = None,
                progress: Optional[Callable[[str, int, int], None]] = None) -> dict:
    """Sample every cell of ``cfg`` and return ``{"<method>/<name>": [classes, ...]}``.

    With ``work_dir`` each finished cell is kept there (written atomically), keyed by the settings, the
    method's scales and the model files' digests, so a build that is stopped resumes at the first missing
    cell, and a build of all methods reuses the cells of builds of some of them.
    ``progress(what, done_steps, total_steps)`` is called after every sampling step.
    """
    cfg = cfg.checked()
    classes = models.num_classes
    digests = model_digests(folder)
    cells = {}
    total = len(cfg.methods) * classes * cfg.steps
    done = 0
    for method in cfg.methods:
        key = _cell_key(cfg, method, digests)[:16]
        for label in range(classes):
            cell_name = f"{method}@{SAMPLER_VERSIONS[method]}-{label}.npz"  # a new sampler version: a new cell
            path = Path(work_dir) / f"{cfg.dataset}-{key}" / cell_name if work_dir else None
            what = f"{method} class {label}"
            if path is not None and path.is_file():
                with np.load(path, allow_pickle=False) as z:
                    cells[method, label] = {k: z[k] for k in z.files}
            else:
                base = done

                def on_step(i, base=base, what=what):
                    if progress is not None:
                        progress(what, base + i + 1, total)

                t0 = time.perf_counter()
                cells[method, label] = build_cell(models, cfg, method, label, on_step=on_step)
                cells[method, label]["seconds"] = np.array(time.perf_counter() - t0)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write(path, _npz_bytes(cells[method, label]))
            done += cfg.steps
            if progress is not None:
                progress(what, done, total)
    out = {"seconds": np.array(sum(float(c["seconds"]) for c in cells.values())),  # sampling time, all sessions
           # the training timestep t at which each kept trajectory frame was predicted
           "frame_t": models.schedule.grid(cfg.steps).timesteps[list(cfg.frame_steps())].numpy()}
    for method in cfg.methods:
        for name in ("images", "judge", "classifier", "trajectory"):
            out[f"{method}/{name}"] = np.stack([cells[method, c][name] for c in range(classes)])
    return out


def save_atlas(arrays: dict, cfg: AtlasConfig, folder: Path, *, command: str, device: str) -> dict:
    """Write ``atlas.npz`` and its record ``atlas.json`` into ``folder`` (atomically); return the record."""
    folder = Path(folder)
    data = _npz_bytes({k: _delta_encode(v) if v.ndim >= 2 else v for k, v in arrays.items()})
    atomic_write(folder / ATLAS_FILE, data)
    record = {
        "command": command,
        "config": cfg.to_json(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "encoding": "uint8 arrays hold differences between neighbouring scales (mod 256); load_atlas adds them up",
        "bytes": len(data),
        "models": model_digests(folder),
        "sampler_versions": {m: SAMPLER_VERSIONS[m] for m in cfg.methods},
        "build_seconds": round(float(arrays["seconds"]), 1),  # the cells' sampling time, summed over resumes
        "device": device,
        "judge_share_by_scale": {m: {f"{s:g}": round(float(v), 4) for s, v in
                                     zip(cfg.scales(m), Atlas(cfg, arrays, {}).judge_curve(m)["share"])}
                                 for m in cfg.methods},
    }
    atomic_write(folder / RECORD_FILE, (json.dumps(record, indent=1) + "\n").encode())
    return record


def atlas_status(folder: Path) -> tuple:
    """``(ok, reason)``: whether ``folder`` holds an atlas that matches its models; reason is one line."""
    folder = Path(folder)
    rec_path, data_path = folder / RECORD_FILE, folder / ATLAS_FILE
    if not rec_path.is_file() or not data_path.is_file():
        return False, f"no scale atlas in {folder}: build one with `python -m cgd.atlas build --dataset {folder.name}`"
    try:
        record = json.loads(rec_path.read_text())
        command = record["command"]
        want = record["models"]
    except (OSError, ValueError, KeyError, TypeError):
        return False, f"{rec_path} is unreadable: rebuild with `python -m cgd.atlas build --dataset {folder.name}`"
    if model_digests(folder) != want:
        return False, f"the atlas in {folder} was made from other model weights: rebuild it with `{command}`"
    made = record.get("sampler_versions") or {}
    old = [m for m in record.get("config", {}).get("methods", []) if made.get(m, 1) != SAMPLER_VERSIONS.get(m)]
    if old:
        return False, (f"the atlas in {folder} was sampled by an older version of {', '.join(old)}: rebuild it "
                       f"with `{command}`")
    return True, ""


def load_atlas(folder: Path) -> Atlas:
    """Read and check the atlas of ``folder``; raises InputError (one line) if missing, stale or corrupt."""
    folder = Path(folder)
    ok, reason = atlas_status(folder)
    if not ok:
        raise InputError(reason)
    record = json.loads((folder / RECORD_FILE).read_text())
    data = (folder / ATLAS_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise InputError(f"{folder / ATLAS_FILE} does not match the sha256 in {RECORD_FILE}: rebuild it with "
                         f"`{record['command']}`")
    cfg = AtlasConfig.from_json(record["config"])
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: _delta_decode(z[k]) if z[k].ndim >= 2 else z[k] for k in z.files}
    missing = [f"{m}/{k}" for m in cfg.methods for k in ("images", "judge", "classifier", "trajectory")
               if f"{m}/{k}" not in arrays] + [k for k in ("frame_t",) if k not in arrays]
    if missing:
        raise InputError(f"{folder / ATLAS_FILE} lacks {', '.join(missing)}: rebuild it with `{record['command']}`")
    return Atlas(cfg, arrays, record)
