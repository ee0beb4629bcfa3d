"""The one transaction of a task change.

Every task change is ONE transaction through the hub's single writer that writes the
task, its history row, a timeline (audit) row on the event and a change row (the seq);
after the commit the event's `EventChanged` (carrying the timeline row) is published,
followed by a `TaskChanged` with the same seq. Refusals of the pure core and version
conflicts come back as `HubError`s.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from dispatch.db import store
from dispatch.domain.model import AuditEntry, Event, Role
from dispatch.domain.wire import ErrorCode, HubError, encode
from dispatch.events.service import HubService
from dispatch.hub.clock import CHINA_TZ
from dispatch.hub.writer import Tx
from dispatch.tasks import store as st
from dispatch.tasks.core import (
    STATE_LABELS_ZH,
    DispatchTask,
    Outcome,
    TaskAction,
    TaskTransition,
    TaskTransitionError,
    describe,
)
from dispatch.tasks.messages import TaskChanged

T = TypeVar("T")


def timeline_action(row: TaskTransition) -> str:
    """The audit row's action for a task row: `task_<action>` (e.g. task_deliver)."""
    return f"task_{row.action.value}"


def timeline_line(tr: TaskTransition, task: DispatchTask, names: Mapping[str, str]) -> str:
    """The timeline line: "【派单】张建国 送达（已送达）"."""
    head = describe(tr, names)
    if tr.from_state is None and tr.action is not TaskAction.DISPATCH:
        head = f"{head} → {names.get(task.assignee, task.assignee)}"  # the new task
    return f"【派单】{head}（{STATE_LABELS_ZH[tr.to_state]}）"


def load_task(tx: Tx, task_id: str) -> DispatchTask:
    """The task as stored, or HubError NOT_FOUND."""
    t = st.load_task(tx.conn, task_id)
    if t is None:
        raise HubError(ErrorCode.NOT_FOUND, f"任务不存在 / no task {task_id!r}")
    return t


class TaskRecorder:
    """Writes task changes (and evidence audit rows) through the hub's writer."""

    def __init__(self, hub: HubService, names: Mapping[str, str]) -> None:
        self.hub = hub
        self._names = dict(names)

    async def commit(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` in the writer's transaction; core refusals become HubErrors."""
        try:
            return await self.hub.commit(fn)
        except TaskTransitionError as exc:
            raise HubError(ErrorCode.TRANSITION, exc.message_zh) from None
        except store.VersionConflict as exc:  # pragma: no cover - one writer
            raise HubError(ErrorCode.CONFLICT, str(exc)) from None

    async def event(self, event_id: str) -> Event:
        """The event (open ones from memory), or HubError NOT_FOUND."""
        return await self.hub.require_event(event_id)

    def record(
        self,
        tx: Tx,
        outcomes: Sequence[tuple[Outcome, int | None]],
        now: datetime,
        role: Role,
        extra_audit: Sequence[AuditEntry] = (),
    ) -> int:
        """Inside `tx`: save the changed tasks (each with its previous version, None for a
        new one), their history and timeline rows and `extra_audit`; return the seq. The
        timeline change goes through the events service (`append_timeline`), the
        `TaskChanged` frames right after its frame."""
        rows = [(o, prev) for o, prev in outcomes if o.transition is not None]
        event_id = rows[0][0].task.event_id if rows else extra_audit[0].event_id
        ev = self.hub.event_in(tx, event_id)
        audit = list(extra_audit)
        changed: list[tuple[DispatchTask, TaskTransition, str]] = []
        for o, prev in rows:
            st.save_task(tx.conn, o.task, prev)
            tr = o.transition
            assert tr is not None
            note = timeline_line(tr, o.task, self._names)
            audit.append(
                AuditEntry(
                    event_id=ev.id,
                    at=now,
                    operator=tr.by.id,
                    role=role,
                    workstation=tr.by.via or tr.by.kind.value,
                    action=timeline_action(tr),
                    from_state=ev.state,
                    to_state=ev.state,
                    note=note,
                )
            )
            changed.append((o.task, tr, note))

        def frames(seq: int) -> list[bytes]:
            return [
                encode(TaskChanged(seq=seq, task=task, transition=tr, line=line))
                for task, tr, line in changed
            ]

        seq = self.hub.append_timeline(tx, ev, audit, now, extra=frames)
        for _, tr, _ in changed:
            st.add_history(tx.conn, tr, seq)
        return seq


def new_task_id(now: datetime) -> str:
    """A fresh task id with the China date: T20260305-a1b2c3d4e5."""
    d = now.astimezone(CHINA_TZ)
    return f"T{d:%Y%m%d}-{secrets.token_hex(5)}"
