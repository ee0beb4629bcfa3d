"""Typed zmq messages of one-click dispatch to grid leaders (issue 4): the preview of
whom an event would go to, dispatch, an officer's action on a task, an event's tasks and
evidence, attaching evidence, a personal phone link, and the published `TaskChanged`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.domain.wire import WireMessage
from dispatch.tasks.core import MAX_NOTE_LENGTH, DispatchTask, TaskTransition

OfficerTaskAction = Literal["confirm", "rework", "cancel", "reassign"]
EvidenceKind = Literal["snapshot", "clip"]

# -- requests (client → hub) -----------------------------------------------------------


class DispatchPreviewRequest(WireMessage):
    """Whom one-click dispatch would send an event to, with what instruction, and the
    nearest cameras of its place (for the linkage layout)."""

    type: Literal["dispatch_preview"] = "dispatch_preview"
    rid: str
    token: str
    event_id: str
    cameras: int = Field(default=4, ge=0, le=16)


class DispatchRequest(WireMessage):
    """Dispatch an event: `person_id` None = the suggested person; `instruction` None =
    the category's template."""

    type: Literal["dispatch"] = "dispatch"
    rid: str
    token: str
    event_id: str
    person_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    instruction: str | None = Field(default=None, max_length=2000)


class TaskActRequest(WireMessage):
    """An officer's action on a task (reassign needs `person_id`)."""

    type: Literal["task_act"] = "task_act"
    rid: str
    token: str
    task_id: str
    action: OfficerTaskAction
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    person_id: str | None = Field(default=None, max_length=64)


class TasksRequest(WireMessage):
    type: Literal["tasks"] = "tasks"
    rid: str
    token: str
    event_id: str


class AttachEvidenceRequest(WireMessage):
    """Attach a snapshot or clip (a file the console saved, with its SHA-256) to an event."""

    type: Literal["attach_evidence"] = "attach_evidence"
    rid: str
    token: str
    event_id: str
    kind: EvidenceKind
    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(default=0, ge=0)
    task_id: str | None = None
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class PhoneLinkRequest(WireMessage):
    """Issue a personal phone link and PIN for a person of the site."""

    type: Literal["phone_link"] = "phone_link"
    rid: str
    token: str
    person_id: str = Field(min_length=1, max_length=64)
    ttl_days: float = Field(default=30, gt=0, le=366)


# -- replies (hub → client) ------------------------------------------------------------


class PersonInfo(WireMessage):
    id: str
    name: str
    role: str
    phone: str = ""  # masked


class CameraDistance(WireMessage):
    camera_id: str
    name: str
    metres: float


class AttachmentInfo(WireMessage):
    id: str
    event_id: str
    task_id: str | None
    kind: str  # snapshot | clip | photo
    path: str
    sha256: str
    size: int
    mime: str
    added_by: str
    at: AwareDatetime
    note: str = ""


class DispatchPreviewReply(WireMessage):
    type: Literal["dispatch_preview_ok"] = "dispatch_preview_ok"
    rid: str
    event_id: str
    grid_id: str | None
    grid_name: str
    place: str
    suggested: PersonInfo | None
    chain: list[PersonInfo]
    instruction: str
    cameras: list[CameraDistance]


class TaskReply(WireMessage):
    type: Literal["task_ok"] = "task_ok"
    rid: str
    seq: int
    task: DispatchTask


class TasksReply(WireMessage):
    """Every task of an event (oldest first), their history rows and the event's evidence."""

    type: Literal["tasks_ok"] = "tasks_ok"
    rid: str
    tasks: list[DispatchTask]
    history: list[TaskTransition]
    attachments: list[AttachmentInfo]


class AttachmentReply(WireMessage):
    type: Literal["attachment_ok"] = "attachment_ok"
    rid: str
    seq: int
    attachment: AttachmentInfo


class PhoneLinkReply(WireMessage):
    """`path` is relative to the hub's HTTP address (`/m/<token>`); the PIN is shown once."""

    type: Literal["phone_link_ok"] = "phone_link_ok"
    rid: str
    person_id: str
    path: str
    pin: str
    expires_at: AwareDatetime


# -- published (hub → all) -------------------------------------------------------------


class TaskChanged(WireMessage):
    """A dispatch task changed. Published right after the `EventChanged` with the same
    `seq` (that one carries the event's timeline row), so it needs no gap check of its own."""

    type: Literal["task_changed"] = "task_changed"
    seq: int
    task: DispatchTask
    transition: TaskTransition
    line: str  # the Chinese timeline line
