"""Benchmark of the camera health patrol: `python -m tests.bench.patrol --json`.

Starts hall-camsim with `--cameras` cameras (200 by default; over 1,000, several
simulator processes of at most 1,000 each; in mass mode: looped pre-encoded pictures with
a key frame every 2 s, as cameras send them; `--live` for cameras that encode; every 10th
camera faulty, the last one killed). Of the rest, 5 % hang (`CamSim.hang`: the socket
takes the connection, no answer, no data) and 5 % time out (their URLs lead to a port
whose accept queue is full: the connection itself never completes, as a camera
unreachable on the network). With `--relays R`, R real relays (`streams.relay`, each an
equal slice of the cameras, as townships) stand in front of the cameras and the patrol
goes through them as the hub's does (`?patrol=1`, `relay_concurrency` probes at once per
relay, the relay's state explaining a refused probe). Baseline, measured in the same
run: the simulators and relays idle for a few seconds, and one camera probed alone.
Then it patrols every camera once with the real patrol (`streams.patrol.runner.
patrol_round`: key frames only, diagnosis, snapshots) at the hub's own bounds
(`patrol.concurrency`, `patrol.relay_concurrency`) and reports wall time, the rate
(cameras/s), CPU of this process, the simulators and the relays, how many cameras were
found online, faulty and offline, whether every hung and timed-out camera was marked
offline with reason `timeout`, any healthy camera misjudged, and the round of
`--county` (5,000) cameras against the round budget: measured when `--cameras` is the
county, else extrapolated at the measured rate (the JSON says which). Prints a table,
then one JSON object as the last line.

    python -m tests.bench.patrol --cameras 5000 --relays 4 --json   # the county
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
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.hub.config import PatrolConfig
from streams.patrol.reference import Reference
from streams.patrol.relayed import probe_url, round_seconds
from streams.patrol.runner import PatrolTarget, check_one, patrol_round
from streams.patrol.types import CameraCheck, OfflineReason
from streams.quality.diagnosis import load_thresholds
from streams.relay.server import RelayServer
from streams.relay.spec import MountSpec, RelaySpec
from streams.relay.states import Upstream
from streams.simulator import CamSim
from streams.simulator.picture import MODES

TICKS = os.sysconf("SC_CLK_TCK")
SIM_MAX = 1000  # cameras per simulator process (hall-camsim's limit)


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
        if c.checked and (not c.online or c.faults)  # 未巡检 is counted on its own
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


@dataclass
class Rig:
    """The simulated county: cameras `cam1`…`camN` over simulators of at most
    `SIM_MAX` cameras, optionally behind relays, and the patrol's targets."""

    sims: list[CamSim] = field(default_factory=list)
    relays: dict[str, RelayServer] = field(default_factory=dict)
    targets: list[PatrolTarget] = field(default_factory=list)
    holes: ExitStack = field(default_factory=ExitStack)

    def where(self, gid: str) -> tuple[CamSim, str]:
        n = int(gid.removeprefix("cam")) - 1
        return self.sims[n // SIM_MAX], f"cam{n % SIM_MAX + 1}"

    def camera_url(self, gid: str) -> str:
        sim, local = self.where(gid)
        return sim.url(local)

    def upstream(self, relay: str, camera: str) -> Upstream | None:
        return self.relays[relay].upstream(camera)

    def pids(self) -> list[int]:
        return [p for p in (*(s.pid for s in self.sims), *self.relay_pids()) if p]

    def relay_pids(self) -> list[int]:
        return [r.pid for r in self.relays.values() if r.pid]

    def stop(self) -> None:
        self.holes.close()
        for r in self.relays.values():
            r.stop()
        for sim in self.sims:
            sim.stop()


def local_faults(faults: dict[str, str], k: int) -> dict[str, str]:
    """The faults of simulator `k`'s cameras, by its own (local) ids."""
    lo = k * SIM_MAX
    out = {}
    for gid, mode in faults.items():
        n = int(gid.removeprefix("cam")) - 1
        if lo <= n < lo + SIM_MAX:
            out[f"cam{n - lo + 1}"] = mode
    return out


def build_rig(
    args: argparse.Namespace, faults: dict[str, str], hung: set[str], timing_out: set[str]
) -> Rig:
    rig = Rig()
    try:
        for k in range(math.ceil(args.cameras / SIM_MAX)):
            n = min(SIM_MAX, args.cameras - k * SIM_MAX)
            sim = CamSim(cameras=n, faults=local_faults(faults, k), mass=not args.live)
            rig.sims.append(sim)
            sim.start(timeout_s=300.0)
        ids = [f"cam{i}" for i in range(1, args.cameras + 1)]
        killed = ids[-1]
        for gid in [killed, *sorted(hung)]:
            sim, local = rig.where(gid)
            (sim.kill if gid == killed else sim.hang)(local)
        url = {gid: rig.camera_url(gid) for gid in ids}
        for gid in sorted(timing_out):
            srv, filler, port = black_hole()
            rig.holes.callback(srv.close)
            rig.holes.callback(filler.close)
            url[gid] = f"rtsp://127.0.0.1:{port}/{gid}/sub"
        if args.relays <= 0:
            rig.targets = [PatrolTarget(gid, url[gid]) for gid in ids]
            return rig
        per = math.ceil(len(ids) / args.relays)
        for r in range(args.relays):
            mine = ids[r * per : (r + 1) * per]
            spec = RelaySpec(tuple(MountSpec(gid, "sub", url[gid]) for gid in mine))
            relay = RelayServer(spec)
            rig.relays[f"r{r + 1}"] = relay
            relay.start(timeout_s=120.0)
            rig.targets += [PatrolTarget(g, probe_url(relay.url(g)), f"r{r + 1}") for g in mine]
    except BaseException:
        rig.stop()
        raise
    return rig


def run(args: argparse.Namespace) -> dict[str, Any]:
    faults = faults_for(args.cameras)
    hung = set(every_20th(args.cameras, 3)) if args.faults else set()
    timing_out = set(every_20th(args.cameras, 13)) if args.faults else set()
    t_start = time.monotonic()
    rig = build_rig(args, faults, hung, timing_out)
    startup_s = time.monotonic() - t_start
    thresholds = load_thresholds()
    rounds: list[dict[str, Any]] = []
    refs: dict[str, Reference] = {}  # the cameras' pictures of the round before
    try:
        # baseline 1: the simulators (and relays) serving nobody
        c0 = sum(proc_cpu_s(p) for p in rig.pids())
        time.sleep(args.baseline_seconds)
        idle_cpu_per_s = (sum(proc_cpu_s(p) for p in rig.pids()) - c0) / args.baseline_seconds
        with tempfile.TemporaryDirectory() as snaps:
            # baseline 2: one camera probed alone, on the path the first round takes
            t0, s0 = time.monotonic(), self_cpu_s()
            one = check_one(
                rig.targets[0], clock=now, thresholds=thresholds, snapshot_dir=Path(snaps)
            )
            single_s, single_cpu = time.monotonic() - t0, self_cpu_s() - s0
            for _k in range(args.rounds):
                checks, figures = one_round(args, rig, Path(snaps), refs, idle_cpu_per_s)
                rounds.append(report(args, checks, faults, hung, timing_out) | figures)
    finally:
        rig.stop()
    last = rounds[-1]
    return last | {
        "rounds": len(rounds),
        "first_round": {k: rounds[0][k] for k in ROUND_SUMMARY} if len(rounds) > 1 else None,
        "every_round": {
            "healthy_misjudged": sum(len(r["healthy_misjudged"]) for r in rounds),
            "not_checked": sum(r["not_checked"] for r in rounds),
            "hung_and_timed_out_not_marked": sum(len(r["not_marked"]) for r in rounds),
            "slowest_round_seconds": max(r["patrol_seconds"] for r in rounds),
        },
        "startup_seconds": round(startup_s, 2),
        "baseline_idle_cpu_share": round(idle_cpu_per_s, 3),
        "baseline_single_camera_seconds": round(single_s, 2),
        "baseline_single_camera_cpu_seconds": round(single_cpu, 3),
        "baseline_single_online": one.online,
    }


ROUND_SUMMARY = (
    "patrol_seconds",
    "cameras_per_second",
    "cpu_s_per_camera_net_of_idle",
    "county_round_seconds_cpu_bound",
    "healthy_misjudged",
    "not_checked",
    "faulty_found",
    "misjudged",
    "mean_probe_seconds",
    "loadavg_1m",
)


def one_round(
    args: argparse.Namespace,
    rig: Rig,
    snaps: Path,
    refs: dict[str, Reference],
    idle_cpu_per_s: float,
) -> tuple[list[CameraCheck], dict[str, Any]]:
    """One patrol round of every camera (the real `patrol_round`), and its figures."""
    pulls0 = sum(r.pulls(t.camera) for r in rig.relays.values() for t in rig.targets)
    relay_c0 = sum(proc_cpu_s(p) for p in rig.relay_pids())
    sim_c0 = sum(proc_cpu_s(s.pid) for s in rig.sims if s.pid)
    self_c0, t0 = self_cpu_s(), time.monotonic()
    checks = patrol_round(
        rig.targets,
        clock=now,
        thresholds=load_thresholds(),
        snapshot_dir=snaps,
        concurrency=args.concurrency,
        relay_concurrency=args.relay_concurrency,
        upstream_of=rig.upstream if rig.relays else None,
        references=refs if args.references else None,
    )
    patrol_s = time.monotonic() - t0
    self_cpu = self_cpu_s() - self_c0
    sim_cpu = sum(proc_cpu_s(s.pid) for s in rig.sims if s.pid) - sim_c0
    relay_cpu = sum(proc_cpu_s(p) for p in rig.relay_pids()) - relay_c0
    pulls = sum(r.pulls(t.camera) for r in rig.relays.values() for t in rig.targets) - pulls0
    n = len(checks)
    return checks, {
        "relays": len(rig.relays),
        "relay_concurrency": args.relay_concurrency if rig.relays else None,
        "patrol_seconds": round(patrol_s, 2),
        "cameras_per_second": round(n / patrol_s, 2),
        **county_fit(args, n, patrol_s, rig),
        "cpu_seconds_per_camera": round(self_cpu / max(n, 1), 4),
        **cpu_per_camera(args.county, n, patrol_s, idle_cpu_per_s, (self_cpu, sim_cpu, relay_cpu)),
        "patrol_cpu_share": round(self_cpu / patrol_s, 3),
        "camsim_cpu_share": round(sim_cpu / patrol_s, 3),
        "relay_cpu_share": round(relay_cpu / patrol_s, 3),
        "relay_upstream_pulls": pulls,
        "keyframes_per_probe": round(
            sum(2 if "frozen" in c.scores else 1 for c in checks if c.online)
            / max(1, sum(1 for c in checks if c.online)),
            2,
        ),
        "mean_probe_seconds": round(sum(c.seconds for c in checks) / max(n, 1), 2),
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }


def cpu_per_camera(
    county: int, n: int, patrol_s: float, idle_per_s: float, cpu: tuple[float, float, float]
) -> dict[str, Any]:
    """CPU seconds per probed camera, every process of the round (patrol, simulators,
    relays), and without what the simulators and relays burn idle (the baseline's rate
    over the round's length): figures that do not depend on the machine's load. The
    implied round is what `county` cameras take at that CPU on this machine's cores."""
    patrol, sims, relays = cpu
    total = patrol + sims + relays
    net = max(0.0, total - idle_per_s * patrol_s)
    per = net / max(n, 1)
    cores = os.cpu_count() or 1
    return {
        "cpu_s_per_camera_patrol": round(patrol / max(n, 1), 4),
        "cpu_s_per_camera_camsim": round(sims / max(n, 1), 4),
        "cpu_s_per_camera_relay": round(relays / max(n, 1), 4),
        "cpu_s_per_camera_total": round(total / max(n, 1), 4),
        "cpu_s_per_camera_net_of_idle": round(per, 4),
        "cores": cores,
        "county_round_seconds_cpu_bound": round(per * county / cores, 1),
    }


def county_fit(args: argparse.Namespace, n: int, patrol_s: float, rig: Rig) -> dict[str, Any]:
    """The round against its budget: measured when every county camera was patrolled,
    else extrapolated at the measured rate (and said so)."""
    measured = n >= args.county
    county_s = patrol_s if measured else patrol_s * args.county / max(n, 1)
    return {
        "county_cameras": args.county,
        "county_round_seconds": round(county_s),
        "county_round_is": "measured" if measured else "extrapolated",
        "county_round_budget_seconds": args.round_s,
        "county_fits_round": county_s <= args.round_s,
        "round_seconds_implied": round_seconds(
            (t.via for t in rig.targets),
            concurrency=args.concurrency,
            relay_concurrency=args.relay_concurrency,
        ),
    }


def report(
    args: argparse.Namespace,
    checks: list[CameraCheck],
    faults: dict[str, str],
    hung: set[str],
    timing_out: set[str],
) -> dict[str, Any]:
    online = [c for c in checks if c.online]
    unchecked = [c for c in checks if not c.checked]
    wrong = [
        f"{c.camera}:{faults.get(c.camera, 'normal')}->{','.join(c.faults) or 'ok'}"
        f" ({c.seconds:.1f} s)"
        for c in online
        if (faults.get(c.camera) is None) != (not c.faults)
        or (faults.get(c.camera) is not None and faults[c.camera] not in c.faults)
    ]
    return {
        "cameras": len(checks),
        "camsim_mode": "live" if args.live else "mass",
        "keyframe_interval_s": 2.0,
        "concurrency": args.concurrency,
        "target_seconds_200": 120.0,
        **judged(checks, faults, hung, timing_out),
        "online": len(online),
        "offline": len(checks) - len(online) - len(unchecked),
        "offline_reasons": dict(
            Counter(c.reason.value for c in checks if not c.online and c.checked)
        ),
        "not_checked": len(unchecked),
        "not_checked_why": dict(Counter(c.detail[:60] for c in unchecked).most_common(5)),
        "faulty_found": sum(1 for c in online if c.faults),
        "faulty_served": len(faults),
        "misjudged": wrong,
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
    ap.add_argument(
        "--relay-concurrency",
        type=int,
        default=PatrolConfig().relay_concurrency,
        help="probes at once per relay (default: the hub's, patrol.relay_concurrency)",
    )
    ap.add_argument(
        "--relays",
        type=int,
        default=0,
        help="relays in front of the cameras (each serves an equal slice; 0: direct)",
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
        "--rounds",
        type=int,
        default=2,
        help="rounds one after the other (the first has no last pictures: two key frames "
        "a camera; later ones one, unless the picture looks like the last); figures of the "
        "last, the first's summary beside them",
    )
    ap.add_argument(
        "--no-references",
        dest="references",
        action="store_false",
        help="no last pictures: every probe takes two key frames (the path before)",
    )
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
