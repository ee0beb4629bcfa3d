"""Benchmark: a weekly roll call over many duty stations through a real hub.

    python -m tests.bench.rollcall [--json] [--stations 150] [--batch 10]

A real `hall-hub` process with a site of `--stations` centres; in this process one
lightweight station client per centre (aiohttp WebSocket for presence and the ring, and
on `ring` an immediate answer with a real aiortc peer: a 160x120 synthetic camera offered
to the call's room, so the hub takes a real decoded snapshot of every answerer). talk
time 0; `--batch` calls at a time.

- `call_setup_ms`: at the station, ring received → the hub's SDP answer received (the
  answer message, the offer and the room's answer);
- `run_seconds`: start request → run `done` (every centre logged), plus coverage.

Baseline in the same run: the same roll call over a single station (an unloaded hub).
Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from dispatch.hub.process import HubProcess
from streams.webrtc.config import restrict_host_addresses
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    LOOPBACK,
    Mode,
    Station,
    console,
    rollcall_hub,
    until,
    write_site,
)


def _answer(_: int) -> Mode:
    return "answer"


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def roll_call(n: int, batch: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-rollcall-"))
    townships = max(1, min(12, n // 12))
    per = n // townships - 1
    extra = n - townships * (per + 1)
    site = write_site(tmp / "site.toml", townships, per)
    if extra:  # top up the first township to exactly n centres
        more = "".join(
            f'\n[[villages]]\nid = "x{i:03d}"\nname = "补充村{i}"\ntownship = "t01"\n'
            for i in range(extra)
        )
        site.write_text(site.read_text(encoding="utf-8") + more, encoding="utf-8")
    hub: HubProcess = rollcall_hub(tmp, site)
    hub.start(timeout_s=60)
    stations: list[Station] = []
    try:
        hub_proc = psutil.Process(hub.pid) if hub.pid else None
        async with console(hub) as c:
            roster = await c.rollcall.roster()
            ids = [x.id for x in roster.centres]
            assert len(ids) == n, (len(ids), n)
            for cid in ids:
                link = await c.rollcall.station_link(centre_id=cid)
                s = Station(
                    hub.http_url,
                    link.path,
                    link.pin,
                    _answer,
                    size=(160, 120),
                    ssl_context=hub.ssl_context(),
                )
                stations.append(s)
            await asyncio.gather(*(s.start() for s in stations))
            await until(lambda: all(s.hello.is_set() for s in stations), 60, "stations online")
            cpu0 = hub_proc.cpu_times() if hub_proc else None
            t0 = time.perf_counter()
            await c.rollcall.start(ring_s=30.0, talk_s=0.0, batch=batch)

            async def done() -> bool:
                st = await c.rollcall.status()
                return st.run is not None and st.run.status == "done"

            await until(done, 60 + 5 * n, "run done")
            run_s = time.perf_counter() - t0
            hub_cpu = 0.0
            if hub_proc and cpu0:
                t = hub_proc.cpu_times()
                hub_cpu = (t.user + t.system - cpu0.user - cpu0.system) / run_s * 100
            week = await c.rollcall.week()
            outcomes: dict[str, int] = {}
            for x in week.calls:
                outcomes[x.outcome] = outcomes.get(x.outcome, 0) + 1
            county = week.coverage[-1]
        setup = [ms for s in stations for ms in s.setup_ms]
        return {
            "stations": n,
            "batch": batch,
            "run_seconds": round(run_s, 2),
            "call_setup_ms_median": round(statistics.median(setup), 1) if setup else None,
            "call_setup_ms_p95": round(_pct(setup, 0.95), 1) if setup else None,
            "outcomes": outcomes,
            "coverage": f"{county.reached}/{county.due}",
            "hub_cpu_pct": round(hub_cpu, 1),
        }
    finally:
        await asyncio.gather(*(s.stop() for s in stations), return_exceptions=True)
        hub.stop()


async def main_async(n: int, batch: int) -> dict[str, Any]:
    restrict_host_addresses(LOOPBACK)
    base = await roll_call(1, 1)
    full = await roll_call(n, batch)
    return {**full, "baseline": base}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--stations", type=int, default=150)
    ap.add_argument("--batch", type=int, default=10)
    args = ap.parse_args()
    res = asyncio.run(main_async(args.stations, args.batch))
    base = res["baseline"]
    print(
        f"{'run':<12}{'stations':>9}{'batch':>7}{'run s':>9}{'setup med ms':>14}"
        f"{'setup p95 ms':>14}{'coverage':>10}{'hub CPU %':>11}"
    )
    for name, r in (("baseline", base), ("roll call", res)):
        print(
            f"{name:<12}{r['stations']:>9}{r['batch']:>7}{r['run_seconds']:>9}"
            f"{r['call_setup_ms_median']:>14}{r['call_setup_ms_p95']:>14}"
            f"{r['coverage']:>10}{r['hub_cpu_pct']:>11}"
        )
    print(f"outcomes: {res['outcomes']}")
    if args.json:
        print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
