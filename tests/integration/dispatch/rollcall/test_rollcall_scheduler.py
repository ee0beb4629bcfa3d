"""The weekly schedule starts a run by itself when its time comes (an in-process hub on
a real SQLite file, with a fake clock), and not again in the same week."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.model import Role
from dispatch.domain.site import load_site
from dispatch.hub.app import Hub
from dispatch.hub.auth import Session
from dispatch.hub.config import HttpConfig, HubConfig, ZmqConfig
from dispatch.rollcall.messages import (
    RollcallScheduleReply,
    RollcallSetScheduleRequest,
    ScheduleInfo,
)
from tests.integration.dispatch.rollcall.test_rollcall_support import write_site
from tests.kit import FakeClock

pytestmark = [pytest.mark.integration]


def test_schedule_starts_the_weekly_run(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 18, 13, 59, 0, tzinfo=CHINA_TZ))  # a Wednesday
    site = load_site(write_site(tmp_path / "site.toml", 1, 1))
    config = HubConfig(
        db_url=f"sqlite:///{tmp_path / 'hall.db'}",
        http=HttpConfig(port=0),
        zmq=ZmqConfig(req="tcp://127.0.0.1:0", pub="tcp://127.0.0.1:0"),
    )
    hub = Hub(config, site=site, clock=clock)

    async def scenario() -> None:
        hub.rollcall.settings.tick_s = 0.02
        hub.rollcall.settings.link_wait_s = 0.1
        await hub.start()
        try:
            rc = hub.rollcall
            sched = ScheduleInfo(weekday=2, at="14:00", ring_s=0.5, batch=1)
            assert rc.run is None
            rep = await rc.handle(  # the zmq handler, without the socket
                Session("-", "duty", Role.DUTY_OFFICER, "hall-1"),
                RollcallSetScheduleRequest(rid="1", token="-", schedule=sched),
            )
            assert isinstance(rep, RollcallScheduleReply)
            assert rep.schedule is not None
            assert rep.schedule.next_run == datetime(2026, 11, 18, 14, 0, tzinfo=CHINA_TZ)
            await asyncio.sleep(0.3)
            assert rc.run is None  # not yet
            clock.advance(minutes=1)
            for _ in range(200):
                if rc.run is not None:
                    break
                await asyncio.sleep(0.02)
            assert rc.run is not None and rc.run.started_by == "scheduler"
            for _ in range(300):
                if rc.run.status == "done":
                    break
                await asyncio.sleep(0.02)
            assert rc.run.status == "done"
            first = rc.run.id
            assert {c.outcome for c in rc.run.calls} == {"link_down"}  # no station open
            clock.advance(hours=3)
            await asyncio.sleep(0.3)
            assert rc.run.id == first  # once a week
            nxt = rc.scheduler.next_run()
            assert nxt == datetime(2026, 11, 25, 14, 0, tzinfo=CHINA_TZ)
        finally:
            await hub.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))
