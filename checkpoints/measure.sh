#!/usr/bin/env bash
# Measures the shipped models of a dataset after training: reference statistics, the sweeps of
# results/DATASET_sweep.json (the paper's table and the scale sweeps) and checkpoints/DATASET/quality.json.
#   bash checkpoints/measure.sh mnist [N] [SEED]
# A model not shipped yet (checkpoints/stage_v2.sh): CGD_CHECKPOINTS=ITS_ROOT RESULTS=A_FOLDER bash checkpoints/measure.sh ...
# (records to A_FOLDER/DATASET_sweep.json, quality.json beside that root's models).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=${1:-mnist}; n=${2:-500}; seed=${3:-0}
ck=${CGD_CHECKPOINTS:-checkpoints}
results=${RESULTS:-results}
mkdir -p "$results"
out=$results/${ds}_sweep.json
common=(--dataset "$ds" --n "$n" --steps 25 --seed "$seed" --out "$out")
[ -f "$ck/$ds/reference.npz" ] || $PY -m cgd.evaluate --dataset "$ds" --make-reference
$PY -m cgd.evaluate "${common[@]}" --methods uncond,cond --scales 0
$PY -m cgd.evaluate "${common[@]}" --methods cg-ddpm --scales 1,2,4,10
$PY -m cgd.evaluate "${common[@]}" --methods cfg --scales 0.5,1,2,4
$PY -m cgd.evaluate "${common[@]}" --methods cond+cg --scales 1,10
$PY -m cgd.evaluate "${common[@]}" --methods cg-ddim --scales 4,8,16
if [ -f "$ck/$ds/unet_weak.safetensors" ]; then  # autoguidance, where the dataset ships a weak U-Net
  $PY -m cgd.evaluate "${common[@]}" --methods autoguidance --scales 0.5,1,2,3
fi
$PY -m cgd.quality --dataset "$ds" --n "$n" --steps 25 --seed "$seed" --results "$results"
