"""The soak's command line and its schedule (see the package's docstring)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from dispatch.client.connection import HubClient
from tests.bench.dispatch import raise_nofile
from tests.bench.soak import report
from tests.bench.soak.call import CallResult, mediation_call
from tests.bench.soak.flow import TAG, Intake, Ledger, Workflow
from tests.bench.soak.phones import PhoneCounts, PhoneLink, Phones
from tests.bench.soak.rig import Rig
from tests.bench.soak.sampler import (
    ConsoleWindow,
    ProcSample,
    Sample,
    children_sample,
    proc_sample,
    publish_p99,
    store_sizes,
)
from tests.bench.soak.site import TILES, person_id
from tests.integration.dispatch.mediation.test_mediation_support import post_event


def at_least_one(text: str) -> int:
    """A count of phones: the workflow dispatches every event to one of them."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"needs at least one phone (a grid leader), got {n}")
    return n


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.soak")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--json", action="store_true", help="print the JSON line (always last)")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--chart", type=Path, default=None, help="write the per-minute chart (PNG)")
    ap.add_argument("--rate", type=float, default=5.0, help="intake events per second")
    ap.add_argument("--phones", type=at_least_one, default=200)
    ap.add_argument("--camera-every-s", type=float, default=120.0)
    ap.add_argument("--call-every-min", type=float, default=10.0)
    ap.add_argument("--call-hold-s", type=float, default=60.0)
    ap.add_argument("--warmup-minutes", type=float, default=10.0)
    ap.add_argument("--sample-s", type=float, default=60.0, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


async def at(t0: float, offset_s: float, stop: asyncio.Event) -> bool:
    """Sleep until t0 + offset (monotonic); False if the soak stopped first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, t0 + offset_s - time.monotonic()))
    return not stop.is_set()


class Soak:
    def __init__(self, args: argparse.Namespace, rig: Rig) -> None:
        self.args = args
        self.rig = rig
        self.ledger = Ledger()
        self.stop = asyncio.Event()
        self.calls: list[CallResult] = []
        # each call's own case (its event), closed after the call by the workflow, as a
        # centre closes a mediated dispute: left open, every call added one more open
        # event to the console's queue for the rest of the run (its `None` count stepped
        # at every call, docs/soak.md)
        self.call_cases: list[str] = []
        self.close_case: Callable[[str], None] | None = None
        self.camera_kills = 0
        self.samples: list[Sample] = []
        self.hub_busy = asyncio.Lock()  # a call, or the restart
        self.hub_pids: list[int] = []
        self.phone_counts = PhoneCounts()
        hub = rig.need_hub()
        self.client = HubClient(
            hub.req_endpoint, hub.pub_endpoint, keys=hub.console_keys, workstation="soak-flow",
            on_change=self.ledger.on_change, on_connection=lambda s: None,
            on_task=self.ledger.on_task, request_timeout_s=10,
        )  # fmt: skip

    def intake_archived(self) -> int:
        """The intake's events archived (the calls' own cases left out)."""
        return len(self.ledger.archived.difference(self.call_cases))

    def url(self) -> str:
        return self.rig.need_hub().http_url

    async def links(self) -> list[PhoneLink]:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> PhoneLink:
            async with sem:
                rep = await self.client.tasks.issue_phone_link(person_id(i))
                return PhoneLink(person_id(i), rep.path, rep.pin)

        return list(await asyncio.gather(*(one(i) for i in range(self.args.phones))))

    async def cameras(self, t0: float) -> None:
        """Every `camera_every_s`: a camera dies at 1/4 of the period, back at 3/4."""
        period = self.args.camera_every_s
        ids = list(self.rig.sim.camera_ids)
        k = 0
        while await at(t0, k * period + period / 4, self.stop):
            cam = ids[k % len(ids)]
            await asyncio.to_thread(self.rig.sim.kill, cam)
            self.camera_kills += 1
            await at(t0, k * period + 3 * period / 4, self.stop)
            await asyncio.to_thread(self.rig.sim.revive, cam)
            k += 1

    async def mediation(self, t0: float) -> None:
        """A call at minute 1, then every `call_every_min` (never across the restart)."""
        hub = self.rig.need_hub()
        k = 0
        while await at(t0, 60.0 + k * self.args.call_every_min * 60, self.stop):
            async with self.hub_busy:
                minute = (time.monotonic() - t0) / 60
                try:
                    ref = f"{TAG}-call-{k}"
                    eid = await asyncio.to_thread(post_event, hub, "浸泡测试调解", ref)
                    self.call_cases.append(eid)
                    try:
                        res = await mediation_call(
                            hub, self.client, eid, minute, self.args.call_hold_s
                        )
                    finally:
                        if self.close_case is not None:
                            self.close_case(eid)
                # reported in the JSON, the soak goes on (a CancelledError from inside
                # aiortc included: nothing cancels this task)
                except (Exception, asyncio.CancelledError) as exc:
                    res = CallResult(minute, None, 0, f"{type(exc).__name__}: {exc}")
            self.calls.append(res)
            print(f"# call at minute {minute:.1f}: {res}", flush=True)
            k += 1

    async def restart(self, t0: float) -> None:
        """The hub stopped and started again halfway (after a call in progress)."""
        if await at(t0, self.args.minutes * 30.0, self.stop):
            async with self.hub_busy:
                print(f"# hub restart at minute {(time.monotonic() - t0) / 60:.1f}", flush=True)
                await asyncio.to_thread(self.rig.restart_hub)

    async def hub_now(self) -> tuple[int, ProcSample | None]:
        """The hub's process life (0, 1 after the restart) and its figures; a hub being
        restarted is waited for (up to 2 minutes)."""
        deadline = time.monotonic() + 120
        while True:
            pid = self.rig.need_hub().pid
            got = proc_sample(pid)
            if (pid is not None and got is not None) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        if pid is not None and pid not in self.hub_pids:
            self.hub_pids.append(pid)
        return (self.hub_pids.index(pid) if pid in self.hub_pids else -1), got

    async def sample(self, minute: float, since: float, window: ConsoleWindow) -> Sample:
        life, hub = await self.hub_now()
        con = proc_sample(self.rig.console.pid if self.rig.console else None)
        dec = children_sample(self.rig.console.pid if self.rig.console else None)
        stats, fps, ages, full_ages, shed_pct = window.take()
        db_mb, wal_mb = store_sizes(self.rig.db_url)
        nan = math.nan
        return Sample(
            minute=minute,
            console_rss_mb=con.rss_mb if con else nan,
            console_fds=con.fds if con else -1,
            console_threads=con.threads if con else -1,
            hub_rss_mb=hub.rss_mb if hub else nan,
            hub_fds=hub.fds if hub else -1,
            hub_threads=hub.threads if hub else -1,
            hub_life=life,
            none_refs=stats.none_refs if stats else -1,
            painted_fps=fps,
            tiles_live=stats.tiles_with_picture if stats else -1,
            latency_p95_ms=report_pct(ages, 95),
            latency_full_p95_ms=report_pct(full_ages, 95),
            shed_pct=shed_pct,
            publish_p99_ms=publish_p99(self.ledger.publish_ms, since),
            db_mb=db_mb,
            wal_mb=wal_mb,
            events_acked=len(self.ledger.acked),
            events_archived=self.intake_archived(),
            phone_connects=self.phone_counts.connects,
            decoders_rss_mb=dec.rss_mb if dec else nan,
            decoders_fds=dec.fds if dec else -1,
            decoders_threads=dec.threads if dec else -1,
            flow_errors=self.ledger.flow_errors,
        )

    async def run(self) -> dict[str, Any]:
        await self.client.start()
        await self.client.login("leader", "leader123")
        people = [person_id(i) for i in range(self.args.phones)]
        phones = Phones(self.url, self.rig.need_hub().ssl_context(), await self.links())
        self.phone_counts = phones.counts
        workflow = Workflow(self.client, self.ledger, people)
        self.close_case = workflow.start_flow
        intake = Intake(self.url, self.rig.need_hub().ssl_context(), self.ledger,
                        workflow.start_flow, rate=self.args.rate)  # fmt: skip
        window = ConsoleWindow(self.rig.stats_file)
        window.take()
        t0 = time.monotonic()
        jobs = [
            intake.run(),
            phones.run(),
            self.cameras(t0),
            self.mediation(t0),
            self.restart(t0),
        ]
        tasks = [asyncio.create_task(j) for j in jobs]
        print(report.header(), flush=True)
        n = max(1, round(self.args.minutes * 60 / self.args.sample_s))
        for m in range(1, n + 1):
            since = time.monotonic()
            await at(t0, m * self.args.sample_s, asyncio.Event())
            s = await self.sample(m * self.args.sample_s / 60, since, window)
            self.samples.append(s)
            print(report.table_row(s), flush=True)
        intake.stop()
        await tasks[0]
        in_flight = await workflow.drain(90.0)
        self.stop.set()
        phones.stop()
        await asyncio.gather(*tasks[1:], return_exceptions=True)
        await self.client.stop()
        return {
            "events_in_flight_at_end": in_flight,
            "phones": asdict(phones.counts),
        }


def report_pct(xs: list[float], p: float) -> float:
    from tests.bench.hub import pct

    return pct(xs, p) if xs else math.nan


def store_check(db_url: str, ledger: Ledger) -> dict[str, int]:
    """What the store holds of what the hub acknowledged (read after the hub stopped)."""
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT source_ref, COUNT(*) FROM events "
                    "WHERE source_ref LIKE :tag GROUP BY source_ref"
                ),
                {"tag": f"{TAG}-%"},
            ).all()
            task_ids = {r[0] for r in conn.execute(text("SELECT id FROM tasks"))}
    finally:
        eng.dispose()
    refs = {str(r[0]): int(r[1]) for r in rows}
    return {
        "events_lost": sum(1 for ref in ledger.acked if ref not in refs),
        "events_duplicated": sum(n - 1 for n in refs.values()) + ledger.created_twice,
        "tasks_lost": sum(1 for t in ledger.tasks if t not in task_ids),
    }


def result(args: argparse.Namespace, soak: Soak, extra: dict[str, Any],
           checked: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    led = soak.ledger
    return {
        "minutes": args.minutes,
        **{k: v for k, v in report.summary(soak.samples, args.warmup_minutes).items()},
        **checked,
        "events_acked": len(led.acked),
        "events_archived": soak.intake_archived(),
        "call_cases": len(soak.call_cases),
        "call_cases_archived": len(led.archived.intersection(soak.call_cases)),
        "tasks_dispatched": len(led.tasks),
        "events_offered": led.offered,
        "events_acked_first_try": led.acked_first_try,
        "intake_failed_posts": led.intake_errors,
        "intake_failures_by_cause": dict(led.intake_failures.most_common(12)),
        "flow_errors": led.flow_errors,
        "flow_failures_by_cause": dict(led.flow_failures.most_common(12)),
        "camera_kills": soak.camera_kills,
        "hub_restarts": soak.rig.hub_life,
        "calls": [asdict(c) for c in soak.calls],
        "db": args.db,
        "tiles": TILES,
        **extra,
        "chart": str(args.chart) if args.chart else None,
        "samples": [s.row() for s in soak.samples],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    raise_nofile(4096)
    with tempfile.TemporaryDirectory(prefix="hall-soak-") as d:
        rig = Rig(Path(d), db=args.db, people=args.phones)
        try:
            rig.start()
            rig.wait_console(TILES, timeout_s=300.0)  # a loaded machine starts 16 decoders slowly
            soak = Soak(args, rig)
            extra = asyncio.run(soak.run())
            rig.stop_console()
            rig.stop_hub()
            checked = store_check(rig.db_url, soak.ledger)
        finally:
            rig.stop()
    out = result(args, soak, extra, checked)
    print("\n".join(report.slopes_table(soak.samples, args.warmup_minutes)))
    if args.chart is not None:
        report.chart(soak.samples, args.chart, f"soak {args.minutes:g} min ({args.db})")
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(json.dumps({k: v for k, v in out.items() if k != "samples"}, indent=1,
                         ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
