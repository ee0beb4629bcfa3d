"""Typed messages between the hub and its clients over zmq, encoded as JSON.

Requests go DEALER → ROUTER as one frame; each carries a client-chosen request id
`rid` that the reply repeats. Changes go PUB → SUB as one frame. Every message is a
pydantic model with a `type` literal and a version `v`; decoding picks the model by
`type` (a discriminated union) and rejects anything else with `ProtocolError`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dispatch.domain.model import Action, AuditEntry, Colour, Event, Role
from dispatch.reports.messages import HotspotsReply, HotspotsRequest, ReportReply, ReportRequest
from dispatch.rollcall.messages import RollcallChanged, RollcallReply, RollcallRequest
from dispatch.tasks.core import MAX_NOTE_LENGTH, DispatchTask, TaskTransition

VERSION = 1


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1


class ErrorCode(StrEnum):
    AUTH = "auth"  # wrong operator or password, or no/expired session
    FORBIDDEN = "forbidden"  # the role may not do this
    TRANSITION = "transition"  # the workflow does not allow the action in this state
    NOT_FOUND = "not_found"
    INVALID = "invalid"  # a malformed or invalid request
    CONFLICT = "conflict"
    INTERNAL = "internal"
    TIMEOUT = "timeout"  # client side: no reply in time


# -- requests (client → hub) -----------------------------------------------------------


class LoginRequest(_Msg):
    type: Literal["login"] = "login"
    rid: str
    operator: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)
    workstation: str = Field(min_length=1, max_length=64)


class LogoutRequest(_Msg):
    type: Literal["logout"] = "logout"
    rid: str
    token: str


class ActRequest(_Msg):
    type: Literal["act"] = "act"
    rid: str
    token: str
    event_id: str
    action: Action
    note: str = Field(default="", max_length=5000)
    assignee: str | None = Field(default=None, max_length=128)
    extension_days: int = Field(default=0, ge=0, le=365)


class TimelineRequest(_Msg):
    type: Literal["timeline"] = "timeline"
    rid: str
    token: str
    event_id: str


class SnapshotRequest(_Msg):
    """`since=None`: every open event (a fresh view); else the events changed after it."""

    type: Literal["snapshot"] = "snapshot"
    rid: str
    token: str
    since: int | None = Field(default=None, ge=0)


class PingRequest(_Msg):
    type: Literal["ping"] = "ping"
    rid: str


MAX_EVENTS_PER_REQUEST = 500


class EventsRequest(_Msg):
    """The current state of some events, open or not (a client asks for the events that
    left its view in a full snapshot: archived while it was not listening)."""

    type: Literal["events"] = "events"
    rid: str
    token: str
    ids: list[str] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


# -- dispatch to grid leaders (issue 4) ----------------------------------------------------


class DispatchPreviewRequest(_Msg):
    """Whom one-click dispatch would send an event to, with what instruction, and the
    nearest cameras of its place (for the linkage layout)."""

    type: Literal["dispatch_preview"] = "dispatch_preview"
    rid: str
    token: str
    event_id: str
    cameras: int = Field(default=4, ge=0, le=16)


class DispatchRequest(_Msg):
    """Dispatch an event: `person_id` None = the suggested person; `instruction` None =
    the category's template."""

    type: Literal["dispatch"] = "dispatch"
    rid: str
    token: str
    event_id: str
    person_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    instruction: str | None = Field(default=None, max_length=2000)


OfficerTaskAction = Literal["confirm", "rework", "cancel", "reassign"]


class TaskActRequest(_Msg):
    """An officer's action on a task (reassign needs `person_id`)."""

    type: Literal["task_act"] = "task_act"
    rid: str
    token: str
    task_id: str
    action: OfficerTaskAction
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    person_id: str | None = Field(default=None, max_length=64)


class TasksRequest(_Msg):
    type: Literal["tasks"] = "tasks"
    rid: str
    token: str
    event_id: str


EvidenceKind = Literal["snapshot", "clip"]


class AttachEvidenceRequest(_Msg):
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


class PhoneLinkRequest(_Msg):
    """Issue a personal phone link and PIN for a person of the site."""

    type: Literal["phone_link"] = "phone_link"
    rid: str
    token: str
    person_id: str = Field(min_length=1, max_length=64)
    ttl_days: float = Field(default=30, gt=0, le=366)


class MediationInvite(_Msg):
    """One invited participant of a mediation session (role: court, notary, mediator,
    party; the name is shown to everyone)."""

    role: Literal["court", "notary", "mediator", "party"]
    name: str = Field(min_length=1, max_length=64)


class MediationOpenRequest(_Msg):
    """Open a remote video mediation session on an event with links for the invited."""

    type: Literal["mediation_open"] = "mediation_open"
    rid: str
    token: str
    event_id: str = Field(min_length=1, max_length=64)
    invites: list[MediationInvite] = Field(min_length=1, max_length=5)
    ttl_hours: float = Field(default=24, gt=0, le=24 * 30)


class MediationCloseRequest(_Msg):
    """End a session and file it on the event with its outcome and agreement notes."""

    type: Literal["mediation_close"] = "mediation_close"
    rid: str
    token: str
    session_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["agreement", "no_agreement", "referred"]
    notes: str = Field(default="", max_length=MAX_NOTE_LENGTH)


Request = Annotated[
    LoginRequest
    | LogoutRequest
    | ActRequest
    | TimelineRequest
    | SnapshotRequest
    | PingRequest
    | EventsRequest
    | DispatchPreviewRequest
    | DispatchRequest
    | TaskActRequest
    | TasksRequest
    | AttachEvidenceRequest
    | PhoneLinkRequest
    | MediationOpenRequest
    | MediationCloseRequest
    | RollcallRequest
    | ReportRequest
    | HotspotsRequest,
    Field(discriminator="type"),
]

# -- replies (hub → client) ------------------------------------------------------------


class LoginReply(_Msg):
    type: Literal["login_ok"] = "login_ok"
    rid: str
    token: str
    operator: str
    role: Role
    workstation: str
    hub_instance: str


class OkReply(_Msg):
    type: Literal["ok"] = "ok"
    rid: str


class ActReply(_Msg):
    type: Literal["act_ok"] = "act_ok"
    rid: str
    seq: int
    event: Event
    colour: Colour
    audit: list[AuditEntry]


class TimelineReply(_Msg):
    type: Literal["timeline_ok"] = "timeline_ok"
    rid: str
    entries: list[AuditEntry]


class SnapshotEntry(_Msg):
    event: Event
    colour: Colour


class SnapshotReply(_Msg):
    """`full`: replace the view with `events`; else merge them. Up to date as of `seq`."""

    type: Literal["snapshot_ok"] = "snapshot_ok"
    rid: str
    seq: int
    full: bool
    hub_instance: str
    events: list[SnapshotEntry]


class EventsReply(_Msg):
    """The events asked for that exist (each with its stored colour), and the ids that
    do not (e.g. a client that last talked to a hub on another database)."""

    type: Literal["events_ok"] = "events_ok"
    rid: str
    seq: int
    events: list[SnapshotEntry]
    missing: list[str]


class PongReply(_Msg):
    type: Literal["pong"] = "pong"
    rid: str
    seq: int
    hub_instance: str


class ErrorReply(_Msg):
    type: Literal["error"] = "error"
    rid: str
    code: ErrorCode
    message: str


class PersonInfo(_Msg):
    id: str
    name: str
    role: str
    phone: str = ""  # masked


class CameraDistance(_Msg):
    camera_id: str
    name: str
    metres: float


class AttachmentInfo(_Msg):
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


class DispatchPreviewReply(_Msg):
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


class TaskReply(_Msg):
    type: Literal["task_ok"] = "task_ok"
    rid: str
    seq: int
    task: DispatchTask


class TasksReply(_Msg):
    """Every task of an event (oldest first), their history rows and the event's evidence."""

    type: Literal["tasks_ok"] = "tasks_ok"
    rid: str
    tasks: list[DispatchTask]
    history: list[TaskTransition]
    attachments: list[AttachmentInfo]


class AttachmentReply(_Msg):
    type: Literal["attachment_ok"] = "attachment_ok"
    rid: str
    seq: int
    attachment: AttachmentInfo


class PhoneLinkReply(_Msg):
    """`path` is relative to the hub's HTTP address (`/m/<token>`); the PIN is shown once."""

    type: Literal["phone_link_ok"] = "phone_link_ok"
    rid: str
    person_id: str
    path: str
    pin: str
    expires_at: AwareDatetime


class MediationLink(_Msg):
    """A join link: `path` relative to the hub's HTTP address; the PIN is shown once."""

    participant_id: str
    role: str
    label: str  # 法官, 公证员, 调解员, 当事人A …
    name: str
    path: str
    pin: str
    expires_at: AwareDatetime


class MediationReply(_Msg):
    """An opened (links, and the console's own `host_path` + `host_session`) or a
    closed session (`outcome`, `duration_s`, `recording`)."""

    type: Literal["mediation_ok"] = "mediation_ok"
    rid: str
    session_id: str
    event_id: str
    links: list[MediationLink] = []
    host_path: str = ""
    host_session: str = ""
    ice_servers: list[dict[str, object]] = []
    outcome: str | None = None
    duration_s: float | None = None
    recording: str | None = None


Reply = Annotated[
    LoginReply
    | OkReply
    | ActReply
    | TimelineReply
    | SnapshotReply
    | PongReply
    | ErrorReply
    | EventsReply
    | DispatchPreviewReply
    | TaskReply
    | TasksReply
    | AttachmentReply
    | PhoneLinkReply
    | MediationReply
    | RollcallReply
    | ReportReply
    | HotspotsReply,
    Field(discriminator="type"),
]

# -- published (hub → all) -------------------------------------------------------------


class EventChanged(_Msg):
    """One committed change of one event: its new state, colour and new audit rows."""

    type: Literal["event_changed"] = "event_changed"
    seq: int
    event: Event
    colour: Colour
    audit: list[AuditEntry] = Field(default_factory=list)


class Heartbeat(_Msg):
    """Published about once a second; `seq` is the hub's last published seq."""

    type: Literal["heartbeat"] = "heartbeat"
    seq: int
    at: AwareDatetime
    hub_instance: str


class TaskChanged(_Msg):
    """A dispatch task changed. Published right after the `EventChanged` with the same
    `seq` (that one carries the event's timeline row), so it needs no gap check of its own."""

    type: Literal["task_changed"] = "task_changed"
    seq: int
    task: DispatchTask
    transition: TaskTransition
    line: str  # the Chinese timeline line


Published = Annotated[
    EventChanged | Heartbeat | TaskChanged | RollcallChanged, Field(discriminator="type")
]

_requests: TypeAdapter[Request] = TypeAdapter(Request)
_replies: TypeAdapter[Reply] = TypeAdapter(Reply)
_published: TypeAdapter[Published] = TypeAdapter(Published)


class ProtocolError(Exception):
    """A frame that is not a valid message of this protocol."""


def encode(msg: BaseModel) -> bytes:
    return msg.model_dump_json().encode("utf-8")


# -- pre-encoded frames (the hub's hot path) -----------------------------------------------
# The hub serialises each event once (`Event.model_dump_json()`) and splices that JSON
# into the stored change, the PUB frame and snapshot replies. These builders produce
# exactly what the models above decode (tests check the round trip).


def change_body_json(event_json: str, colour: Colour, audit_json: Sequence[str]) -> str:
    """`{"event": …, "colour": …, "audit": […]}`: a change as the store keeps it."""
    return f'{{"event":{event_json},"colour":"{colour.value}","audit":[{",".join(audit_json)}]}}'


def snapshot_entry_json(event_json: str, colour: Colour) -> str:
    """One `SnapshotEntry` as JSON."""
    return f'{{"event":{event_json},"colour":"{colour.value}"}}'


def encode_changed(seq: int, event_json: str, colour: Colour, audit_json: Sequence[str]) -> bytes:
    """An `EventChanged` PUB frame."""
    return (
        f'{{"v":{VERSION},"type":"event_changed","seq":{int(seq)},"event":{event_json},'
        f'"colour":"{colour.value}","audit":[{",".join(audit_json)}]}}'
    ).encode()


def encode_snapshot_reply(
    rid: str, seq: int, full: bool, hub_instance: str, entries_json: Sequence[str]
) -> bytes:
    """A `SnapshotReply` frame from `snapshot_entry_json` strings."""
    head = json.dumps(
        {
            "v": VERSION,
            "type": "snapshot_ok",
            "rid": rid,
            "seq": int(seq),
            "full": full,
            "hub_instance": hub_instance,
        },
        ensure_ascii=False,
    )
    return f'{head[:-1]},"events":[{",".join(entries_json)}]}}'.encode()


def _first_error(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = []
    for e in errs[:3]:
        loc = ".".join(str(p) for p in e["loc"]) or "(message)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def decode_request(frame: bytes) -> Request:
    try:
        return _requests.validate_json(frame)
    except ValidationError as exc:
        raise ProtocolError(_first_error(exc)) from None


def decode_reply(frame: bytes) -> Reply:
    try:
        return _replies.validate_json(frame)
    except ValidationError as exc:
        raise ProtocolError(_first_error(exc)) from None


def decode_published(frame: bytes) -> Published:
    try:
        return _published.validate_json(frame)
    except ValidationError as exc:
        raise ProtocolError(_first_error(exc)) from None


def request_rid(frame: bytes) -> str:
    """Best-effort request id of a frame that failed to decode (for the error reply)."""
    try:
        obj = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        return ""
    rid = obj.get("rid") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) else ""


# -- client-side state and errors ---------------------------------------------------------


class ConnectionStatus(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"


@dataclass(frozen=True)
class ConnectionState:
    status: ConnectionStatus
    lost_at: datetime | None = None  # when the hub was last heard of, for LOST
    detail: str = ""


@dataclass(frozen=True)
class EventRemoved:
    """Client side: an event left the client's view and the hub has no record of it, so
    there is no final `EventChanged` to deliver (an archived event that the hub still
    has is delivered as an `EventChanged` in state archived instead)."""

    event_id: str
    seq: int  # the client's seq when it learned it


class HubError(Exception):
    """An error reply from the hub (or a client-side timeout), with its code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class AuthError(HubError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.AUTH, message)


def error_for(reply: ErrorReply) -> HubError:
    if reply.code is ErrorCode.AUTH:
        return AuthError(reply.message)
    return HubError(reply.code, reply.message)
