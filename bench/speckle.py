"""Where CG-DDIM's background speckle comes from (issue #15): one table, one run.

    python bench/speckle.py [--unet PATH] [--label 1] [--n 32] [--steps 25] [--seed 0] [--threads 1]

Samples one class with the shipped models (or another U-Net) under each variant below and prints the
background speckle (:func:`cgd.metrics.background_speckle`: mean intensity of the pixels more than 3 px
from any stroke) and the judge's share of the asked class. Real test digits of the class are the
reference (0.000 on MNIST). Variants:

* the unguided samplers (is it guidance at all?);
* CG-DDIM at its recommended s in the shipped order (guide after thresholding, guided-diffusion's);
* the same with the guided x0_hat thresholded instead (the order before 2026-11-23), written out here
  with the library's own pieces, so the comparison stays runnable;
* guidance only at t >= 200 or t >= 100 (is it the classifier's gradient at small t?), only at t < 200;
* 50 and 100 steps (is it the step size?); smaller s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cgd.data import load_dataset  # noqa: E402
from cgd.evaluate import judge_outputs  # noqa: E402
from cgd.guidance import classifier_guided_eps, conditional_model_fn  # noqa: E402
from cgd.metrics import background_speckle  # noqa: E402
from cgd.models import load_image_models  # noqa: E402
from cgd.pipeline import SampleRequest, guided_sample  # noqa: E402
from cgd.samplers import sample_ddim  # noqa: E402


def threshold_after_guidance(models, label: int, scale: float, *, n: int, steps: int, seed: int) -> torch.Tensor:
    """CG-DDIM as it was: the ε form with nothing thresholded inside it, the sampler clipping the guided x0_hat."""
    null = torch.full((n,), models.num_classes)
    y = torch.full((n,), label)
    guided = classifier_guided_eps(conditional_model_fn(models.unet, null), models.classifier, y, scale,
                                   models.schedule)
    gen = torch.Generator().manual_seed(seed)
    x_T = torch.randn((n, *models.shape), generator=gen)
    return sample_ddim(guided, x_T, models.schedule.grid(steps), generator=gen, x0_mode="clip")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--unet", default=None, help="a U-Net checkpoint instead of the shipped one")
    p.add_argument("--label", type=int, default=1)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--scale", type=float, default=16.0,
                   help="CG-DDIM's s (16: the recommended scale before the order changed, where the speckle showed)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = load_image_models(args.dataset, unet_path=Path(args.unet) if args.unet else None)
    s = args.scale
    base = dict(method="cg-ddim", label=args.label, scale=s, steps=args.steps, n=args.n, seed=args.seed,
                x0_mode="clip")

    def run(**kw):
        request = SampleRequest(**{**base, **kw})
        return guided_sample(models.unet, models.classifier, models.schedule, request, shape=models.shape,
                             num_classes=models.num_classes)

    variants = [
        ("unguided, DDIM (unconditional model)", lambda: run(method="uncond", label=None, sampler="ddim")),
        ("unguided, DDPM (unconditional model)", lambda: run(method="uncond", label=None, sampler="ddpm")),
        (f"cg-ddim s={s:g}, guide after thresholding (shipped)", lambda: run()),
        (f"cg-ddim s={s:g}, threshold after guiding (before)",
         lambda: threshold_after_guidance(models, args.label, s, n=args.n, steps=args.steps, seed=args.seed)),
        (f"cg-ddim s={s:g}, guided only at t >= 200", lambda: run(interval=(200, 999))),
        (f"cg-ddim s={s:g}, guided only at t >= 100", lambda: run(interval=(100, 999))),
        (f"cg-ddim s={s:g}, guided only at t < 200", lambda: run(interval=(0, 199))),
        (f"cg-ddim s={s:g}, 50 steps", lambda: run(steps=50)),
        (f"cg-ddim s={s:g}, 100 steps", lambda: run(steps=100)),
        ("cg-ddim s=8", lambda: run(scale=8.0)),
        ("cg-ddim s=4", lambda: run(scale=4.0)),
        # the scales of docs/results.md's speckle table (fixed, so its rows stay comparable)
        ("cg-ddpm s=10", lambda: run(method="cg-ddpm", scale=10.0)),
        ("cfg w=2", lambda: run(method="cfg", scale=2.0)),
    ]
    data = load_dataset(args.dataset, "test")
    x, y = data.batch(torch.arange(len(data)))
    real = x[y == args.label][:500]
    print(f"{args.dataset} class {args.label}, n = {args.n}, {args.steps} steps, seed {args.seed}, "
          f"U-Net {args.unet or 'shipped'}")
    print(f"{'variant':52s} speckle  judge share  seconds")
    print(f"{'real test images (500)':52s} {background_speckle(real):.4f}")
    for name, fn in variants:
        t0 = time.perf_counter()
        with torch.no_grad():
            x0 = fn()
        _, probs = judge_outputs(models.judge, x0)
        share = float((probs.argmax(1) == args.label).mean())
        print(f"{name:52s} {background_speckle(x0):.4f}   {share:.3f}      {time.perf_counter() - t0:5.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
