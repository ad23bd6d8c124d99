"""The trainer: resume continues at the same step with the same loss curve; bad state refused."""

import copy
import pytest
import torch

from cgd.errors import InputError
from cgd.trainer import TrainConfig, train


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.SiLU(), torch.nn.Linear(16, 1))


def _loss(model, gen):
    x = torch.randn(32, 4, generator=gen)
    return ((model(x).squeeze(1) - x.sum(1) ** 2) ** 2).mean()


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    full_cfg = TrainConfig(steps=40, lr=1e-2, ckpt_every=10)
    _, ema_full, hist_full = train(_model(), _loss, full_cfg, tmp_path / "full.pt")

    # "killed" after 20 steps: only the checkpoint survives; a fresh process resumes
    train(_model(), _loss, TrainConfig(steps=20, lr=1e-2, ckpt_every=10), tmp_path / "part.pt")
    seen = []
    model, ema, hist = train(_model(), _loss, full_cfg, tmp_path / "part.pt", resume=True,
                             callback=lambda i: seen.append(i["step"]))
    assert seen[0] == 21 and seen[-1] == 40
    assert hist == hist_full
    for a, b in zip(ema.parameters(), ema_full.parameters()):
        assert torch.equal(a, b)
    assert hist[-1] < hist[0]


def test_corrupt_state_is_refused(tmp_path):
    p = tmp_path / "bad.pt"
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot resume"):
        train(_model(), _loss, TrainConfig(steps=2), p, resume=True)


def test_ema_warm_up_forgets_the_initial_weights(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    init = copy.deepcopy(model.state_dict())
    target = torch.ones(1, 4)

    def loss_fn(m, gen):
        return ((m.weight - target) ** 2).sum() + (m.bias ** 2).sum()

    cfg = TrainConfig(steps=200, lr=0.05, ema_decay=0.999, ckpt_every=1000)
    model, ema, _ = train(model, loss_fn, cfg, tmp_path / "s.pt")
    moved = (model.weight - init["weight"]).abs().sum()
    lag = (ema.weight - model.weight).abs().sum()
    # without warm-up 0.999^200 = 82% of the initial weights would remain in the EMA
    assert lag < 0.1 * moved


def test_learning_rate_warms_up_then_follows_the_cosine_to_its_floor():
    from cgd.trainer import lr_at

    cfg = TrainConfig(steps=110, lr=1.0, warmup=10, decay="cosine", final_lr_ratio=0.1)
    assert lr_at(cfg, 0) == pytest.approx(0.1) and lr_at(cfg, 9) == pytest.approx(1.0)
    assert lr_at(cfg, 10) == pytest.approx(1.0)
    assert lr_at(cfg, 60) == pytest.approx(0.55)  # half way: the mean of lr and its floor
    assert lr_at(cfg, 110) == pytest.approx(0.1)
    assert lr_at(TrainConfig(lr=0.5), 1234) == 0.5
    with pytest.raises(InputError):
        TrainConfig(decay="linear")


def test_resume_with_a_schedule_reproduces_the_run_and_snapshots_come_on_time(tmp_path):
    cfg = TrainConfig(steps=30, lr=1e-2, ckpt_every=10, warmup=5, decay="cosine", snapshot_every=10)
    seen = []
    _, ema_full, hist_full = train(_model(), _loss, cfg, tmp_path / "full.pt",
                                   snapshot=lambda step, ema: seen.append((step, copy.deepcopy(ema))))
    assert [s for s, _ in seen] == [10, 20, 30]
    for a, b in zip(seen[-1][1].parameters(), ema_full.parameters()):
        assert torch.equal(a, b)
    # a run stopped at its step-20 checkpoint (state written at 10 and 20), then resumed
    short = TrainConfig(steps=30, lr=1e-2, ckpt_every=10, warmup=5, decay="cosine")

    class Stop(Exception):
        pass

    def stop_at_21(info):
        if info["step"] == 21:
            raise Stop

    with pytest.raises(Stop):
        train(_model(), _loss, short, tmp_path / "part.pt", callback=stop_at_21)
    _, ema, hist = train(_model(), _loss, short, tmp_path / "part.pt", resume=True)
    assert hist == hist_full
    for a, b in zip(ema.parameters(), ema_full.parameters()):
        assert torch.equal(a, b)
