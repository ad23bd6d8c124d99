#!/usr/bin/env bash
# MNIST, shipped models, n = 500, 25 steps: the new methods (issue #27) swept at seed 0, then the scale the
# recommended-scale rule picks (cgd.results.choose_scale: lowest judge-FID with the judge >= 97%) at seeds 1 and 2.
# Records go to results/new_methods/ (a subfolder: the app's pages do not read them until they are moved up).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=results/new_methods
$PY -m cgd.evaluate --dataset mnist --methods apg,cfg-zero-star --scales 0.5,1,2,4 --n 500 --steps 25 --seed 0 \
    --out $OUT/mnist_sweep.json
$PY -m cgd.evaluate --dataset mnist --methods cfg++ --scales 0.2,0.4,0.6,0.8,1 --n 500 --steps 25 --seed 0 \
    --out $OUT/mnist_sweep.json
for seed in 1 2; do
  for method in apg cfg-zero-star cfg++; do
    scale=$($PY -c "
from pathlib import Path
from cgd.results import choose_scale, load_records
r = choose_scale(load_records(Path('$OUT')), 'mnist', '$method')
print('' if r is None else r['scale'])")
    if [ -n "$scale" ]; then
      $PY -m cgd.evaluate --dataset mnist --methods $method --scales $scale --n 500 --steps 25 --seed $seed \
          --out $OUT/spread/mnist_seeds.json
    else
      echo "$method: no swept scale reaches the judge floor" >&2
    fi
  done
done
