#!/usr/bin/env bash
# Trains every shipped checkpoint with the project's own CLI. Rerun it after an interruption:
# each step resumes from its training state in runs/ (checkpointed every --ckpt-every steps).
#   bash checkpoints/train.sh [mnist|fashion-mnist ...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
THREADS=${THREADS:-2}
for ds in "${@:-mnist fashion-mnist}"; do
  for ds1 in $ds; do
    out=checkpoints/$ds1
    mkdir -p "$out" runs/$ds1
    [ -f "$out/judge.safetensors" ] || $PY -m cgd.train judge --dataset "$ds1" --steps 1000 --batch 128 --lr 1e-3 \
      --ckpt-every 250 --threads "$THREADS" --out "$out/judge.safetensors" --state runs/$ds1/judge.state.pt --resume
    [ -f "$out/classifier.safetensors" ] || $PY -m cgd.train classifier --dataset "$ds1" --steps 3000 --batch 64 --lr 1e-3 \
      --ckpt-every 250 --threads "$THREADS" --out "$out/classifier.safetensors" --state runs/$ds1/classifier.state.pt --resume
    [ -f "$out/unet.safetensors" ] || $PY -m cgd.train diffusion --dataset "$ds1" --steps 3000 --batch 64 --lr 5e-4 \
      --ckpt-every 100 --threads "$THREADS" --out "$out/unet.safetensors" --state runs/$ds1/unet.state.pt --resume
  done
done
