"""Hub benchmark: `python -m tests.bench.hub [--json] [--seconds S]`.

Measures, against a real hall-hub process on a temporary SQLite file:
- intake_events_per_s: sustained, durable (committed before 201) POSTs over HTTP from
  several concurrent clients; baseline: one fsynced SQLite commit per event, in-process;
- publish_latency_ms_p50/p99: POST sent → EventChanged at a subscribed HubClient, at
  200 events/s; baseline: the POST's own round trip (p50);
- resync_ms_10k: login + full snapshot of 10,000 open events by a fresh HubClient;
  baseline: a ping round trip over the same sockets.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from dispatch.client import HubClient
from dispatch.hub import DEMO_API_KEY
from dispatch.hubproc import HubProcess
from dispatch.protocol import EventChanged

HEAD = {"X-Api-Key": DEMO_API_KEY}
ROOT = str(Path(__file__).resolve().parent.parent.parent)


def body(n: int, tag: str) -> dict[str, Any]:
    return {
        "source": "grid_report",
        "source_ref": f"{tag}-{n}",
        "category": "neighbours",
        "title": f"邻里纠纷 {n}",
        "description": "张某与邻居因宅基地边界发生争执，双方情绪激动。",
        "place": {"township": "t01", "village": "v01"},
        "reporter": {"name": "张某", "phone": "13812345678"},
    }


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def baseline_sqlite_commits(folder: Path, seconds: float) -> float:
    con = sqlite3.connect(folder / "base.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)")
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        con.execute("BEGIN")
        con.execute("INSERT INTO t (data) VALUES (?)", ("x" * 1500,))
        con.execute("COMMIT")
        n += 1
    con.close()
    return n / (time.perf_counter() - t0)


async def load_worker(url: str, seconds: float, connections: int, tag: str) -> dict[str, Any]:
    """The HTTP load of the intake measurement (run in its own process by `intake_rate`).

    `connections` keep-alive connections, each with one request in flight. Counts only
    201s; anything else is an error.
    """
    created = errors = 0
    first_error = ""
    headers = {**HEAD, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=60)
    async with aiohttp.ClientSession(connector=connector) as s:
        post_url = f"{url}/api/v1/events"

        async def worker(w: int, stop_at: float) -> None:
            nonlocal created, errors, first_error
            n = 0
            while time.perf_counter() < stop_at:
                data = json.dumps(body(n, f"{tag}-w{w}")).encode()
                async with s.post(post_url, data=data, headers=headers) as r:
                    await r.read()
                    if r.status == 201:
                        created += 1
                    else:
                        errors += 1
                        first_error = first_error or f"{r.status}"
                n += 1

        # warm up the connections, then measure
        await asyncio.gather(*(worker(w, time.perf_counter() + 0.3) for w in range(connections)))
        created = errors = 0
        c0 = os.times()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(connections + w, t0 + seconds) for w in range(connections)))
        elapsed = time.perf_counter() - t0
        c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    return {
        "created": created,
        "errors": errors,
        "first_error": first_error,
        "seconds": elapsed,
        "cpu_s": cpu,
    }


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class IntakeResult:
    events_per_s: float
    created: int
    errors: int
    seconds: float
    hub_cores: float  # CPU the hub used while measured, in cores
    load_cores: float  # CPU the load process used


def intake_rate(hub: HubProcess, seconds: float, connections: int, tag: str) -> IntakeResult:
    """Sustained durable intake over HTTP, the load coming from a separate process."""
    cmd = [
        sys.executable,
        "-m",
        "tests.bench.hub",
        "--load-worker",
        hub.http_url,
        "--seconds",
        str(seconds),
        "--clients",
        str(connections),
        "--tag",
        tag,
    ]
    pid = hub.pid
    assert pid is not None
    h0, t0 = proc_cpu_s(pid), time.perf_counter()
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, cwd=ROOT, check=False
    )
    h1, t1 = proc_cpu_s(pid), time.perf_counter()
    if out.returncode != 0:
        raise RuntimeError(f"load worker failed ({out.returncode}): {out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["errors"]:
        raise RuntimeError(f"{r['errors']} intake requests failed, first: {r['first_error']}")
    return IntakeResult(
        events_per_s=r["created"] / r["seconds"],
        created=r["created"],
        errors=r["errors"],
        seconds=r["seconds"],
        # the hub's CPU over the worker's whole life (warm-up included) per wall second
        hub_cores=(h1 - h0) / (t1 - t0),
        load_cores=r["cpu_s"] / r["seconds"],
    )


async def publish_latency(
    hub: HubProcess, seconds: float, rate: float, tag: str = "lat"
) -> tuple[list[float], list[float]]:
    sent: dict[str, float] = {}
    lat: list[float] = []
    rtt: list[float] = []

    def on_change(ch: EventChanged) -> None:
        t = sent.get(ch.event.source_ref)
        if t is not None and ch.event.version == 1:
            lat.append((time.perf_counter() - t) * 1000)

    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        workstation="bench",
        on_change=on_change,
        on_connection=lambda s: None,
    )
    await c.start()
    await c.login("duty", "duty123")
    n_total = int(seconds * rate)
    async with aiohttp.ClientSession() as s:

        async def one(n: int) -> None:
            ref = f"{tag}-{n}"
            t = time.perf_counter()
            sent[ref] = t
            async with s.post(
                f"{hub.http_url}/api/v1/events", json=body(n, tag), headers=HEAD
            ) as r:
                await r.read()
            rtt.append((time.perf_counter() - t) * 1000)

        t0 = time.perf_counter()
        tasks = []
        for n in range(n_total):
            delay = t0 + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        deadline = time.perf_counter() + 5
        while len(lat) < n_total and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
    await c.stop()
    return lat, rtt


async def fill(url: str, n: int) -> None:
    async with aiohttp.ClientSession() as s:
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            async with sem, s.post(f"{url}/api/v1/events", json=body(i, "fill"), headers=HEAD) as r:
                await r.read()

        await asyncio.gather(*(one(i) for i in range(n)))


async def resync(hub: HubProcess) -> tuple[float, float, int]:
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        workstation="bench2",
        on_change=lambda ch: None,
        on_connection=lambda s: None,
    )
    await c.start()
    await c.ping()
    t = time.perf_counter()
    await c.ping()
    ping_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    await c.login("duty", "duty123")
    ms = (time.perf_counter() - t) * 1000
    n = len(c.events())
    await c.stop()
    return ms, ping_ms, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=32, help="intake HTTP connections")
    ap.add_argument("--latency-runs", type=int, default=3)
    ap.add_argument("--resync-events", type=int, default=10_000)
    ap.add_argument("--load-worker", metavar="URL", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--tag", default="load", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load_worker is not None:
        r = asyncio.run(load_worker(args.load_worker, args.seconds, args.clients, args.tag))
        print(json.dumps(r))
        return
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        base_rate = baseline_sqlite_commits(folder, min(2.0, args.seconds))
        hub = HubProcess(f"sqlite:///{folder / 'hall.db'}", demo=True)
        hub.start(timeout_s=60)
        try:
            intake = intake_rate(hub, args.seconds, args.clients, "r")
            lat: list[float] = []
            rtt: list[float] = []
            p99s: list[float] = []
            for run in range(args.latency_runs):
                lat_i, rtt_i = asyncio.run(publish_latency(hub, args.seconds, 200.0, f"lat{run}"))
                lat += lat_i
                rtt += rtt_i
                p99s.append(round(pct(lat_i, 99), 2) if lat_i else float("nan"))
            # a fresh hub for the resync: exactly N open events
            hub.stop()
            hub = HubProcess(f"sqlite:///{folder / 'resync.db'}", demo=True)
            hub.start(timeout_s=60)
            asyncio.run(fill(hub.http_url, args.resync_events))
            resync_ms, ping_ms, n_snap = asyncio.run(resync(hub))
        finally:
            hub.stop()
    sent = int(args.seconds * 200.0) * args.latency_runs
    result = {
        "intake_events_per_s": round(intake.events_per_s, 1),
        "intake_connections": args.clients,
        "intake_hub_cpu_cores": round(intake.hub_cores, 2),
        "intake_load_cpu_cores": round(intake.load_cores, 2),
        "intake_baseline_commits_per_s": round(base_rate, 1),
        "publish_latency_ms_p50": round(statistics.median(lat), 2) if lat else None,
        "publish_latency_ms_p99": round(pct(lat, 99), 2) if lat else None,
        "publish_latency_ms_p99_runs": p99s,
        "publish_latency_ms_max": round(max(lat), 2) if lat else None,
        "publish_received": len(lat),
        "publish_sent": sent,
        "post_rtt_ms_p50": round(statistics.median(rtt), 2) if rtt else None,
        "resync_ms_10k": round(resync_ms, 1),
        "resync_events": n_snap,
        "ping_ms": round(ping_ms, 2),
    }
    rows = [
        (
            "intake events/s (HTTP, SQLite FULL, group commit)",
            result["intake_events_per_s"],
            "≥ 1000",
        ),
        ("  hub CPU while measured, cores", result["intake_hub_cpu_cores"], ""),
        ("  load process CPU, cores", result["intake_load_cpu_cores"], ""),
        (
            "  baseline: 1 fsynced SQLite commit per event /s",
            result["intake_baseline_commits_per_s"],
            "",
        ),
        ("publish latency p50 ms (200 ev/s)", result["publish_latency_ms_p50"], ""),
        ("publish latency p99 ms (200 ev/s, all runs)", result["publish_latency_ms_p99"], "≤ 50"),
        ("  p99 of each run", " ".join(str(x) for x in p99s), ""),
        ("  max ms", result["publish_latency_ms_max"], ""),
        ("  baseline: POST round trip p50 ms", result["post_rtt_ms_p50"], ""),
        (f"resync ms ({n_snap} open events)", result["resync_ms_10k"], "≤ 1000"),
        ("  baseline: ping round trip ms", result["ping_ms"], ""),
    ]
    for name, val, target in rows:
        print(f"{name:<52} {val!s:>16}  {target}")
    print(
        f"(intake: {intake.created} events in {intake.seconds:.1f} s over {args.clients} "
        f"keep-alive connections from a separate process; latency: "
        f"{len(lat)}/{sent} received)"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
