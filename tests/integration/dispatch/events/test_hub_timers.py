"""The hub's deadline timers with a fake clock, on a real SQLite file (in-process service).

A write returns only after its change was published, so no test waits for the publish.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.db.store import Store
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import Action, Colour, EventIntake, EventSource
from dispatch.events.messages import EventChanged
from dispatch.events.service import HubService
from dispatch.hub.clock import CHINA_TZ
from tests.kit import FakeClock

pytestmark = pytest.mark.integration

MONDAY_9 = datetime(2025, 3, 3, 9, 0, tzinfo=CHINA_TZ)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_colour_changes_and_durable_reminders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    clock = FakeClock(MONDAY_9)
    published: list[EventChanged] = []

    def last_colour() -> Colour:
        return published[-1].colour

    async def first_life() -> str:
        svc = HubService(
            Store(url),
            clock=clock,
            calendar=WorkCalendar(),
            on_publish=lambda cs: published.extend(c.change for c in cs),
        )
        await svc.start()
        try:
            ev, created = await svc.intake(
                EventIntake(source=EventSource.GRID_REPORT, category="neighbours", title="邻里纠纷")
            )
            assert created
            assert last_colour() is Colour.GREEN
            assert await svc.run_timers() == 0  # nothing due yet
            clock.set(MONDAY_9 + timedelta(minutes=50))  # < 1/4 of the routing hour left
            assert await svc.run_timers() == 1
            assert last_colour() is Colour.YELLOW and published[-1].audit == []
            clock.set(MONDAY_9 + timedelta(hours=1, minutes=1))  # routing overdue
            assert await svc.run_timers() == 1
            last = published[-1]
            assert last.colour is Colour.RED
            assert [a.action for a in last.audit] == [Action.REMIND]
            assert await svc.run_timers() == 0  # not twice in one interval
            return ev.id
        finally:
            await svc.stop()

    eid = run(first_life())
    seqs = [c.seq for c in published]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    async def second_life() -> None:
        svc = HubService(
            Store(url),
            clock=clock,
            calendar=WorkCalendar(),
            on_publish=lambda cs: published.extend(c.change for c in cs),
        )
        await svc.start()
        try:
            clock.set(MONDAY_9 + timedelta(hours=1, minutes=30))
            assert await svc.run_timers() == 0  # the reminder survived the restart
            clock.set(MONDAY_9 + timedelta(hours=2, minutes=2))  # the next interval
            assert await svc.run_timers() == 1
            timeline = await svc.timeline(eid)
            assert [a.action for a in timeline].count(Action.REMIND) == 2
            assert svc.store.reminder(eid) is not None
        finally:
            await svc.stop()

    run(second_life())


def test_timers_of_changed_and_archived_events_do_not_pile_up(tmp_path: Path) -> None:
    """Every change pushes a timer for the event's next check; the ones of older
    versions (and of archived events) must not stay in the heap until they are due."""
    from dispatch.domain.model import Role
    from dispatch.events.service import HubSettings
    from dispatch.hub import auth

    slack = 16

    clock = FakeClock(MONDAY_9)
    boss = auth.Session(token="t", operator="li", role=Role.SUPERVISOR, workstation="ws")
    steps = [(Action.REGISTER, {}), (Action.ROUTE, {"assignee": "城关镇综治办"}),
             (Action.START_HANDLING, {}), (Action.FEEDBACK, {"note": "已处置"}),
             (Action.ARCHIVE, {})]  # fmt: skip

    async def go() -> tuple[int, int, int]:
        svc = HubService(Store(f"sqlite:///{tmp_path / 'hall.db'}"), clock=clock,
                         settings=HubSettings(timers_slack=slack))  # fmt: skip
        await svc.start()
        try:
            keep = []
            for n in range(48):
                intake = EventIntake(source=EventSource.GRID_REPORT, category="neighbours",
                                     title=f"纠纷{n}", source_ref=f"r{n}")  # fmt: skip
                ev, _ = await svc.intake(intake)
                for action, kw in steps if n % 4 else steps[:2]:  # a quarter stay open
                    await svc.act(boss, ev.id, action, **kw)  # type: ignore[arg-type]
                if not n % 4:
                    keep.append(ev.id)
            # the open ones still turn yellow when due
            clock.set(MONDAY_9 + timedelta(days=30))
            changed = await svc.run_timers()
            return svc.pending_timers, len(keep), changed
        finally:
            await svc.stop()

    pending, still_open, changed = run(go())
    assert pending <= 2 * still_open + slack, pending
    assert changed >= still_open
