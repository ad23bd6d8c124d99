"""Our sampling path beside guided-diffusion's own code, each side in a fresh process, alternating.

    python bench/guided_diffusion.py --gd-path PATH [--rounds 3] [--repeat 2] [--threads N] [--steps 25]

PATH: a checkout of openai/guided-diffusion (the folder that holds ``guided_diffusion/``); nothing of it is
vendored here. Its side builds guided-diffusion's own ``UNetModel`` and ``EncoderUNetModel`` with the
shapes of our shipped MNIST U-Net and noisy classifier (28x28x1, 32 channels, channel_mult 1,2,2, one
residual block per level, attention at 7x7 with 32-channel heads, scale-shift norm, BigGAN up/down
blocks, attention pooling; random weights: speed does not depend on them) and samples 16 images with
its ``ddim_sample_loop`` on a ``ddim25`` respacing and the classifier ``cond_fn`` of its
``scripts/classifier_sample.py``. Ours: ``cgd.models.sample_images`` with the shipped models, CG-DDIM,
the same count, steps and scale. Both unguided too (guided-diffusion without ``cond_fn``, ours
``uncond`` on DDIM). The FLOPs of one guided step of each side are counted by torch and printed, so the
work is seen to be the same. Sides: ``gd``, ``gd-unguided``, ``cgd``, ``cgd-unguided``,
``cgd-dpmpp-2m`` (our DPM-Solver++(2M) at ``--dpm-steps``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fresh  # noqa: E402 - bench/fresh.py
from cgd.device import pin_threads  # noqa: E402
from cgd.models import load_image_models, sample_images  # noqa: E402
from cgd.methods import cg_on, unconditional  # noqa: E402
from cgd.pipeline import SampleRequest  # noqa: E402

OPTS = {"gd_path": None, "steps": 25, "dpm_steps": 10, "n": 16, "scale": 4.0}


def _gd_models():
    sys.path.insert(0, str(OPTS["gd_path"]))
    from guided_diffusion.script_util import create_gaussian_diffusion
    from guided_diffusion.unet import EncoderUNetModel, UNetModel

    common = dict(image_size=28, in_channels=1, model_channels=32, num_res_blocks=1, attention_resolutions=(4,),
                  dropout=0.0, channel_mult=(1, 2, 2), use_fp16=False, num_head_channels=32,
                  use_scale_shift_norm=True, resblock_updown=True)
    unet = UNetModel(out_channels=1, num_classes=None, num_heads=1, num_heads_upsample=-1, **common).eval()
    clf = EncoderUNetModel(out_channels=10, pool="attention", **common).eval()
    diffusion = create_gaussian_diffusion(steps=1000, learn_sigma=False, noise_schedule="linear",
                                          timestep_respacing=f"ddim{OPTS['steps']}")
    # the classifier's weights keep requiring grad, as in classifier_sample.py: its AttentionBlock always runs
    # through its own gradient checkpointing, whose backward fails on weights that do not
    return unet.requires_grad_(False), clf, diffusion


def _gd_side(guided: bool):
    def build():
        unet, clf, diffusion = _gd_models()
        n, scale = OPTS["n"], OPTS["scale"]
        y = torch.full((n,), 3)

        def cond_fn(x, t, y=None):  # the classifier gradient, as scripts/classifier_sample.py forms it
            with torch.enable_grad():
                x_in = x.detach().requires_grad_(True)
                log_probs = F.log_softmax(clf(x_in, t), dim=-1)
                return torch.autograd.grad(log_probs[range(n), y.view(-1)].sum(), x_in)[0] * scale

        def model_fn(x, t, y=None):  # unconditional model, label only for cond_fn (as classifier_sample.py)
            return unet(x, t, None)

        def run():
            torch.manual_seed(0)
            with torch.no_grad():
                return diffusion.ddim_sample_loop(model_fn, (n, 1, 28, 28), clip_denoised=True, model_kwargs={"y": y}, device="cpu",
                                                  cond_fn=cond_fn if guided else None, progress=False)
        return run
    return build


def _cgd_side(method: str, sampler: str, steps_key: str = "steps"):
    def build():
        models = load_image_models("mnist", need=("unet", "classifier"))
        req = SampleRequest(method=method, label=3 if method != unconditional() else None,
                            scale=OPTS["scale"] if method != unconditional() else 0.0, steps=OPTS[steps_key], n=OPTS["n"],
                            seed=0, sampler=sampler, x0_mode="clip")
        return lambda: sample_images(models, req)
    return build


SIDES = {"gd": _gd_side(True), "gd-unguided": _gd_side(False), "cgd": _cgd_side(cg_on("ddim"), "ddim"),
         "cgd-unguided": _cgd_side(unconditional(), "ddim"), "cgd-dpmpp-2m": _cgd_side(cg_on("ddim"), "dpmpp-2m", "dpm_steps")}


def step_flops() -> dict:
    """GFLOP of one guided step (eps network forward + classifier forward and input gradient), both sides."""
    from torch.utils.flop_counter import FlopCounterMode

    n = OPTS["n"]
    x, t, y = torch.randn(n, 1, 28, 28), torch.full((n,), 500), torch.full((n,), 3)
    out = {}
    gd_unet, gd_clf, _ = _gd_models()
    # torch's FLOP counter cannot follow the AttentionBlock's own checkpointing backward; for the count only, the
    # block runs plainly (the timed side keeps it, and with it one recomputed attention forward per step)
    import guided_diffusion.unet as gd_unet_module

    gd_unet_module.checkpoint = lambda func, inputs, params, flag: func(*inputs)
    ours = load_image_models("mnist", need=("unet", "classifier"))
    pairs = {"gd": (lambda: gd_unet(x, t), gd_clf), "cgd": (lambda: ours.unet(x, t, torch.full((n,), 10)),
                                                            ours.classifier)}
    for name, (net, clf) in pairs.items():
        with FlopCounterMode(display=False) as fc:
            with torch.no_grad():
                net()
            x_in = x.clone().requires_grad_(True)  # the input gradient only (weights frozen for the count)
            F.log_softmax(clf.requires_grad_(False)(x_in, t), -1)[range(n), y].sum().backward()
        out[name] = fc.get_total_flops() / 1e9
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gd-path", required=True, help="checkout of openai/guided-diffusion")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--dpm-steps", type=int, default=10, help="steps of the cgd-dpmpp-2m side")
    p.add_argument("--sides", default=",".join(SIDES))
    p.add_argument("--side", choices=sorted(SIDES), help="(internal) time one side in this fresh process")
    args = p.parse_args()
    gd = Path(args.gd_path)
    if not (gd / "guided_diffusion" / "gaussian_diffusion.py").is_file():
        sys.exit(f"error: {gd} does not hold guided_diffusion/ (a checkout of openai/guided-diffusion)")
    OPTS.update(gd_path=gd.resolve(), steps=args.steps, dpm_steps=args.dpm_steps)
    pin_threads(args.threads)  # every side samples in its main thread: one OpenMP team
    if args.side:
        return fresh.main_side(SIDES, args.side, args.repeat)
    names = [s for s in args.sides.split(",") if s]
    unknown = sorted(set(names) - set(SIDES))
    if unknown:
        sys.exit(f"error: unknown side(s) {', '.join(unknown)}; choose from {', '.join(SIDES)}")
    runs = fresh.alternate(__file__, names, rounds=args.rounds, repeat=args.repeat,
                           args=["--gd-path", str(gd), "--threads", str(args.threads), "--steps", str(args.steps),
                                 "--dpm-steps", str(args.dpm_steps)])
    best = {k: min(v) for k, v in runs.items()}
    print(json.dumps({"name": "guided_step_gflop", **{k: round(v, 3) for k, v in step_flops().items()}}))
    for name, s in best.items():
        print(json.dumps({"name": name, "best_s": round(s, 3), "rounds": [round(v, 3) for v in runs[name]],
                          "images_per_s": round(OPTS["n"] / s, 2), "threads": args.threads}))
    for ours, theirs in (("cgd", "gd"), ("cgd-unguided", "gd-unguided"), ("cgd-dpmpp-2m", "gd")):
        if ours in best and theirs in best:
            print(json.dumps({"name": f"speedup {ours} vs {theirs}", "value": round(best[theirs] / best[ours], 3)}))


if __name__ == "__main__":
    main()
