#!/usr/bin/env bash
# Stage a finished train_v2.sh run so it can be measured before it ships (issue #15):
#   RUNS=/root/cgd-runs bash checkpoints/stage_v2.sh fashion-mnist
# 1. copies the run's EMA weights and record ($RUNS/DATASET-v2/unet.{safetensors,json}) into the repository,
#    checkpoints/staged/DATASET/ (committed: a later session on a new machine still has them);
# 2. makes a checkpoint root $RUNS/ship-v2/DATASET that holds them as unet.safetensors, the shipped U-Net as
#    unet_weak.safetensors (autoguidance's weak model once the new one ships) and links to the shipped
#    classifier, judge and reference statistics.
# Then measure there, records kept out of results/*.json until the model ships:
#   CGD_CHECKPOINTS=$RUNS/ship-v2 RESULTS=results/staged/DATASET-v2 bash checkpoints/measure.sh DATASET 500 0
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
ds=${1:?usage: stage_v2.sh DATASET}
run=$RUNS/$ds-v2
staged=checkpoints/staged/$ds
if [ -f "$run/unet.safetensors" ]; then
  mkdir -p "$staged"
  cp "$run/unet.safetensors" "$staged/unet.safetensors.tmp" && mv "$staged/unet.safetensors.tmp" "$staged/unet.safetensors"
  cp "$run/unet.json" "$staged/unet.json"
fi
[ -f "$staged/unet.safetensors" ] || { echo "error: no finished run in $run and nothing staged in $staged" >&2; exit 2; }
[ -f "checkpoints/$ds/unet_weak.safetensors" ] && { echo "error: checkpoints/$ds already ships a weak U-Net: was the run shipped?" >&2; exit 2; }
root=$RUNS/ship-v2/$ds
mkdir -p "$root"
here=$(pwd)
ln -sfn "$here/$staged/unet.safetensors" "$root/unet.safetensors"
ln -sfn "$here/checkpoints/$ds/unet.safetensors" "$root/unet_weak.safetensors"
for f in classifier.safetensors judge.safetensors reference.npz; do ln -sfn "$here/checkpoints/$ds/$f" "$root/$f"; done
echo "staged $staged/unet.safetensors ($(sha256sum "$staged/unet.safetensors" | cut -c1-12)); checkpoint root $RUNS/ship-v2"
