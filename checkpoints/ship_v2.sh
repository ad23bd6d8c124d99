#!/usr/bin/env bash
# Ship a staged U-Net (checkpoints/stage_v2.sh) once it has been measured in its staged root:
#   bash checkpoints/ship_v2.sh fashion-mnist
# The shipped U-Net becomes autoguidance's weak model (unet_weak.*), the staged one becomes unet.*; the old
# U-Net's sweep moves to results/history/, the staged sweep (results/staged/DATASET-v2/) takes its place. Then,
# by hand: the recommended scales (cgd.models.RECOMMENDED_SCALE: `python -m cgd.report` prints the rule's
# choice), `python -m cgd.quality` (it reuses the swept records), the spread over seeds, the scale atlas
# (`python -m cgd.atlas build`, command in atlas.json), the docs and the sample grids.
# Finish every run in the staged root ($RUNS/ship-v2) first, or point its links at copies of the two U-Nets: they
# link to checkpoints/DATASET/unet.safetensors and the staged file, which this script moves.
set -euo pipefail
cd "$(dirname "$0")/.."
ds=${1:?usage: ship_v2.sh DATASET}
staged=checkpoints/staged/$ds
for f in "$staged/unet.safetensors" "$staged/unet.json" "results/staged/$ds-v2/${ds}_sweep.json"; do
  [ -f "$f" ] || { echo "error: $f is missing: stage and measure first (checkpoints/stage_v2.sh)" >&2; exit 2; }
done
[ -f "checkpoints/$ds/unet_weak.safetensors" ] && { echo "error: checkpoints/$ds already ships a weak U-Net" >&2; exit 2; }
git mv "checkpoints/$ds/unet.safetensors" "checkpoints/$ds/unet_weak.safetensors"
git mv "checkpoints/$ds/unet.json" "checkpoints/$ds/unet_weak.json"
git mv "$staged/unet.safetensors" "checkpoints/$ds/unet.safetensors"
git mv "$staged/unet.json" "checkpoints/$ds/unet.json"
git mv "results/${ds}_sweep.json" "results/history/${ds}_sweep_unet3000.json"
[ -f "results/spread/${ds}_seeds.json" ] && git mv "results/spread/${ds}_seeds.json" "results/history/${ds}_seeds_unet3000.json"
git mv "results/staged/$ds-v2/${ds}_sweep.json" "results/${ds}_sweep.json"
echo "shipped: checkpoints/$ds/unet.safetensors ($(sha256sum "checkpoints/$ds/unet.safetensors" | cut -c1-12)); next: the scales, cgd.quality, the atlas"
