"""Classroom load: many simulated students speaking Streamlit's websocket protocol to one local server.

    python bench/load.py --page 2d --sessions 60 --rounds 3 --waves 3
    python bench/load.py --page images --sessions 30 --rounds 1                  # everyone the same live request
    python bench/load.py --page images --mode atlas --sessions 30 --rounds 5     # each their own class, method, scale
    python bench/load.py --page images --mode live-distinct --sessions 30 --rounds 1 --timeout 600

It starts ``streamlit run app.py`` on 127.0.0.1 (a free port; ``--server.disconnectedSessionTTL``
shortened so that waves can be compared), then each simulated student opens ``/_stcore/stream``,
runs the page, and reruns it with new widget values (the 2D page: a new scale; the image page:
the Generate button, everyone with the same settings so the shared cache answers; ``--mode atlas``: each
student picks a class and a method and moves the atlas's scale slider; ``--mode live-distinct``: each
presses Generate on live settings of their own, and the run counts who was shown a place in the queue). Every request
is timed from the BackMsg to ``script_finished``. Bounded: a fixed number of sessions, rounds and
waves, each request with a timeout; the server is stopped at the end. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGES = {"2d": "Guidance_in_2D", "images": "Image_generation"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list:
    """Pids of the processes whose parent is ``pid`` (the app's worker process and its helpers)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Student:
    """One browser tab: a websocket session that reruns one page."""

    def __init__(self, url: str, page: str, timeout: float):
        self.url, self.page, self.timeout = url, page, timeout
        self.widgets = {}  # label -> (id, kind)
        self.errors = []
        self.saw_queue = False  # a progress text told this student their place in the queue

    async def __aenter__(self):
        host = self.url.split("//")[1]
        self.ws = await websockets.connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                           origin=self.url, max_size=2**26, open_timeout=self.timeout)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def run(self, widget_states=()) -> float:
        """Rerun the page with these widget states; returns seconds until script_finished."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.page_name = self.page
        for ws in widget_states:
            cs.widget_states.widgets.append(ws)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        deadline = t0 + self.timeout
        while True:
            data = await asyncio.wait_for(self.ws.recv(), max(0.1, deadline - time.perf_counter()))
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._see(fwd.delta.new_element)
            elif kind == "script_finished":
                dt = time.perf_counter() - t0
                if fwd.script_finished != 0:  # FINISHED_SUCCESSFULLY
                    self.errors.append(f"script finished with status {fwd.script_finished}")
                return dt

    def _see(self, el):
        kind = el.WhichOneof("type")
        if kind == "exception":
            self.errors.append(f"exception: {el.exception.message[:120]}")
        elif kind == "alert" and el.alert.format == 1:  # ERROR
            self.errors.append(f"st.error: {el.alert.body[:120]}")
        elif kind in ("slider", "number_input", "button", "selectbox", "radio"):
            w = getattr(el, kind)
            self.widgets[w.label] = (w.id, kind)
        elif kind == "progress" and "ahead of yours" in el.progress.text:
            self.saw_queue = True


def state(widget_id: str, **value):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    ws = WidgetState(id=widget_id)
    for k, v in value.items():
        if k == "double_array_value":  # sliders send their value(s) as an array
            ws.double_array_value.data.extend(v)
        elif k == "string_array_value":  # select sliders send their formatted option(s)
            ws.string_array_value.data.extend(v)
        else:
            setattr(ws, k, v)
    return ws


async def student_2d(url, rounds, seed, timeout):
    rng = random.Random(seed)
    times = []
    async with Student(url, PAGES["2d"], timeout) as s:
        times.append(await s.run())
        sid = s.widgets.get("Guidance scale s", (None,))[0]
        if sid is None:
            s.errors.append("no scale slider on the 2D page")
            return times, s.errors, s.saw_queue
        for _ in range(rounds):
            scale = round(rng.uniform(0, 10), 1)
            times.append(await s.run([state(sid, double_array_value=[scale])]))
    return times, s.errors, s.saw_queue


async def student_images(url, rounds, seed, timeout):
    times = []
    async with Student(url, PAGES["images"], timeout) as s:
        times.append(await s.run())
        gen = s.widgets.get("Generate", (None,))[0]
        if gen is None:
            s.errors.append("no Generate button on the image page (models missing?)")
            return times, s.errors, s.saw_queue
        for _ in range(rounds):
            times.append(await s.run([state(gen, trigger_value=True)]))
    return times, s.errors, s.saw_queue


ATLAS_METHODS = ("cg-ddpm", "cg-ddim", "cfg", "cond+cg")  # picked on the image page by their registry labels


async def student_atlas(url, rounds, seed, timeout):
    """Own class and method, then the scale slider moved ``rounds`` times (every move a rerun)."""
    from cgd import methods as registry
    from cgd.atlas import DEFAULT_SCALES

    rng = random.Random(seed)
    times = []
    async with Student(url, PAGES["images"], timeout) as s:
        times.append(await s.run())
        if "Guidance scale s" not in s.widgets:
            s.errors.append("the image page did not open on the atlas (no scale slider)")
            return times, s.errors, s.saw_queue
        key = rng.choice(ATLAS_METHODS)
        states = [state(s.widgets["Method"][0], string_value=registry.get(key).label),
                  state(s.widgets["Class"][0], string_value=str(rng.randrange(10)))]
        times.append(await s.run(states))
        label = f"Guidance scale {registry.scale_symbol(key)}"
        for _ in range(rounds):
            v = rng.choice(DEFAULT_SCALES[key])
            times.append(await s.run(states + [state(s.widgets[label][0], string_array_value=[f"{float(v):g}"])]))
    return times, s.errors, s.saw_queue


async def student_live(url, rounds, seed, timeout):
    """Live sampling with a class and seed of their own, then Generate (``rounds`` times, new seed each)."""
    rng = random.Random(seed)
    times = []
    async with Student(url, PAGES["images"], timeout) as s:
        times.append(await s.run())
        if "Images from" in s.widgets:  # switching to live sampling is not what is timed here
            await s.run([state(s.widgets["Images from"][0], string_value="Live sampling")])
        base = [state(s.widgets["Images from"][0], string_value="Live sampling")] if "Images from" in s.widgets else []
        if "Generate" not in s.widgets:
            s.errors.append("no Generate button in live sampling")
            return times, s.errors, s.saw_queue
        for _ in range(rounds):
            mine = base + [state(s.widgets["Class"][0], string_value=str(rng.randrange(10))),
                           state(s.widgets["Seed"][0], int_value=rng.randrange(1_000_000))]
            times.append(await s.run(mine + [state(s.widgets["Generate"][0], trigger_value=True)]))
    return times, s.errors, s.saw_queue


async def wave(url, page, sessions, rounds, seed, timeout, mode="same"):
    fn = {"same": student_images, "atlas": student_atlas, "live-distinct": student_live}[mode] \
        if page == "images" else student_2d
    results = await asyncio.gather(*[fn(url, rounds, seed * 1000 + k, timeout) for k in range(sessions)],
                                   return_exceptions=True)
    times, errors, saw = [], [], 0
    for r in results:
        if isinstance(r, BaseException):
            errors.append(f"{type(r).__name__}: {r}")
        else:
            times += r[0][1:] or r[0]  # reruns after the first load (or the load alone)
            errors += r[1]
            saw += r[2]
    return times, errors, saw


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--page", choices=sorted(PAGES), default="2d")
    p.add_argument("--sessions", type=int, default=60)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--waves", type=int, default=1)
    p.add_argument("--ttl", type=int, default=5, help="server.disconnectedSessionTTL for the run (s)")
    p.add_argument("--timeout", type=float, default=120.0, help="per request (s)")
    p.add_argument("--mode", choices=("same", "atlas", "live-distinct"), default="same",
                   help="image page: everyone the same live request, the atlas slider, or distinct live requests")
    args = p.parse_args()
    if not (1 <= args.sessions <= 200 and 1 <= args.rounds <= 20 and 1 <= args.waves <= 5):
        p.error("sessions 1..200, rounds 1..20, waves 1..5")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address",
                               "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
                               "--server.disconnectedSessionTTL", str(args.ttl)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        t_end = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                if time.monotonic() > t_end or server.poll() is not None:
                    raise SystemExit("streamlit did not start")
                time.sleep(0.3)
        asyncio.run(wave(url, args.page, 1, 1, 999, args.timeout, args.mode))  # warm the caches and imports
        print(json.dumps({"name": "server_rss_mib_warm", "value": round(rss_mib(server.pid), 1)}), flush=True)
        for w in range(args.waves):
            t0, c0, s0 = time.perf_counter(), time.process_time(), cpu_s(server.pid)
            w0 = {k: cpu_s(k) for k in children(server.pid)}
            times, errors, saw = asyncio.run(wave(url, args.page, args.sessions, args.rounds, w, args.timeout,
                                                  args.mode))
            wall, client_cpu, server_cpu = time.perf_counter() - t0, time.process_time() - c0, cpu_s(server.pid) - s0
            kids = children(server.pid)
            worker_cpu = sum(cpu_s(k) - w0.get(k, 0.0) for k in kids)
            time.sleep(args.ttl + 3)  # let the disconnected sessions expire
            print(json.dumps({"name": f"load_{args.page}" + ("" if args.mode == "same" else f"_{args.mode}"),
                              "wave": w + 1, "sessions": args.sessions, "saw_their_place_in_queue": saw,
                              "requests": len(times), "p50_s": round(pct(times, 0.5), 3),
                              "p95_s": round(pct(times, 0.95), 3), "max_s": round(max(times, default=float("nan")), 3),
                              "errors": len(errors), "first_errors": errors[:3], "wall_s": round(wall, 1),
                              "server_cpu_s": round(server_cpu, 1), "client_cpu_s": round(client_cpu, 1),
                              "worker_cpu_s": round(worker_cpu, 1), "server_rss_mib": round(rss_mib(server.pid), 1),
                              "worker_rss_mib": round(sum(rss_mib(k) for k in kids), 1)}), flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
