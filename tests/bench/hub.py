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
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from dispatch.client import HubClient
from dispatch.hub import DEMO_API_KEY
from dispatch.hubproc import HubProcess
from dispatch.protocol import EventChanged

HEAD = {"X-Api-Key": DEMO_API_KEY}


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


async def intake_rate(url: str, seconds: float, clients: int) -> tuple[float, int]:
    done = 0
    stop_at = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as s:

        async def worker(w: int) -> None:
            nonlocal done
            n = 0
            while time.perf_counter() < stop_at:
                async with s.post(f"{url}/api/v1/events", json=body(n, f"r{w}"), headers=HEAD) as r:
                    assert r.status == 201, await r.text()
                    await r.read()
                done += 1
                n += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(clients)))
        return done / (time.perf_counter() - t0), done


async def publish_latency(
    hub: HubProcess, seconds: float, rate: float
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
            ref = f"lat-{n}"
            t = time.perf_counter()
            sent[ref] = t
            async with s.post(
                f"{hub.http_url}/api/v1/events", json=body(n, "lat"), headers=HEAD
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
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--resync-events", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        base_rate = baseline_sqlite_commits(folder, min(2.0, args.seconds))
        hub = HubProcess(f"sqlite:///{folder / 'hall.db'}", demo=True)
        hub.start(timeout_s=60)
        try:
            rate, n_intake = asyncio.run(intake_rate(hub.http_url, args.seconds, args.clients))
            lat, rtt = asyncio.run(publish_latency(hub, args.seconds, 200.0))
            # a fresh hub for the resync: exactly N open events
            hub.stop()
            hub = HubProcess(f"sqlite:///{folder / 'resync.db'}", demo=True)
            hub.start(timeout_s=60)
            asyncio.run(fill(hub.http_url, args.resync_events))
            resync_ms, ping_ms, n_snap = asyncio.run(resync(hub))
        finally:
            hub.stop()
    result = {
        "intake_events_per_s": round(rate, 1),
        "intake_baseline_commits_per_s": round(base_rate, 1),
        "publish_latency_ms_p50": round(statistics.median(lat), 2) if lat else None,
        "publish_latency_ms_p99": round(pct(lat, 99), 2) if lat else None,
        "publish_received": len(lat),
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
        (
            "  baseline: 1 fsynced SQLite commit per event /s",
            result["intake_baseline_commits_per_s"],
            "",
        ),
        ("publish latency p50 ms (200 ev/s)", result["publish_latency_ms_p50"], ""),
        ("publish latency p99 ms (200 ev/s)", result["publish_latency_ms_p99"], "≤ 50"),
        ("  baseline: POST round trip p50 ms", result["post_rtt_ms_p50"], ""),
        (f"resync ms ({n_snap} open events)", result["resync_ms_10k"], "≤ 1000"),
        ("  baseline: ping round trip ms", result["ping_ms"], ""),
    ]
    for name, val, target in rows:
        print(f"{name:<52} {val!s:>10}  {target}")
    print(f"(intake: {n_intake} events in {args.seconds} s with {args.clients} clients)")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
