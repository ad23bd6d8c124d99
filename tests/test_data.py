"""Data readers on small files in the real formats, written here; loading and its messages."""

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest
import torch

from cgd.data import (cifar_from_tar, load_dataset, read_cifar_batch, read_idx, read_mnist_pickle, save_splits)
from cgd.errors import InputError


def _idx(arr: np.ndarray) -> bytes:
    head = b"\x00\x00\x08" + bytes([arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return gzip.compress(head + arr.astype(np.uint8).tobytes())


def test_idx_round_trip_and_truncation():
    imgs = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    assert np.array_equal(read_idx(_idx(imgs)), imgs)
    labels = np.arange(5, dtype=np.uint8)
    assert np.array_equal(read_idx(_idx(labels)), labels)
    with pytest.raises(InputError, match="truncated"):
        read_idx(gzip.decompress(_idx(imgs))[:-10])
    with pytest.raises(InputError, match="IDX"):
        read_idx(b"PK\x03\x04 not idx")


def test_mnist_pickle_format():
    rng = np.random.default_rng(1)
    sets = tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)) for n in (6, 2, 3))
    out = read_mnist_pickle(gzip.compress(pickle.dumps(sets, protocol=2)))
    assert out["train"][0].shape == (8, 28, 28) and out["train"][0].dtype == np.uint8
    assert out["test"][0].shape == (3, 28, 28)
    assert np.array_equal(out["test"][1], sets[2][1].astype(np.uint8))
    assert out["train"][0][0, 0, 0] == np.uint8(round(float(sets[0][0][0, 0]) * 255))


def test_unsafe_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with pytest.raises(InputError, match="refusing"):
        read_cifar_batch(pickle.dumps({b"data": Payload(), b"labels": []}))
    assert not marker.exists()


def test_cifar_batches_and_tarball():
    rng = np.random.default_rng(2)

    def batch(n):
        return pickle.dumps({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(range(n)),
                             b"batch_label": b"x"}, protocol=2)

    x, y = read_cifar_batch(batch(4))
    assert x.shape == (4, 32, 32, 3) and list(y) == [0, 1, 2, 3]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = batch(3)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    splits = cifar_from_tar(buf.getvalue())
    assert splits["train"][0].shape == (15, 32, 32, 3) and splits["test"][0].shape == (3, 32, 32, 3)


def test_save_and_load_gives_minus_one_to_one(tmp_path):
    imgs = np.zeros((4, 28, 28), np.uint8)
    imgs[:, 0, 0] = 255
    save_splits("mnist", {"train": (imgs, np.arange(4, dtype=np.uint8))}, tmp_path)
    d = load_dataset("mnist", "train", tmp_path)
    x, y = d.batch(torch.arange(4))
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.long
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0


def test_missing_and_corrupt_data_say_what_to_run(tmp_path):
    with pytest.raises(InputError, match="python -m cgd.data fetch fashion-mnist"):
        load_dataset("fashion-mnist", "train", tmp_path)
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "test.npz").write_bytes(b"garbage")
    with pytest.raises(InputError, match="unreadable"):
        load_dataset("mnist", "test", tmp_path)
    with pytest.raises(InputError, match="unknown dataset"):
        load_dataset("imagenet")
