"""Shared models, many users: the same seed gives bit-identical images alone or with others at once."""

from concurrent.futures import ThreadPoolExecutor

import torch

from cgd.models import load_image_models, sample_images
from cgd.pipeline import SampleRequest


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
