#!/usr/bin/env bash
# DPM-Solver++(2M) against DDIM on MNIST at the recommended CG scale (s = 4): n = 500, seeds 0-2.
# DDIM at 25 steps gives the 3-seed spread; DPM-Solver++(2M) is measured at 5, 8, 10 and 15 steps; DDIM at 50
# and 100 steps (seed 0) shows where its own 25-step figures lie.
# Writes results/solvers/mnist_dpmpp.json; `python docs/dpmpp_mnist.py` then prints the table.
set -euo pipefail
out=results/solvers/mnist_dpmpp.json
for seed in 0 1 2; do
  python -m cgd.evaluate --dataset mnist --methods cg-ddim --scales 4 --n 500 --steps 25 --seed "$seed" --out "$out"
  for steps in 5 8 10 15; do
    python -m cgd.evaluate --dataset mnist --methods cg-ddim --scales 4 --n 500 --steps "$steps" --seed "$seed" \
      --sampler dpmpp-2m --out "$out"
  done
done
# DDIM's own convergence: where its 25-step figures lie against more steps (seed 0)
for steps in 50 100; do
  python -m cgd.evaluate --dataset mnist --methods cg-ddim --scales 4 --n 500 --steps "$steps" --seed 0 --out "$out"
done
