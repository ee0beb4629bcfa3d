"""The open tasks, the push outbox of each person's phone and the phones listening.

Delivery to phones: a new task gets a row in `push_outbox`; it stays pending until the
phone acks it (the task becomes delivered, idempotently). A phone that connects gets all
its open tasks, the pending ones flagged for ack, so one that was offline (or a hub that
restarted) loses nothing. Phones are told after the commit (listeners), so nothing is
pushed that is not durable. Runs on the hub's loop only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.tasks.core import DispatchTask, Outcome

log = logging.getLogger(__name__)

Listener = Callable[[DispatchTask, bool], None]  # (task, needs ack)


class TaskBoard:
    """The in-memory view of the open tasks and their pending pushes, and who listens.

    `on_open` is called with every task that is (still) open after a change: the
    escalation queue schedules its next step.
    """

    def __init__(self, on_open: Callable[[DispatchTask], None]) -> None:
        self._on_open = on_open
        self._open: dict[str, DispatchTask] = {}
        self._pending: dict[str, dict[str, None]] = {}  # person → task ids awaiting ack
        self._listeners: dict[str, set[Listener]] = {}

    def load(self, tasks: Iterable[DispatchTask], pushes: Iterable[tuple[str, str]]) -> None:
        """At start: the open tasks and the (person, task id) pushes not yet acked."""
        for t in tasks:
            self._open[t.id] = t
            self._on_open(t)
        for person, tid in pushes:
            if tid in self._open:
                self._pending.setdefault(person, {})[tid] = None

    def get(self, task_id: str) -> DispatchTask | None:
        return self._open.get(task_id)

    def open_tasks(self) -> list[DispatchTask]:
        return list(self._open.values())

    def is_pending(self, t: DispatchTask) -> bool:
        return t.id in self._pending.get(t.assignee, {})

    def acked(self, person_id: str, task_id: str) -> None:
        self._pending.get(person_id, {}).pop(task_id, None)

    def mine(self, person_id: str, task_id: str) -> DispatchTask:
        """The person's open task, or HubError NOT_FOUND (moved away, cancelled, unknown)."""
        t = self._open.get(task_id)
        if t is None or t.assignee != person_id:
            raise HubError(ErrorCode.NOT_FOUND, "任务不存在或已转派、撤销 / no such open task")
        return t

    # -- listeners (phone sockets) ---------------------------------------------------------
    def listen(self, person_id: str, fn: Listener) -> None:
        self._listeners.setdefault(person_id, set()).add(fn)

    def unlisten(self, person_id: str, fn: Listener) -> None:
        got = self._listeners.get(person_id)
        if got is not None:
            got.discard(fn)
            if not got:
                del self._listeners[person_id]

    def clear_listeners(self) -> None:
        self._listeners.clear()

    def sessions_connected(self) -> int:
        return sum(len(v) for v in self._listeners.values())

    def open_tasks_of(self, person_id: str) -> list[tuple[DispatchTask, bool]]:
        """The person's open tasks, oldest first, each with 'still awaiting the phone's ack'."""
        pending = self._pending.get(person_id, {})
        mine = [t for t in self._open.values() if t.assignee == person_id]
        mine.sort(key=lambda t: (t.sent_at, t.id))
        return [(t, t.id in pending) for t in mine]

    # -- after a commit ----------------------------------------------------------------------
    def after(self, outcomes: Sequence[Outcome], pushes: Sequence[tuple[str, str]] = ()) -> None:
        """On the loop after a commit: the view, the timers, then tell the phones."""
        for o in outcomes:
            t = o.task
            cur = self._open.get(t.id)
            if cur is not None and cur.version >= t.version:
                continue
            if t.closed_at is None:
                self._open[t.id] = t
                self._on_open(t)
            else:
                self._open.pop(t.id, None)
                self._pending.get(t.assignee, {}).pop(t.id, None)
        for person, tid in pushes:
            if tid in self._open:
                self._pending.setdefault(person, {})[tid] = None
        for o in outcomes:
            if o.transition is not None:
                self._tell(o.task)

    def tell_event(self, event_id: str) -> None:
        """Tell the phones with an open task of the event (new evidence to see)."""
        for t in list(self._open.values()):
            if t.event_id == event_id:
                self._tell(t)

    def _tell(self, t: DispatchTask) -> None:
        ack = self.is_pending(t)
        for fn in list(self._listeners.get(t.assignee, ())):
            try:
                fn(t, ack)
            except Exception:
                log.exception("phone listener failed")
