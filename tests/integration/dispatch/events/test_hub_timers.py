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
