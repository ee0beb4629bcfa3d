"""One-click dispatch's facade (issue 4): preview, dispatch, an officer's action on a
task, an event's tasks and evidence, phone links, and the tasks this client has seen
(dispatched by it, or published as `TaskChanged`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from dispatch.client.calls import Caller
from dispatch.tasks.core import DispatchTask
from dispatch.tasks.messages import (
    AttachEvidenceRequest,
    AttachmentInfo,
    AttachmentReply,
    DispatchPreviewReply,
    DispatchPreviewRequest,
    DispatchRequest,
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
        path: str,
        sha256: str,
        *,
        size: int = 0,
        task_id: str | None = None,
        note: str = "",
    ) -> AttachmentInfo:
        request = partial(
            AttachEvidenceRequest,
            event_id=event_id,
            kind=kind,
            path=path,
            sha256=sha256,
            size=size,
            task_id=task_id,
            note=note,
        )
        return (await self._caller.call(AttachmentReply, request)).attachment

    async def issue_phone_link(self, person_id: str, *, ttl_days: float = 30) -> PhoneLinkReply:
        """A personal phone link (`path`, relative to the hub's HTTP address) and its PIN."""
        request = partial(PhoneLinkRequest, person_id=person_id, ttl_days=ttl_days)
        return await self._caller.call(PhoneLinkReply, request)

    def task_view(self) -> dict[str, DispatchTask]:
        """The tasks this client dispatched or saw change (published `TaskChanged`)."""
        return dict(self._task_view)

    def changed(self, msg: TaskChanged) -> None:
        """A published `TaskChanged` (from the connection's SUB loop)."""
        cur = self._task_view.get(msg.task.id)
        if cur is None or cur.version <= msg.task.version:
            self._task_view[msg.task.id] = msg.task
        if self._on_task is not None:
            self._on_task(msg)
