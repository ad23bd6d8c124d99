"""Each side of a comparison in a fresh process of its own, the sides alternating round by round.

Why: torch's OpenMP thread teams belong to the thread that calls them, and libgomp stops spin-waiting as
soon as a process holds more threads than cores (``cgd.compute``). Timing two implementations in one
process lets whichever ran first, or on another thread, slow the other down; a fresh process per side
and per round gives each the machine as a user's run would find it. Rounds alternate because a shared
machine drifts within minutes.

A bench script declares its sides as ``{name: build}`` where ``build()`` loads what it needs and returns
the function to time, and calls :func:`main_side` when started with ``--side NAME``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Callable, Iterable


def main_side(sides: dict, name: str, repeat: int) -> None:
    """In the fresh process: build the side, warm it up once, print the best of ``repeat`` timed runs."""
    fn = sides[name]()
    fn()  # warm-up: first-call allocations, kernel selection
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"side": name, "s": min(times), "all_s": [round(t, 4) for t in times]}), flush=True)


def alternate(script: str, names: Iterable[str], *, rounds: int, repeat: int, args: Iterable[str] = (),
              log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)) -> dict:
    """``{name: [best seconds of each round]}``: every side in its own fresh process, once per round."""
    names, out = list(names), {}
    for r in range(rounds):
        for name in names:
            cmd = [sys.executable, script, "--side", name, "--repeat", str(repeat), *args]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError(f"side {name!r} failed: {res.stderr.strip().splitlines()[-1:]}")
            line = json.loads(res.stdout.strip().splitlines()[-1])
            out.setdefault(name, []).append(line["s"])
            log(f"round {r + 1}/{rounds}: {name} {line['s']:.3f} s")
    return out
