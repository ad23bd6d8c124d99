#!/usr/bin/env bash
# Sample grids of the shipped checkpoints, made only through the sampling CLI:
# one row per class (8 images each, seed 0, 25 steps, the README's recommended scale), per method.
#   bash docs/make_samples.sh mnist fashion-mnist   ->  docs/samples_DATASET.png
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for ds in "${@:-mnist fashion-mnist}"; do
  for method in uncond cg-ddim cfg; do
    for k in 0 1 2 3 4 5 6 7 8 9; do
      label=$k; [ "$method" = uncond ] && label=none
      $PY -m cgd.sample --dataset "$ds" --method "$method" --label "$label" --n 8 --steps 25 --seed "$k" \
        --out-npy "$tmp/$ds-$method-$k.npy" >/dev/null
    done
  done
  $PY - "$tmp" "$ds" <<'PY'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
tmp, ds = sys.argv[1], sys.argv[2]
from cgd.models import recommended_scale
methods = {"uncond": "unguided p(x) (seed k per row)", "cg-ddim": f"cg-ddim s={recommended_scale(ds, 'cg-ddim'):g}",
           "cfg": f"cfg w={recommended_scale(ds, 'cfg'):g}"}
fig, axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 5.2))
for ax, (m, title) in zip(axes, methods.items()):
    rows = [np.concatenate(list(np.load(f"{tmp}/{ds}-{m}-{k}.npy")), axis=1) for k in range(10)]
    ax.imshow(np.concatenate(rows, axis=0), cmap="gray", vmin=0, vmax=255)
    ax.set_title(title, fontsize=10)
    ax.set_yticks([14 + 28 * k for k in range(10)], [str(k) for k in range(10)] if m != "uncond" else [""] * 10)
    ax.set_xticks([])
fig.suptitle(f"{ds}: python -m cgd.sample, 25 steps, row k = class k")
fig.tight_layout()
fig.savefig(f"docs/samples_{ds}.png", dpi=90)
print(f"docs/samples_{ds}.png")
PY
done
