"""One-click dispatch's facade (issue 4): preview, dispatch, an officer's action on a
task, an event's tasks and evidence, phone links, and the tasks this client has seen
(dispatched by it, or published as `TaskChanged`)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from functools import partial
from pathlib import Path

from dispatch.client.calls import Caller
from dispatch.tasks.core import DispatchTask
from dispatch.tasks.messages import (
    AttachmentInfo,
    AttachmentReply,
    DispatchPreviewReply,
    DispatchPreviewRequest,
    DispatchRequest,
    EvidenceBeginReply,
    EvidenceBeginRequest,
    EvidenceChunkReply,
    EvidenceChunkRequest,
    EvidenceFinishRequest,
    EvidenceKind,
    OfficerTaskAction,
    PhoneLinkReply,
    PhoneLinkRequest,
    TaskActRequest,
    TaskChanged,
    TaskReply,
    TasksReply,
    TasksRequest,
)


class TasksFacade:
    def __init__(
        self, caller: Caller, on_task: Callable[[TaskChanged], None] | None = None
    ) -> None:
        self._caller = caller
        self._on_task = on_task
        self._task_view: dict[str, DispatchTask] = {}

    async def dispatch_preview(self, event_id: str, *, cameras: int = 4) -> DispatchPreviewReply:
        """Suggested person, the chain, the template's instruction, the nearest cameras."""
        request = partial(DispatchPreviewRequest, event_id=event_id, cameras=cameras)
        return await self._caller.call(DispatchPreviewReply, request)

    async def dispatch_event(
        self,
        event_id: str,
        person_id: str | None = None,
        *,
        note: str = "",
        instruction: str | None = None,
    ) -> DispatchTask:
        """One-click dispatch (person None: the suggested grid leader; instruction None:
        the category's template). Raises HubError (e.g. CONFLICT if already dispatched)."""
        request = partial(
            DispatchRequest,
            event_id=event_id,
            person_id=person_id,
            note=note,
            instruction=instruction,
        )
        rep = await self._caller.call(TaskReply, request)
        self._task_view[rep.task.id] = rep.task
        return rep.task

    async def task_act(
        self,
        task_id: str,
        action: OfficerTaskAction,
        *,
        note: str = "",
        person_id: str | None = None,
    ) -> DispatchTask:
        """confirm / rework (reason) / cancel (reason) / reassign (person_id): the new task."""
        request = partial(
            TaskActRequest, task_id=task_id, action=action, note=note, person_id=person_id
        )
        return (await self._caller.call(TaskReply, request)).task

    async def confirm_task(self, task_id: str, *, note: str = "") -> DispatchTask:
        return await self.task_act(task_id, "confirm", note=note)

    async def tasks_detail(self, event_id: str) -> TasksReply:
        """Tasks of an event (oldest first), their history rows and the event's evidence."""
        return await self._caller.call(TasksReply, partial(TasksRequest, event_id=event_id))

    async def tasks(self, event_id: str) -> list[DispatchTask]:
        return (await self.tasks_detail(event_id)).tasks

    async def attach_evidence(
        self,
        event_id: str,
        kind: EvidenceKind,
        source: Path,
        sha256: str,
        *,
        size: int,
        task_id: str | None = None,
        note: str = "",
    ) -> AttachmentInfo:
        """Upload the bytes of the console's own file `source` (its SHA-256 and size as
        the console computed them) in chunks; the hub checks the hash and stores the file
        under a name it chooses. Only `source`'s file name goes to the hub, for display."""
        begin = partial(
            EvidenceBeginRequest,
            event_id=event_id,
            kind=kind,
            name=source.name,
            sha256=sha256,
            size=size,
            task_id=task_id,
            note=note,
        )
        started = await self._caller.call(EvidenceBeginReply, begin)
        step = started.chunk_bytes
        f = await asyncio.to_thread(source.open, "rb")
        with f:
            sent = 0
            while sent < size:
                data = await asyncio.to_thread(f.read, min(step, size - sent))
                if not data:
                    break  # the file shrank: the hub refuses the short upload at finish
                chunk = partial(
                    EvidenceChunkRequest,
                    upload_id=started.upload_id,
                    offset=sent,
                    data=base64.b64encode(data).decode("ascii"),
                )
                sent = (await self._caller.call(EvidenceChunkReply, chunk)).received
        finish = partial(EvidenceFinishRequest, upload_id=started.upload_id)
        return (await self._caller.call(AttachmentReply, finish)).attachment

    async def issue_phone_link(self, person_id: str, *, ttl_days: float = 30) -> PhoneLinkReply:
        """A personal phone link (`path`, relative to the hub's HTTP address) and its PIN."""
        request = partial(PhoneLinkRequest, person_id=person_id, ttl_days=ttl_days)
        return await self._caller.call(PhoneLinkReply, request)

    def task_view(self) -> dict[str, DispatchTask]:
        """The open tasks this client dispatched or saw change (published `TaskChanged`);
        a closed task leaves it (a client that runs for days must not keep them all)."""
        return dict(self._task_view)

    def changed(self, msg: TaskChanged) -> None:
        """A published `TaskChanged` (from the connection's SUB loop)."""
        cur = self._task_view.get(msg.task.id)
        if msg.task.closed_at is not None:
            self._task_view.pop(msg.task.id, None)
        elif cur is None or cur.version <= msg.task.version:
            self._task_view[msg.task.id] = msg.task
        if self._on_task is not None:
            self._on_task(msg)
