"""The escalation timers of the open tasks: when each one's next ladder step is due, and
the run that moves overdue tasks up the ladder (`dispatch.tasks.core.escalate`)."""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable
from datetime import datetime

from dispatch.domain import geo
from dispatch.domain.model import Role
from dispatch.domain.rules import EscalationLadder
from dispatch.domain.site import Site
from dispatch.domain.wire import HubError
from dispatch.hub.writer import Tx
from dispatch.tasks import store as st
from dispatch.tasks.core import DispatchTask, Outcome, escalate, next_escalation_at
from dispatch.tasks.service.board import TaskBoard
from dispatch.tasks.service.recorder import TaskRecorder, load_task, new_task_id

log = logging.getLogger(__name__)

Lookup = Callable[[str], DispatchTask | None]


class EscalationQueue:
    """Due times of the open tasks' next ladder step, in a heap; stale entries (the task
    closed or changed since) are skipped when looked at."""

    def __init__(self, ladder: EscalationLadder) -> None:
        self.ladder = ladder
        self._heap: list[tuple[datetime, str, int]] = []

    def schedule(self, t: DispatchTask) -> None:
        if t.grid_id is None:
            return
        # the next step after the task's last change: one that fell due while the hub
        # was down is in the past, so it runs at once
        due = next_escalation_at(t, t.updated_at, self.ladder)
        if due is not None:
            heapq.heappush(self._heap, (due, t.id, t.version))

    def next_due(self, lookup: Lookup) -> datetime | None:
        """The earliest due time of a task still open in the version scheduled."""
        while self._heap:
            due, tid, version = self._heap[0]
            t = lookup(tid)
            if t is not None and t.version == version:
                return due
            heapq.heappop(self._heap)
        return None

    def pop_due(self, now: datetime, lookup: Lookup) -> list[str]:
        """The ids of the tasks due at `now` (each once), taken off the heap."""
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            _, tid, version = heapq.heappop(self._heap)
            t = lookup(tid)
            if t is not None and t.version == version and tid not in due:
                due.append(tid)
        return due


class Escalator:
    """Escalates every open task whose acknowledgement is overdue, one transaction each."""

    def __init__(
        self,
        site: Site | None,
        clock: Callable[[], datetime],
        recorder: TaskRecorder,
        board: TaskBoard,
        queue: EscalationQueue,
    ) -> None:
        self.site = site
        self.clock = clock
        self.recorder = recorder
        self.board = board
        self.queue = queue
        self._lock = asyncio.Lock()

    def next_due(self) -> datetime | None:
        return self.queue.next_due(self.board.get)

    async def run(self) -> int:
        """Escalate every task overdue at `clock()`; return how many moved."""
        if self.site is None:
            return 0
        async with self._lock:
            now = self.clock()
            n = 0
            for tid in self.queue.pop_due(now, self.board.get):
                if await self._one(self.site, tid, now):
                    n += 1
            return n

    async def _one(self, site: Site, tid: str, now: datetime) -> bool:
        new_id = new_task_id(now)
        ladder = self.queue.ladder

        def job(tx: Tx) -> list[Outcome] | None:
            t = load_task(tx, tid)
            if t.grid_id is None:
                return None
            chain = geo.responsible_people(site, t.grid_id)
            got = escalate(t, chain, now, new_task_id=new_id, ladder=ladder)
            if got is None:
                return None
            old, new = got
            self.recorder.record(tx, [(old, t.version), (new, None)], now, Role.SYSTEM)
            st.add_outbox(tx.conn, new.task.id, new.task.assignee, now)
            return [old, new]

        try:
            outs = await self.recorder.commit(job)
        except HubError as exc:
            log.warning("escalation of %s failed: %s", tid, exc)
            return False
        if outs is None:
            t = self.board.get(tid)
            if t is not None:  # nobody higher: look again at its next step, if any
                self.queue.schedule(t)
            return False
        self.board.after(outs, [(outs[1].task.assignee, outs[1].task.id)])
        return True
