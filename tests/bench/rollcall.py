"""Benchmark: a weekly roll call over many duty stations through a real hub.

    python -m tests.bench.rollcall [--stations 150,515] [--batch 10]

A real `hall-hub` process with a site of `--stations` centres; in this process one
lightweight station client per centre (aiohttp WebSocket for presence and the ring, and
on `ring` an immediate answer with a real aiortc peer: a 160x120 synthetic camera offered
to the call's room, so the hub takes a real decoded snapshot of every answerer). talk
time 0; `--batch` calls at a time.

- `call_setup_ms`: at the station, ring received → the hub's SDP answer received (the
  answer message, the offer and the room's answer): signalling only;
- `ring_to_media_ms`: ring received at the station → the hub holds the station's
  picture: the snapshot the hub decodes from the station's camera (its third frame,
  saved as PNG; the file's modification time on the same machine's clock). That is what
  a duty officer needs from a call, and it includes ICE, DTLS, the first key frame and
  its decoding;
- `run_seconds`: start request → run `done` (every centre logged), plus coverage.

`--stations` takes a list: 150 (the county of the first design) and 515 (平邑县 has 515
village video rooms) by default, each on a fresh hub. Baseline in the same run: the same
roll call over a single station (an unloaded hub).

Checks (exit 1 when one fails): every station answered and was logged `answered` with a
snapshot; none dropped out (each kept its one presence socket for the whole run: no
reconnect, still online at the end) and each was rung exactly once; coverage n/n.
Prints a table and the checks, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from dispatch.hub.process import HubProcess
from streams.webrtc.config import restrict_host_addresses
from tests.bench.verdict import Verdict
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


class TimedStation(Station):
    """A station that notes the wall-clock time of each ring, by call id."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.rung_at: dict[str, float] = {}

    async def _ring(self, ws: Any, m: dict[str, Any]) -> None:
        self.rung_at[str(m["call_id"])] = time.time()
        await super()._ring(ws, m)

    @property
    def hellos(self) -> int:
        """Presence sockets opened (1 unless it dropped out and reconnected)."""
        return sum(1 for m in self.messages if m.get("type") == "hello")


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def ring_to_media_ms(stations: list[TimedStation], snapshots: list[str]) -> list[float]:
    """Ring at the station → the hub's snapshot file written, per answered call."""
    rung = {cid: t for s in stations for cid, t in s.rung_at.items()}
    out = []
    for snap in snapshots:
        p = Path(snap)
        t = rung.get(p.stem)
        if t is not None and p.is_file():
            out.append((p.stat().st_mtime_ns / 1e9 - t) * 1000)
    return out


def _stats(xs: list[float]) -> tuple[float | None, float | None, float | None]:
    if not xs:
        return None, None, None
    return round(statistics.median(xs), 1), round(_pct(xs, 0.95), 1), round(max(xs), 1)


async def roll_call(n: int, batch: int, hub_log: Path | None = None) -> dict[str, Any]:
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
    hub.start(timeout_s=180)
    stations: list[TimedStation] = []
    try:
        hub_proc = psutil.Process(hub.pid) if hub.pid else None
        async with console(hub) as c:
            roster = await c.rollcall.roster()
            ids = [x.id for x in roster.centres]
            assert len(ids) == n, (len(ids), n)
            for cid in ids:
                link = await c.rollcall.station_link(centre_id=cid)
                s = TimedStation(
                    hub.http_url,
                    link.path,
                    link.pin,
                    _answer,
                    size=(160, 120),
                    ssl_context=hub.ssl_context(),
                )
                stations.append(s)
            # one address for all: the hub's guard counts PIN forms in flight per address
            # (`[guard] pin_free_per_client`, 5), so log in 4 at a time
            gate = asyncio.Semaphore(4)

            async def start(s: TimedStation) -> None:
                async with gate:
                    await s.start()

            await asyncio.gather(*(start(s) for s in stations))
            await until(lambda: all(s.hello.is_set() for s in stations), 60, "stations online")
            cpu0 = hub_proc.cpu_times() if hub_proc else None
            me0 = psutil.Process().cpu_times()
            t0 = time.perf_counter()
            await c.rollcall.start(ring_s=30.0, talk_s=0.0, batch=batch)

            async def done() -> bool:
                st = await c.rollcall.status()
                return st.run is not None and st.run.status == "done"

            await until(done, 60 + 5 * n, "run done")
            run_s = time.perf_counter() - t0
            me1 = psutil.Process().cpu_times()
            bench_cpu = (me1.user + me1.system - me0.user - me0.system) / run_s * 100
            hub_cpu = 0.0
            if hub_proc and cpu0:
                t = hub_proc.cpu_times()
                hub_cpu = (t.user + t.system - cpu0.user - cpu0.system) / run_s * 100
            week = await c.rollcall.week()
            outcomes: dict[str, int] = {}
            for x in week.calls:
                outcomes[x.outcome] = outcomes.get(x.outcome, 0) + 1
            county = week.coverage[-1]
            snapshots = [x.snapshot for x in week.calls if x.outcome == "answered" and x.snapshot]
        setup = [ms for s in stations for ms in s.setup_ms]
        media = ring_to_media_ms(stations, snapshots)
        errors: dict[str, int] = {}
        for st in stations:
            for e in st.errors:
                errors[e[:80]] = errors.get(e[:80], 0) + 1
        dropped = sum(1 for s in stations if s.hellos != 1 or not s.hello.is_set())
        log = hub.stderr_text()
        if hub_log is not None:
            hub_log.with_name(f"{hub_log.name}.{n}").write_text(log, encoding="utf-8")
        warnings = [x for x in log.splitlines() if "WARNING" in x or "ERROR" in x]
        s_med, s_p95, _ = _stats(setup)
        m_med, m_p95, m_max = _stats(media)
        return {
            "stations": n,
            "batch": batch,
            "run_seconds": round(run_s, 2),
            "call_setup_ms_median": s_med,
            "call_setup_ms_p95": s_p95,
            "ring_to_media_ms_median": m_med,
            "ring_to_media_ms_p95": m_p95,
            "ring_to_media_ms_max": m_max,
            "media_timed": len(media),
            "outcomes": outcomes,
            "answered_with_snapshot": len(snapshots),
            "coverage": f"{county.reached}/{county.due}",
            "covered": county.reached == county.due == n,
            "dropped_out": dropped,
            "station_errors": errors,  # why presence sockets ended (the station's side)
            "hub_warnings": warnings[-12:] if dropped else [],
            "rung_not_once": sum(1 for s in stations if s.rings != 1),
            "hub_cpu_pct": round(hub_cpu, 1),
            "bench_cpu_pct": round(bench_cpu, 1),
        }
    finally:
        await asyncio.gather(*(s.stop() for s in stations), return_exceptions=True)
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def check(v: Verdict, r: dict[str, Any], name: str) -> None:
    n = r["stations"]
    v.check(f"{name}: every station answered with a snapshot", r["answered_with_snapshot"] == n,
            f"{r['answered_with_snapshot']}/{n}, outcomes {r['outcomes']}")  # fmt: skip
    v.check(f"{name}: ring → media timed for every station", r["media_timed"] == n,
            f"{r['media_timed']}/{n}")  # fmt: skip
    v.check(f"{name}: no station dropped out", r["dropped_out"] == 0,
            f"{r['dropped_out']} reconnected or went offline")  # fmt: skip
    v.check(f"{name}: every station rung once", r["rung_not_once"] == 0,
            f"{r['rung_not_once']} rung 0 or 2+ times")  # fmt: skip
    v.check(f"{name}: coverage", r["covered"], r["coverage"])


async def main_async(sizes: list[int], batch: int, hub_log: Path | None) -> dict[str, Any]:
    restrict_host_addresses(LOOPBACK)
    base = await roll_call(1, 1)
    runs = [await roll_call(n, batch, hub_log) for n in sizes]
    return {"baseline": base, "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="kept for old callers: JSON is always last")
    ap.add_argument("--stations", default="150,515", help="station counts, comma-separated")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--hub-log", type=Path, default=None, help="keep each hub's log: FILE.<n>")
    args = ap.parse_args()
    sizes = [int(x) for x in args.stations.split(",") if x.strip()]
    res = asyncio.run(main_async(sizes, args.batch, args.hub_log))
    v = Verdict()
    check(v, res["baseline"], "baseline")
    for r in res["runs"]:
        check(v, r, f"{r['stations']} stations")
    print(
        f"{'run':<10}{'stations':>9}{'batch':>6}{'run s':>8}{'setup med':>10}{'p95':>8}"
        f"{'ring→media med':>15}{'p95':>8}{'max':>8}{'coverage':>10}{'hub CPU%':>9}"
        f"{'bench CPU%':>11}"
    )
    for name, r in [("baseline", res["baseline"])] + [("roll call", r) for r in res["runs"]]:
        print(
            f"{name:<10}{r['stations']:>9}{r['batch']:>6}{r['run_seconds']:>8}"
            f"{r['call_setup_ms_median']!s:>10}{r['call_setup_ms_p95']!s:>8}"
            f"{r['ring_to_media_ms_median']!s:>15}{r['ring_to_media_ms_p95']!s:>8}"
            f"{r['ring_to_media_ms_max']!s:>8}{r['coverage']:>10}{r['hub_cpu_pct']:>9}"
            f"{r['bench_cpu_pct']:>11}"
        )
        print(f"{'':<10}outcomes: {r['outcomes']}")
        if r["dropped_out"]:
            print(f"{'':<10}stations' socket errors: {r['station_errors']}")
            for line in r["hub_warnings"]:
                print(f"{'':<10}hub: {line[:200]}")
    print("(ms; setup = ring → SDP answer at the station; ring→media = ring → the hub's decoded")
    print(" snapshot of the station's camera written; bench CPU = the station clients' process)")
    v.print()
    print(json.dumps({**res, "checks_failed": v.failed}, ensure_ascii=False))
    raise SystemExit(v.exit_code)


if __name__ == "__main__":
    main()
