"""Typed zmq messages of one-click dispatch to grid leaders (issue 4): the preview of
whom an event would go to, dispatch, an officer's action on a task, an event's tasks and
evidence, uploading evidence, a personal phone link, and the published `TaskChanged`.

Evidence goes to the hub as bytes, never as a path: `EvidenceBeginRequest` announces the
file (kind, display name, size, SHA-256), `EvidenceChunkRequest`s carry its bytes in
order (base64, at most `EVIDENCE_CHUNK_BYTES` each, so every frame stays far below the
ROUTER's message size limit), and `EvidenceFinishRequest` has the hub check the SHA-256
and store it under a name it chooses; the reply is the new attachment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.domain.wire import WireMessage
from dispatch.tasks.core import MAX_NOTE_LENGTH, DispatchTask, TaskTransition
from dispatch.tasks.uploads import EVIDENCE_CHUNK_B64, MAX_EVIDENCE_BYTES

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


class EvidenceBeginRequest(WireMessage):
    """Announce a snapshot or clip to upload for an event; `name` is for display only."""

    type: Literal["evidence_begin"] = "evidence_begin"
    rid: str
    token: str
    event_id: str
    kind: EvidenceKind
    name: str = Field(default="", max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0, le=MAX_EVIDENCE_BYTES)
    task_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class EvidenceChunkRequest(WireMessage):
    """The next bytes of an upload (`offset` is how many were sent before, in order)."""

    type: Literal["evidence_chunk"] = "evidence_chunk"
    rid: str
    token: str
    upload_id: str = Field(max_length=64)
    offset: int = Field(ge=0)
    data: str = Field(min_length=1, max_length=EVIDENCE_CHUNK_B64)  # base64


class EvidenceFinishRequest(WireMessage):
    """Every byte is sent: check the SHA-256, store the file, attach it (or refuse)."""

    type: Literal["evidence_finish"] = "evidence_finish"
    rid: str
    token: str
    upload_id: str = Field(max_length=64)


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
    """A stored attachment; `name` is the file name its sender gave (display only)."""

    id: str
    event_id: str
    task_id: str | None
    kind: str  # snapshot | clip | photo
    name: str = ""
    stored: bool = True  # False: an old row whose file is not in the hub's store
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


class EvidenceBeginReply(WireMessage):
    type: Literal["evidence_begin_ok"] = "evidence_begin_ok"
    rid: str
    upload_id: str
    chunk_bytes: int


class EvidenceChunkReply(WireMessage):
    type: Literal["evidence_chunk_ok"] = "evidence_chunk_ok"
    rid: str
    received: int


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
