"""Foreign code never runs: pickles with payloads are refused by every entry point that reads files."""

import io
import pickle
import shutil

import numpy as np
import pytest
import torch

from cgd import evaluate, sample, train


class Payload:
    """Unpickling this creates the marker file: proof that the payload ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil_torch_file(path, marker):
    buf = io.BytesIO()
    torch.save({"model": Payload(marker)}, buf)  # a real torch zip whose pickle holds the payload
    path.write_bytes(buf.getvalue())


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("kind", ["raw-pickle", "torch-save"])
def test_sample_cli_refuses_a_pickle_given_as_checkpoint(tmp_path, capsys, tiny_root, kind):
    marker, evil = tmp_path / "ran", tmp_path / "evil.pt"
    if kind == "raw-pickle":
        evil.write_bytes(pickle.dumps(Payload(marker)))
    else:
        evil_torch_file(evil, marker)
    code = sample.main(["--checkpoint-dir", str(tiny_root / "mnist"), "--checkpoint", str(evil), "--steps", "2",
                        "--n", "1"])
    assert code == 2 and "not a readable safetensors file" in one_line_error(capsys)
    assert not marker.exists()


def test_sample_cli_refuses_a_pickle_in_the_checkpoint_folder(tmp_path, capsys, tiny_root):
    folder = tmp_path / "mnist"
    shutil.copytree(tiny_root / "mnist", folder)
    marker = tmp_path / "ran"
    evil_torch_file(folder / "classifier.safetensors", marker)
    code = sample.main(["--checkpoint-dir", str(folder), "--method", "cg-ddim", "--steps", "2", "--n", "1"])
    assert code == 2 and "classifier.safetensors" in one_line_error(capsys)
    assert not marker.exists()


def test_resume_refuses_a_state_file_with_a_payload(tmp_path, capsys):
    from cgd.data import save_splits

    rng = np.random.default_rng(0)
    save_splits("mnist", {"train": (rng.integers(0, 256, (16, 28, 28), dtype=np.uint8),
                                    rng.integers(0, 10, 16).astype(np.uint8))}, tmp_path)
    marker = tmp_path / "ran"
    state = tmp_path / "judge.state.pt"
    evil_torch_file(state, marker)
    code = train.main(["judge", "--data-root", str(tmp_path), "--steps", "2", "--batch", "4", "--device", "cpu",
                       "--out", str(tmp_path / "judge.safetensors"), "--resume"])
    assert code == 2 and "refused, nothing was run" in one_line_error(capsys)
    assert not marker.exists()


def test_reference_statistics_with_objects_are_refused(tmp_path):
    path = tmp_path / "mnist" / "reference.npz"
    path.parent.mkdir()
    np.savez(path, mu=np.zeros(2), sigma=np.eye(2), features=np.array([Payload(tmp_path / "ran")], dtype=object),
             n=1)
    with pytest.raises(evaluate.InputError, match="unreadable"):
        evaluate.load_reference(path)
    assert not (tmp_path / "ran").exists()
