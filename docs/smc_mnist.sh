#!/usr/bin/env bash
# Feynman-Kac SMC against the plain sampler (same proposal) on MNIST: CG at the recommended s = 4 and CFG at
# w = 0.5, n = 500, 25 steps, seeds 0-2. Writes results/smc/mnist_fk.json (resumes); the table:
# python docs/smc_mnist.py --summary
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY docs/smc_mnist.py --method cg-ddpm --scale 4 --seeds 0,1,2
$PY docs/smc_mnist.py --method cfg --scale 0.5 --seeds 0,1,2
