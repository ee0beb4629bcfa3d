"""Benchmark of the camera health patrol: `python -m tests.bench.patrol --json`.

Starts hall-camsim with `--cameras` cameras (200 by default, in mass mode: looped
pre-encoded pictures; `--live` for cameras that encode; every 10th camera faulty,
the last one killed). Baseline, measured in the same run: the simulator idle for a
few seconds, and one camera probed alone. Then it patrols every camera once with the
real patrol (`streams.patrol.runner.patrol_round`: key frames only, bounded concurrency,
diagnosis, snapshots) and reports wall time, CPU of this process and of the
simulator, and how many cameras were found online, faulty and offline (and any
camera judged differently from what it serves). Prints a table, then one JSON object
as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.patrol.runner import PatrolTarget, check_one, patrol_round
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


def run(args: argparse.Namespace) -> dict[str, Any]:
    faults = faults_for(args.cameras)
    sim = CamSim(cameras=args.cameras, faults=faults, mass=not args.live)
    t_start = time.monotonic()
    sim.start(timeout_s=120.0)
    startup_s = time.monotonic() - t_start
    pid = sim.pid
    assert pid is not None
    thresholds = load_thresholds()
    try:
        killed = sim.camera_ids[-1]
        sim.kill(killed)
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
            targets = [PatrolTarget(cid, sim.url(cid)) for cid in sim.camera_ids]
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
        sim.stop()
    online = [c for c in checks if c.online]
    wrong = [
        f"{c.camera}:{faults.get(c.camera, 'normal')}->{','.join(c.faults) or 'ok'}"
        for c in online
        if (faults.get(c.camera) is None) != (not c.faults)
        or (faults.get(c.camera) is not None and faults[c.camera] not in c.faults)
    ]
    return {
        "cameras": len(checks),
        "camsim_mode": "live" if args.live else "mass",
        "concurrency": args.concurrency,
        "patrol_seconds": round(patrol_s, 2),
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
    ap.add_argument("--concurrency", type=int, default=16)
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
