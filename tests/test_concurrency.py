"""Shared models, many users: the same seed gives bit-identical images alone or with others at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from cgd import compute
from cgd.models import load_image_models, sample_images
from cgd.pipeline import SampleRequest


@pytest.fixture(autouse=True)
def serving():
    """The app sends every run to one compute thread (ui.common.setup -> compute.serve); so do these tests."""
    before = torch.get_num_threads()
    yield compute.serve(2)
    compute.stop_serving()
    torch.set_num_threads(before)


def test_same_seed_same_images_alone_or_eight_at_once(tiny_root, monkeypatch):
    monkeypatch.setenv("CGD_CHECKPOINTS", str(tiny_root))
    models = load_image_models("mnist")  # one read-only copy, as in st.cache_resource
    before = {k: v.clone() for k, v in models.classifier.state_dict().items()}
    reqs = [SampleRequest(method=m, label=k % 10, scale=3.0, steps=4, n=3, seed=100 + k, x0_mode="clip")
            for k, m in enumerate(["cg-ddim", "cg-ddpm", "cfg", "cond+cg"] * 2)]
    alone = [sample_images(models, r) for r in reqs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda r: sample_images(models, r), reqs))
    for a, b in zip(alone, together):
        assert torch.equal(a, b)
    # different users' seeds give different images: nobody sees another's randomness
    assert not torch.equal(alone[0], alone[4])
    for k, v in models.classifier.state_dict().items():  # the shared weights were never written
        assert torch.equal(v, before[k]), k
    assert all(p.grad is None for p in models.classifier.parameters())


def _steps(n, callback=None, delay=0.0, done=None):
    done = [] if done is None else done
    for i in range(n):
        time.sleep(delay)
        done.append(i)
        if callback is not None:
            callback({"i": i, "thread": threading.current_thread().name})
    return done


def test_compute_thread_relays_progress_to_the_caller():
    seen = []
    assert compute.run(_steps, 3, callback=lambda e: seen.append((e, threading.current_thread().name))) == [0, 1, 2]
    assert [e["i"] for e, _ in seen] == [0, 1, 2]
    assert all(e["thread"].startswith("cgd-compute") for e, _ in seen)  # ran on the compute thread
    assert all(name == threading.current_thread().name for _, name in seen)  # reported in ours


def test_a_caller_that_stops_cancels_its_run_and_frees_the_thread():
    class Stop(Exception):
        pass

    def stop_at_two(event):
        if event["i"] == 2:
            raise Stop

    progress = []
    with pytest.raises(Stop):
        compute.run(_steps, 1000, callback=stop_at_two, delay=0.01, done=progress)
    # one run at a time: when the next one is done, the cancelled one has ended, at its next step
    assert compute.run(_steps, 2) == [0, 1]
    assert len(progress) < 10


def test_errors_of_the_run_reach_the_caller():
    def broken(callback=None):
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        compute.run(broken)


def test_the_callers_autocast_and_grad_mode_hold_on_the_compute_thread():
    def probe(callback=None):
        return torch.is_grad_enabled(), torch.is_autocast_enabled("cpu"), (torch.ones(2, 2) @ torch.ones(2, 2)).dtype

    assert compute.run(probe) == (True, False, torch.float32)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert compute.run(probe) == (False, True, torch.bfloat16)


# -- requests that wait together run as one batch, with the bits they get alone -------------------------

def test_fixed_batch_rows_do_not_depend_on_their_company(tiny_root):
    """A row's output is the same bits in any batch (fixed chunks), and equals the whole-batch output."""
    models = load_image_models("mnist", root=tiny_root)
    net = compute.fixed_batch(models.unet, 4)
    g = torch.Generator().manual_seed(0)
    x, t, y = torch.randn(11, 1, 28, 28, generator=g), torch.randint(0, 1000, (11,), generator=g), torch.arange(11) % 10
    with torch.no_grad():
        all_rows = net(x, t, y)
        for lo, hi in ((0, 1), (3, 9), (5, 11)):
            assert torch.equal(net(x[lo:hi], t[lo:hi], y[lo:hi]), all_rows[lo:hi])
        torch.testing.assert_close(all_rows, models.unet(x, t, y), rtol=1e-4, atol=1e-5)
    # the classifier's gradient (autograd through the chunks) too
    clf = compute.fixed_batch(models.classifier, 4)

    def grad(xs, ts):
        xs = xs.clone().requires_grad_(True)
        return torch.autograd.grad(torch.log_softmax(clf(xs, ts), 1)[:, 3].sum(), xs)[0]

    assert torch.equal(grad(x[2:5], t[2:5]), grad(x, t)[2:5])


@pytest.mark.parametrize("method", ["cg-ddim", "cg-ddpm", "cfg", "cond+cg"])
def test_a_request_in_a_shared_batch_gets_its_own_bits(tiny_root, method):
    from cgd.pipeline import sample_together

    models = load_image_models("mnist", root=tiny_root)
    net, clf = compute.fixed_batch(models.unet, 4), compute.fixed_batch(models.classifier, 4)
    mine = SampleRequest(method=method, label=3, scale=2.0, steps=4, n=3, seed=11, x0_mode="clip")
    others = [SampleRequest(method=method, label=7, scale=5.0, steps=4, n=5, seed=12, x0_mode="clip"),
              SampleRequest(method=method, label=3, scale=0.0, steps=4, n=2, seed=13, x0_mode="clip")]
    kw = dict(shape=models.shape, num_classes=10)
    (alone,) = sample_together(net, clf, models.schedule, [mine], **kw)
    batch = sample_together(net, clf, models.schedule, [others[0], mine, others[1]], **kw)
    assert [b.shape[0] for b in batch] == [5, 3, 2]
    assert torch.equal(batch[1], alone)
    assert not torch.equal(batch[0][:3], alone)  # the others are other runs
    # and a request alone is the pipeline's own single-request run, up to float rounding
    from cgd.pipeline import guided_sample

    torch.testing.assert_close(alone, guided_sample(net, clf, models.schedule, mine, **kw), rtol=0, atol=1e-5)


def test_waiting_requests_run_as_one_batch_and_see_their_place(tiny_root, monkeypatch):
    import cgd.models as models_mod

    models = load_image_models("mnist", root=tiny_root)
    reqs = [SampleRequest(method="cfg", label=k, scale=1.0 + k, steps=3, n=2, seed=k, x0_mode="clip") for k in range(3)]
    alone = [sample_images(models, r) for r in reqs]
    groups = []
    real = models_mod._run_group
    monkeypatch.setattr(models_mod, "_run_group", lambda items, cbs: groups.append(len(items)) or real(items, cbs))
    gate = threading.Event()
    blocker = threading.Thread(target=lambda: compute.run(lambda callback=None: gate.wait(10)))
    blocker.start()  # the compute thread is busy: the three requests below wait together
    time.sleep(0.2)
    places = {}

    def ask(k):
        return sample_images(models, reqs[k], on_wait=lambda ahead, s: places.setdefault(k, ahead))

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(ask, k) for k in range(3)]
        time.sleep(2.6)  # the page's waiters hear of their place every 2 s
        gate.set()
        together = [f.result(timeout=60) for f in futures]
    blocker.join()
    assert groups == [3]  # one batch for the three
    assert all(places.get(k) == 1 for k in range(3))  # each was told one run is ahead of it
    for a, b in zip(alone, together):
        assert torch.equal(a, b)


def test_a_caller_who_leaves_the_queue_is_dropped_and_the_rest_run(tiny_root):
    models = load_image_models("mnist", root=tiny_root)
    gate = threading.Event()
    blocker = threading.Thread(target=lambda: compute.run(lambda callback=None: gate.wait(10)))
    blocker.start()
    time.sleep(0.2)

    class Left(Exception):
        pass

    def leave(ahead, seconds):
        raise Left

    stay = SampleRequest(method="cg-ddim", label=1, scale=2.0, steps=3, n=2, seed=1, x0_mode="clip")
    go = SampleRequest(method="cg-ddim", label=2, scale=2.0, steps=3, n=2, seed=2, x0_mode="clip")
    with ThreadPoolExecutor(max_workers=2) as pool:
        f_go = pool.submit(sample_images, models, go, on_wait=leave)
        f_stay = pool.submit(sample_images, models, stay)
        with pytest.raises(Left):
            f_go.result(timeout=30)
        gate.set()
        out = f_stay.result(timeout=60)
    blocker.join()
    assert torch.equal(out, sample_images(models, stay))
    assert not compute._PENDING and not compute._RUNNING


def test_a_shared_batch_holds_at_most_max_size_and_each_waiter_knows_its_place():
    """Five waiting tickets of size 2 under a cap of 4 run as [2 + 2], [2 + 2], [2], oldest first."""
    groups, places = [], {}

    def runner(items, callbacks):
        groups.append(list(items))
        return [i * 10 for i in items]

    gate = threading.Event()
    blocker = threading.Thread(target=lambda: compute.run(lambda callback=None: gate.wait(10)))
    blocker.start()
    time.sleep(0.2)

    def ask(k):
        return compute.run_batched(runner, "same", k, cost=1.0, size=2, max_size=4,
                                   on_wait=lambda ahead, s: places.setdefault(k, (ahead, s)))

    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = []
        for k in range(5):
            futures.append(pool.submit(ask, k))
            time.sleep(0.1)  # arrive in order
        time.sleep(1.0)
        gate.set()
        assert [f.result(timeout=30) for f in futures] == [0, 10, 20, 30, 40]
    blocker.join()
    assert groups == [[0, 1], [2, 3], [4]]
    # behind the blocking run: the first pair waits for it alone, the second also for the first pair (2 s)
    assert places[0] == (1, 0.0) and places[2] == (2, 2.0) and places[4] == (3, 4.0)
