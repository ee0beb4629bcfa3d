"""Benchmark of the camera simulator's cost: `python -m tests.bench.camsim --json`.

Starts `hall-camsim` (`--cameras` numbered cameras with `--encoding`, `--codec` and
`--scene`), opens one RTSP session per camera on `--stream` that reads packets without
decoding (so the figures are the simulator's), waits out the warm-up, then measures the
server process's CPU over `--seconds` (percent of one core, from /proc) and what the
sessions received. `--before` runs the same against another checkout (e.g. an older
commit's worktree) for a before/after comparison: its `hall-camsim` has no encoding
options, so only the count and stream apply.

Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import av

OPTS = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Reader(threading.Thread):
    """Counts the packets and bytes of one RTSP session (no decoding) until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.packets = 0
        self.nbytes = 0
        self.stop = threading.Event()
        self.error = ""

    def run(self) -> None:
        try:
            with av.open(self.url, options=OPTS, timeout=(10.0, 10.0)) as c:
                vs = c.streams.video[0]
                for p in c.demux(vs):
                    if p.size:
                        self.packets += 1
                        self.nbytes += p.size
                    if self.stop.is_set():
                        break
        except Exception as exc:  # reported in the result
            self.error = f"{type(exc).__name__}: {exc}"


def start_sim(
    args: argparse.Namespace, root: str | None
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    cmd = [sys.executable, "-m", "streams.simulator.cli", "--cameras", str(args.cameras)]
    env = dict(os.environ)
    if root is None:
        cmd += ["--encoding", args.encoding, "--codec", args.codec, "--scene", args.scene]
    else:
        env["PYTHONPATH"] = root
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=root
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"camsim did not start: {line!r}")
    return proc, json.loads(line[len("READY ") :])["cameras"]


def server_pid(parent: int) -> int:
    """The GStreamer server: the CLI's child process."""
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    return int(out.split()[0])


def measure(args: argparse.Namespace, root: str | None) -> dict[str, Any]:
    proc, cameras = start_sim(args, root)
    try:
        readers = [Reader(str(info[args.stream])) for info in cameras.values()]
        for r in readers:
            r.start()
        time.sleep(args.warmup)
        pid = server_pid(proc.pid)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        p0 = [(r.packets, r.nbytes) for r in readers]
        time.sleep(args.seconds)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        p1 = [(r.packets, r.nbytes) for r in readers]
        for r in readers:
            r.stop.set()
    finally:
        proc.terminate()
        proc.wait(15)
    span = t1 - t0
    cpu = 100 * (c1 - c0) / span
    fps = [(b[0] - a[0]) / span for a, b in zip(p0, p1, strict=True)]
    kbps = [(b[1] - a[1]) * 8 / span / 1000 for a, b in zip(p0, p1, strict=True)]
    return {
        "checkout": root or "this",
        "cameras": args.cameras,
        "stream": args.stream,
        "encoding": "old" if root else args.encoding,
        "codec": "h264" if root else args.codec,
        "scene": "old" if root else args.scene,
        "cpu_percent": round(cpu, 1),
        "cpu_percent_per_camera": round(cpu / args.cameras, 1),
        "fps_min": round(min(fps), 1),
        "kbps_mean": round(sum(kbps) / len(kbps)),
        "errors": [r.error for r in readers if r.error],
        "load_average": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.camsim")
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--stream", choices=("main", "sub", "third"), default="sub")
    p.add_argument("--encoding", choices=("camera", "fast"), default="camera")
    p.add_argument("--codec", choices=("h264", "h265"), default="h264")
    p.add_argument("--scene", choices=("day", "night", "mixed"), default="day")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=4.0)
    p.add_argument("--before", metavar="CHECKOUT", help="also measure this checkout's camsim")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    args = p.parse_args(argv)
    runs = [measure(args, args.before)] if args.before else []
    runs.append(measure(args, None))
    if not args.json:
        for r in runs:
            print(
                f"{r['checkout']}: {r['cameras']} x {r['stream']} {r['encoding']}/{r['codec']}/"
                f"{r['scene']}: server {r['cpu_percent']} % ({r['cpu_percent_per_camera']} % a "
                f"camera), {r['fps_min']} fps min, {r['kbps_mean']} kbit/s"
            )
    print(json.dumps(runs[-1] if len(runs) == 1 else {"before": runs[0], "after": runs[1]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
