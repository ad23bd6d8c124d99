"""How long each Lesson step takes to show on a cold server, as a lecturer clicks through it.

    python bench/lesson_cold.py [--talk 5]

Starts ``streamlit run app.py`` on a free local port, opens the Lesson in Debian's chromium
(playwright), clicks Next through the seven steps with ``--talk`` seconds between clicks (the lecturer
talking: the warm-up thread computes the later steps meanwhile) and prints, per step, the seconds from
the click until the page has settled (nothing running, nothing stale, the step's figure drawn; the
settling checks add about 0.8 s). Prints figures, asserts nothing.
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--talk", type=float, default=5.0, help="seconds between a step showing and the next click")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CGD_WARM": os.environ.get("CGD_WARM", "1")}
    t_start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        print(f"server up: {time.perf_counter() - t_start:.1f} s")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
            page = b.new_page(viewport={"width": 1400, "height": 1400})
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/Lesson")
            for k in range(1, 8):
                page.get_by_text(f"Step {k} of 7").wait_for(timeout=300_000)
                for _ in range(2):  # settled twice in a row
                    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                                           "!document.querySelector('[data-stale=\"true\"]')", timeout=300_000)
                    time.sleep(0.4)
                page.locator('[data-testid="stImage"]' if k == 6 else ".js-plotly-plot").first.wait_for(timeout=300_000)
                print(f"lesson_step{k}_s: {time.perf_counter() - t0:.1f}")
                if k < 7:
                    time.sleep(args.talk)
                    t0 = time.perf_counter()
                    page.get_by_role("button", name="Next →").click()
                    time.sleep(0.3)
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
