#!/usr/bin/env bash
# The longer U-Net training of issue #15, resumable across sessions (a CPU session is cut at 180 min):
#   RUNS=/root/cgd-runs bash checkpoints/train_v2.sh mnist     # rerun the same line to resume
# Warm-started from the shipped 3000-step U-Net (--init), label dropout 0.2 (the unconditional model
# saw 10% of the batches before), EMA 0.9995, 200 warm-up steps, cosine decay to 5% of the rate at step
# 12000, state every 50 steps, an EMA snapshot every 1000 (early checkpoints: autoguidance's weak model).
# Keep RUNS outside the work tree: a new checkout does not keep ignored folders.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs}
THREADS=${THREADS:-2}
ds=${1:-mnist}
mkdir -p "$RUNS/$ds-v2"
# the 3000-step U-Net it starts from: unet_weak.safetensors once this run's U-Net has shipped as unet.safetensors
init="checkpoints/$ds/unet_weak.safetensors"; [ -f "$init" ] || init="checkpoints/$ds/unet.safetensors"
exec $PY -m cgd.train diffusion --dataset "$ds" --steps 12000 --batch 64 --lr 5e-4 --warmup 200 \
  --decay cosine --final-lr-ratio 0.05 --ema-decay 0.9995 --p-uncond 0.2 --ckpt-every 50 --snapshot-every 1000 \
  --init "$init" --threads "$THREADS" \
  --out "$RUNS/$ds-v2/unet.safetensors" --state "$RUNS/$ds-v2/unet.state.pt" --resume
