"""Benchmark of the camera relay: `python -m tests.bench.relay --consoles 4 --tiles 16 --json`.

`tiles` distinct cameras, each shown on every one of `consoles` walls, all through one
`hall-relay` (the real gst-rtsp-server process, sub streams). Each console is a process
of its own whose sessions read packets without decoding (the wall's own cost is
`tests.bench.wall`'s), so that on a shared 2-core machine the figures are the relay's and
the latency probes (in this process) do not wait for the consoles' threads. Cameras:
`--live` of them are encoding hall-camsim cameras with the stamp strip (for latency), the
rest a second hall-camsim in mass mode (looped pre-encoded pictures, cheap enough for
many cameras).

Measured:
- `camera_sessions`: RTSP sessions open at the cameras while every wall watches (the
  simulator's `sessions` control line); it must equal the cameras shown (`tiles`).
- `added_latency_ms_p95`: for each live camera, one decoding session through the relay
  and one direct to the camera in the same run; each frame's stamp is matched on both
  and the difference of its packet's arrival times taken (taken before decoding); p50/p95
  over all matched frames after the warm-up. Also each path's own stamp age.
- `relay_cpu_percent_per_stream`: the relay process's CPU over the window (percent of
  one core) divided by the upstreams it pulls; also the total and per client session.

Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from typing import Any

PROBE_OPTS = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def renice(pid: int, nice: int) -> None:
    """Every thread of `pid` (Linux nice is per thread; later ones inherit it)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        os.setpriority(os.PRIO_PROCESS, int(task), nice)


def watch_packets(url: str, stop: Any, counts: Any, i: int) -> None:
    """A wall tile's session without decoding: demux until stopped (reconnects)."""
    import av

    while not stop.is_set():
        try:
            with av.open(url, options=PROBE_OPTS, timeout=(10.0, 5.0)) as c:
                for _pkt in c.demux(video=0):
                    counts[i] += 1
                    if stop.is_set():
                        return
        except Exception:  # counted as no packets; the next attempt follows
            time.sleep(0.5)


def console_process(urls: list[str], stop: Any, counts: Any, offset: int) -> None:
    """One console (a process of its own, as a console is): a session per tile."""
    threads = [
        threading.Thread(target=watch_packets, args=(u, stop, counts, offset + j), daemon=True)
        for j, u in enumerate(urls)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def stamp_arrivals(url: str, stop: threading.Event, out: dict[int, float]) -> None:
    """Decode every frame; stamp (capture ms) -> arrival (wall-clock ms) of its packet.

    The time is taken when the demuxer hands over the packet, before decoding (one packet
    is one picture: no B-frames, no frame threading), so the decoding and the stamp
    reading of the other probes in this process do not count."""
    import av
    import numpy as np

    from streams.ingest.stamp import decode_stamp

    with av.open(url, options=PROBE_OPTS, timeout=(10.0, 5.0)) as c:
        stream = c.streams.video[0]
        stream.codec_context.thread_count = 1
        for packet in c.demux(stream):
            now_ms = time.time() * 1000.0
            for frame in packet.decode():
                img = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
                ms = decode_stamp(img)
                if ms is not None and ms not in out:
                    out[ms] = now_ms
            if stop.is_set():
                return


def run(args: argparse.Namespace) -> dict[str, Any]:
    from streams.relay.server import RelayServer
    from streams.relay.spec import MountSpec, RelaySpec
    from streams.simulator import CamSim

    live_n = min(args.live, args.tiles)
    live = CamSim(cameras=live_n)
    mass = CamSim(cameras=args.tiles - live_n, mass=True) if args.tiles > live_n else None
    sims = [s for s in (live, mass) if s is not None]
    for s in sims:
        s.start(timeout_s=60.0)
    cams: list[tuple[str, CamSim, str]] = [(f"live{c[3:]}", live, c) for c in live.camera_ids]
    if mass is not None:
        cams += [(f"mass{c[3:]}", mass, c) for c in mass.camera_ids]
    spec = RelaySpec(
        tuple(MountSpec(name, "sub", sim.url(cid, "sub")) for name, sim, cid in cams),
        idle_s=60.0,
    )
    relay = RelayServer(spec)
    relay.start()
    if args.relay_nice and relay.pid is not None:
        renice(relay.pid, args.relay_nice)
    mp = multiprocessing.get_context("spawn")
    stop = threading.Event()
    mp_stop = mp.Event()
    threads: list[threading.Thread] = []
    counts = mp.Array("l", args.consoles * len(cams), lock=False)
    consoles = []
    try:
        before = {name: sim.sessions(cid)[0] for name, sim, cid in cams}
        urls = [relay.url(name) for name, _sim, _cid in cams]
        for console in range(args.consoles):
            proc = mp.Process(
                target=console_process, args=(urls, mp_stop, counts, console * len(cams))
            )
            proc.start()
            consoles.append(proc)
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline and not all(counts):
            time.sleep(0.5)
        started = sum(1 for c in counts if c)
        camera_open = sum(sim.sessions(cid)[1] for _name, sim, cid in cams)
        camera_opened = sum(sim.sessions(cid)[0] - before[name] for name, sim, cid in cams)
        # latency: each live camera through the relay and direct, same run
        relayed: list[dict[int, float]] = [{} for _ in range(live_n)]
        direct: list[dict[int, float]] = [{} for _ in range(live_n)]
        for k, cid in enumerate(live.camera_ids):
            for url, out in ((relay.url(f"live{cid[3:]}"), relayed[k]), (live.url(cid), direct[k])):
                t = threading.Thread(target=stamp_arrivals, args=(url, stop, out), daemon=True)
                threads.append(t)
                t.start()
        time.sleep(args.warmup)
        t0 = time.time() * 1000.0
        assert relay.pid is not None
        cpu0, wall0 = cpu_seconds(relay.pid), time.monotonic()
        sim_cpu0 = sum(cpu_seconds(s.pid) for s in sims if s.pid is not None)
        at_start = list(counts)
        time.sleep(args.seconds)
        watching = sum(1 for a, b in zip(at_start, counts, strict=True) if b > a)
        relay_cpu = (cpu_seconds(relay.pid) - cpu0) / (time.monotonic() - wall0) * 100.0
        sim_cpu = (
            (sum(cpu_seconds(s.pid) for s in sims if s.pid is not None) - sim_cpu0)
            / args.seconds
            * 100.0
        )
        clients = sum(u.clients for u in relay.states())
        pulls = sum(relay.pulls(name) for name, _s, _c in cams)
    finally:
        stop.set()
        mp_stop.set()
        for t in threads:
            t.join(10.0)
        for proc in consoles:
            proc.join(15.0)
            if proc.is_alive():
                proc.kill()
        relay.stop()
        for s in sims:
            s.stop()
    added: list[float] = []
    age_relay: list[float] = []
    age_direct: list[float] = []
    for r, d in zip(relayed, direct, strict=True):
        for ms, at in r.items():
            if ms < t0:
                continue
            age_relay.append(at - ms)
            if ms in d:
                added.append(at - d[ms])
        age_direct += [at - ms for ms, at in d.items() if ms >= t0]
    frame_ms = 40.0
    return {
        "consoles": args.consoles,
        "tiles": args.tiles,
        "cameras_shown": len(cams),
        "client_sessions_started_60s": started,
        "client_sessions_watching": watching,
        "camera_sessions": camera_open,
        "camera_sessions_opened": camera_opened,
        "relay_pulls": pulls,
        "relay_clients": clients,
        "added_latency_ms_p50": round(pct(added, 0.5), 1),
        "added_latency_ms_p95": round(pct(added, 0.95), 1),
        "added_latency_frames_p95": round(pct(added, 0.95) / frame_ms, 2),
        "relay_latency_ms_p50": round(pct(age_relay, 0.5), 1),
        "relay_latency_ms_p95": round(pct(age_relay, 0.95), 1),
        "direct_latency_ms_p50": round(pct(age_direct, 0.5), 1),
        "direct_latency_ms_p95": round(pct(age_direct, 0.95), 1),
        "matched_frames": len(added),
        "relay_cpu_percent": round(relay_cpu, 1),
        "relay_cpu_percent_per_stream": round(relay_cpu / max(1, len(cams)), 2),
        "relay_cpu_percent_per_client": round(relay_cpu / max(1, clients), 3),
        "simulators_cpu_percent": round(sim_cpu, 1),
        "packets_per_session_median": statistics.median(list(counts)) if len(counts) else 0,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "seconds": args.seconds,
        "relay_nice": args.relay_nice,
        "target_added_latency_ms_p95": 40.0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.relay")
    ap.add_argument("--consoles", type=int, default=4)
    ap.add_argument("--tiles", type=int, default=16, help="distinct cameras on every wall")
    ap.add_argument("--live", type=int, default=4, help="of them, stamped encoding cameras")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument(
        "--relay-nice", type=int, default=0, help="the relay's nice value (negative: root)"
    )
    ap.add_argument("--json", action="store_true", help="print the JSON line (always last)")
    args = ap.parse_args(argv)
    result = run(args)
    width = max(len(k) for k in result)
    print(f"{'metric':<{width}}  value")
    for k, v in result.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
