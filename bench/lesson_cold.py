"""How long each Lesson step takes to show, on a cold server and once warm, as a lecturer clicks through it.

    python bench/lesson_cold.py [--talk 5] [--plain]

Starts ``streamlit run app.py`` on a free local port, opens the Lesson in presentation mode (``?present=1``;
``--plain`` without it) in Debian's chromium (playwright) at 1400×900, and clicks Next through every step:

* cold: ``--talk`` seconds between clicks (the lecturer talking: the warm-up thread computes the later steps
  meanwhile);
* warm: back to step 1, then through every step again without pausing.

Prints, per step, the seconds from the click until the page has settled (nothing running, nothing stale, every
figure box of the step drawn; the settling checks add about 0.8 s), and the slowest warm step against the
3 s the Lesson should take once warm. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM_LIMIT_S = 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shown(page, k: int, steps: int) -> None:
    """Step ``k`` (1-based) drawn: its title, nothing running or stale (twice in a row), every figure box filled."""
    page.get_by_text(f"Step {k} of {steps}").first.wait_for(timeout=300_000)
    for _ in range(2):
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                               "!document.querySelector('[data-stale=\"true\"]')", timeout=300_000)
        time.sleep(0.4)
    page.wait_for_function("() => { const f = Array.from(document.querySelectorAll('[class*=\"st-key-lessonfig_\"]'));"
                           " return f.length > 0 && f.every(e => e.querySelector('.js-plotly-plot .main-svg, img')); }",
                           timeout=300_000)


def _through(page, steps: int, talk: float, label: str) -> list:
    out = []
    t0 = time.perf_counter()
    for k in range(1, steps + 1):
        _shown(page, k, steps)
        out.append(time.perf_counter() - t0)
        print(f"{label}_step{k}_s: {out[-1]:.1f}", flush=True)
        if k < steps:
            time.sleep(talk)
            t0 = time.perf_counter()
            page.get_by_role("button", name="Next →").click()
            time.sleep(0.3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--talk", type=float, default=5.0, help="seconds between a step showing and the next click")
    ap.add_argument("--plain", action="store_true", help="without presentation mode")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from ui.lesson import STEPS

    port = _free_port()
    env = {**os.environ, "CGD_WARM": os.environ.get("CGD_WARM", "1")}
    t_start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    query = "" if args.plain else "present=1&"
    try:
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        print(f"server up: {time.perf_counter() - t_start:.1f} s")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"])
            page = b.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/Lesson?{query}step=1")
            _through(page, len(STEPS), args.talk, "cold")
            page.goto(f"http://127.0.0.1:{port}/Lesson?{query}step=1")
            warm = _through(page, len(STEPS), 0.0, "warm")
            b.close()
        worst = max(warm)  # step 1: the page loading; the others: a click on Next
        print(f"warm_slowest_step_s: {worst:.1f} (step {warm.index(worst) + 1}); every step <= {WARM_LIMIT_S:g} s "
              f"once warm: {'yes' if worst <= WARM_LIMIT_S else 'no'}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
