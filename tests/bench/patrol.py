"""Benchmark of the camera health patrol: `python -m tests.bench.patrol --json`.

Starts hall-camsim with `--cameras` cameras (200 by default, in mass mode: looped
pre-encoded pictures with a key frame every 2 s, as cameras send them; `--live` for
cameras that encode; every 10th camera faulty, the last one killed). Of the rest, 5 %
hang (`CamSim.hang`: the socket takes the connection, no answer, no data) and 5 % time
out (their URLs lead to a port whose accept queue is full: the connection itself never
completes, as a camera unreachable on the network). Baseline, measured in the same run:
the simulator idle for a few seconds, and one camera probed alone. Then it patrols every
camera once with the real patrol (`streams.patrol.runner.patrol_round`: key frames only,
diagnosis, snapshots) at the hub's own concurrency (`patrol.concurrency` of the hub's
config, its default unless `--concurrency`) and reports wall time, CPU of this process
and of the simulator, how many cameras were found online, faulty and offline, whether
every hung and timed-out camera was marked offline with reason `timeout`, any healthy
camera misjudged, and what a round of `--county` (5,000) cameras takes at that rate
(extrapolated: a probe waits for key frames, so a round grows with cameras / concurrency
while the CPU share stays as measured) against the hub's patrol round. Prints a table,
then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.hub.config import PatrolConfig
from streams.patrol.runner import PatrolTarget, check_one, patrol_round
from streams.patrol.types import CameraCheck, OfflineReason
from streams.quality.diagnosis import load_thresholds
from streams.simulator import CamSim
from streams.simulator.picture import MODES

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """user + system CPU seconds of a process (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def now() -> datetime:
    return datetime.now(UTC)


def faults_for(n: int) -> dict[str, str]:
    """Every 10th camera faulty, cycling through the fault modes."""
    bad = [m for m in MODES if m != "normal"]
    return {f"cam{i}": bad[(i // 10) % len(bad)] for i in range(5, n + 1, 10)}


def every_20th(n: int, first: int) -> list[str]:
    """5 % of the cameras: cam<first>, cam<first+20>, … (never a faulty one: those end in 5)."""
    return [f"cam{i}" for i in range(first, n, 20)]


def black_hole() -> tuple[socket.socket, socket.socket, int]:
    """A port whose accept queue is full: a new connection never completes (times out)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = int(srv.getsockname()[1])
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    return srv, filler, port


def judged(
    checks: list[CameraCheck], faults: dict[str, str], hung: set[str], timing_out: set[str]
) -> dict[str, Any]:
    """What the round said about the cameras of each kind."""
    by_id = {c.camera: c for c in checks}
    down = hung | timing_out
    marked = {
        cid: f"{'offline' if not c.online else 'ONLINE'}:{c.reason.value or '-'}"
        for cid, c in by_id.items()
        if cid in down
    }
    not_marked = [
        f"{cid}={v}" for cid, v in marked.items() if v != f"offline:{OfflineReason.TIMEOUT.value}"
    ]
    killed = checks[-1].camera
    healthy_wrong = [
        f"{c.camera}:"
        + (f"offline:{c.reason.value} ({c.detail[:80]})" if not c.online else ",".join(c.faults))
        for c in checks
        if c.camera not in down and c.camera not in faults and c.camera != killed
        if not c.online or c.faults
    ]
    return {
        "hung": len(hung),
        "timing_out": len(timing_out),
        "hung_and_timed_out_marked_timeout": len(marked) - len(not_marked),
        "not_marked": not_marked,
        "healthy_misjudged": healthy_wrong,
        "seconds_hung_probe_max": round(max((by_id[c].seconds for c in hung), default=0), 2),
        "seconds_timeout_probe_max": round(
            max((by_id[c].seconds for c in timing_out), default=0), 2
        ),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    faults = faults_for(args.cameras)
    sim = CamSim(cameras=args.cameras, faults=faults, mass=not args.live)
    t_start = time.monotonic()
    sim.start(timeout_s=120.0)
    startup_s = time.monotonic() - t_start
    pid = sim.pid
    assert pid is not None
    thresholds = load_thresholds()
    hung = set(every_20th(args.cameras, 3)) if args.faults else set()
    timing_out = set(every_20th(args.cameras, 13)) if args.faults else set()
    holes = ExitStack()
    try:
        killed = sim.camera_ids[-1]
        sim.kill(killed)
        for cid in sorted(hung):
            sim.hang(cid)
        hole_url: dict[str, str] = {}
        for cid in sorted(timing_out):
            srv, filler, port = black_hole()
            holes.callback(srv.close)
            holes.callback(filler.close)
            hole_url[cid] = f"rtsp://127.0.0.1:{port}/{cid}/sub"
        # baseline 1: the simulator serving nobody
        c0 = proc_cpu_s(pid)
        time.sleep(args.baseline_seconds)
        idle_cpu_per_s = (proc_cpu_s(pid) - c0) / args.baseline_seconds
        # baseline 2: one camera probed alone
        with tempfile.TemporaryDirectory() as snaps:
            t0, s0 = time.monotonic(), self_cpu_s()
            one = check_one(
                PatrolTarget("cam1", sim.url("cam1")),
                clock=now,
                thresholds=thresholds,
                snapshot_dir=Path(snaps),
            )
            single_s, single_cpu = time.monotonic() - t0, self_cpu_s() - s0
            targets = [
                PatrolTarget(cid, hole_url.get(cid) or sim.url(cid)) for cid in sim.camera_ids
            ]
            sim_c0, self_c0, t0 = proc_cpu_s(pid), self_cpu_s(), time.monotonic()
            checks = patrol_round(
                targets,
                clock=now,
                thresholds=thresholds,
                snapshot_dir=Path(snaps),
                concurrency=args.concurrency,
            )
            patrol_s = time.monotonic() - t0
            self_cpu = self_cpu_s() - self_c0
            sim_cpu = proc_cpu_s(pid) - sim_c0
    finally:
        holes.close()
        sim.stop()
    online = [c for c in checks if c.online]
    wrong = [
        f"{c.camera}:{faults.get(c.camera, 'normal')}->{','.join(c.faults) or 'ok'}"
        for c in online
        if (faults.get(c.camera) is None) != (not c.faults)
        or (faults.get(c.camera) is not None and faults[c.camera] not in c.faults)
    ]
    per_camera_s = patrol_s / max(len(checks), 1)
    county_s = per_camera_s * args.county
    round_s = args.round_s
    return {
        "cameras": len(checks),
        "camsim_mode": "live" if args.live else "mass",
        "keyframe_interval_s": 2.0,
        "concurrency": args.concurrency,
        "patrol_seconds": round(patrol_s, 2),
        "target_seconds": 120.0,
        **judged(checks, faults, hung, timing_out),
        "county_cameras": args.county,
        "county_round_seconds_estimate": round(county_s),
        "county_round_budget_seconds": round_s,
        "county_fits_round": county_s <= round_s,
        "county_concurrency_needed": math.ceil(args.concurrency * county_s / round_s),
        "county_cpu_share_estimate": round(self_cpu / patrol_s, 3),
        "cpu_seconds_per_camera": round(self_cpu / max(len(checks), 1), 4),
        "patrol_cpu_seconds": round(self_cpu, 2),
        "camsim_cpu_seconds": round(sim_cpu, 2),
        "camsim_cpu_share": round(sim_cpu / patrol_s, 3),
        "patrol_cpu_share": round(self_cpu / patrol_s, 3),
        "online": len(online),
        "offline": len(checks) - len(online),
        "faulty_found": sum(1 for c in online if c.faults),
        "faulty_served": len(faults),
        "misjudged": wrong,
        "camsim_startup_seconds": round(startup_s, 2),
        "baseline_camsim_idle_cpu_share": round(idle_cpu_per_s, 3),
        "baseline_single_camera_seconds": round(single_s, 2),
        "baseline_single_camera_cpu_seconds": round(single_cpu, 3),
        "baseline_single_online": one.online,
        "mean_probe_seconds": round(sum(c.seconds for c in checks) / max(len(checks), 1), 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.patrol")
    ap.add_argument("--cameras", type=int, default=200)
    ap.add_argument(
        "--concurrency",
        type=int,
        default=PatrolConfig().concurrency,
        help="cameras probed at once (default: the hub's, patrol.concurrency)",
    )
    ap.add_argument("--no-faults", dest="faults", action="store_false", help="no hung/timeouts")
    ap.add_argument("--county", type=int, default=5000, help="cameras of the extrapolated round")
    ap.add_argument(
        "--round-s",
        type=float,
        default=300.0,
        help="the patrol round to fit, s (the demo hub's --patrol-every 300)",
    )
    ap.add_argument("--baseline-seconds", type=float, default=5.0)
    ap.add_argument(
        "--live", action="store_true", help="cameras encode live (default: mass mode loops)"
    )
    ap.add_argument("--json", action="store_true", help="print the JSON line last")
    args = ap.parse_args(argv)
    result = run(args)
    width = max(len(k) for k in result)
    print("camera health patrol benchmark")
    for k, v in result.items():
        print(f"  {k:<{width}}  {v}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
