"""The weekly schedule: it starts a run by itself when its time comes, once a week.

The schedule and the last week it ran are kept on the board and in `rollcall_schedule`;
a scheduled start that fails (no centres, a run still going) is not retried every tick:
the week counts as done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, time

from dispatch.domain.wire import HubError
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs
from dispatch.rollcall.messages import ScheduleInfo
from dispatch.rollcall.service.runner import Runner
from dispatch.rollcall.service.state import Board, Db, Settings
from dispatch.rollcall.service.views import schedule_info

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        board: Board,
        db: Db,
        runner: Runner,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.board = board
        self.db = db
        self.runner = runner
        self.settings = settings
        self.clock = clock
        self._due: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="rollcall-scheduler")

    async def stop(self) -> None:
        t, self._task = self._task, None
        if t is not None:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def next_run(self) -> datetime | None:
        return rc.next_run(self.board.schedule, self.clock(), self.board.last_week)

    def info(self) -> ScheduleInfo:
        b = self.board
        return schedule_info(b.schedule, self.next_run(), b.last_week)

    async def set(self, s: ScheduleInfo) -> ScheduleInfo:
        """A new schedule (written, then armed)."""
        b = self.board
        hh, mm = (int(x) for x in s.at.split(":"))
        b.schedule = rc.Schedule(s.weekday, time(hh, mm), s.ring_s, s.batch, s.enabled)
        await self.db.write(lambda conn: rs.save_schedule(conn, b.schedule, b.last_week))
        self._arm()
        return self.info()

    def _arm(self) -> None:
        """The next scheduled start (after a schedule change or a run)."""
        self._due = self.next_run()

    async def _loop(self) -> None:
        self._arm()
        while True:
            await asyncio.sleep(self.settings.tick_s)
            due = self._due
            if due is None or self.clock() < due:
                continue
            run = self.board.run
            if run is not None and run.status != "done":
                self._arm()  # a run is going on: this week's slot is taken by it
                continue
            try:
                await self.runner.start_run("scheduler")
            except HubError as exc:
                log.warning("scheduled roll call not started: %s", exc.message)
                self.board.last_week = rc.week_start(rc.local_day(due))  # not every tick
            self._arm()
