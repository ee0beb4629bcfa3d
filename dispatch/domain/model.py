"""The domain's value types: events, their intake body, states and actions, operators, audit.

Pure: no I/O and no clock reads. Times are timezone-aware `datetime`s passed in by the
caller. Models are frozen pydantic models so that the same types are validated at the
edges (HTTP intake, zmq protocol, store rows) and passed around inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from dispatch.domain.strict import FROZEN


class _Frozen(BaseModel):
    model_config = FROZEN


class EventSource(StrEnum):
    GRID_REPORT = "grid_report"  # 网格员上报
    HOTLINE_12345 = "hotline_12345"  # 12345 热线
    PETITION = "petition"  # 信访
    WALK_IN = "walk_in"  # 来访
    CAMERA_ALARM = "camera_alarm"  # 视频告警
    CAMERA_FAULT = "camera_fault"  # 设备故障


class Priority(StrEnum):
    ROUTINE = "routine"  # 一般
    URGENT = "urgent"  # 紧急
    EMERGENCY = "emergency"  # 特急


# Categories are configurable; these are the defaults (id -> Chinese name).
DEFAULT_CATEGORIES: dict[str, str] = {
    "land": "土地与边界",
    "wages": "劳资欠薪",
    "neighbours": "邻里纠纷",
    "family": "婚姻家庭",
    "property": "物业管理",
    "demolition": "征地拆迁",
    "environment": "环境污染",
    "safety_hazard": "公共安全隐患",
    "camera_fault": "设备故障",
    "other": "其他",
}


class EventState(StrEnum):
    """The closed loop 受理 → 登记 → 分流 → 处置 → 反馈 → 归档."""

    ACCEPTED = "accepted"  # 受理
    REGISTERED = "registered"  # 登记
    ROUTED = "routed"  # 分流
    HANDLING = "handling"  # 处置
    FEEDBACK = "feedback"  # 反馈 (verification 核查 and call-back 回访 happen here)
    ARCHIVED = "archived"  # 归档


class Action(StrEnum):
    REGISTER = "register"
    ROUTE = "route"
    START_HANDLING = "start_handling"
    FEEDBACK = "feedback"
    VERIFY = "verify"  # 核查 on-site verification
    CALL_BACK = "call_back"  # 回访
    ARCHIVE = "archive"
    RETURN = "return"  # 退单, reason required
    ESCALATE = "escalate"
    REQUEST_EXTENSION = "request_extension"
    GRANT_EXTENSION = "grant_extension"
    REMIND = "remind"  # 催办, written by the hub's timers when overdue
    NOTE = "note"


class Role(StrEnum):
    DUTY_OFFICER = "duty_officer"  # 值班员
    SUPERVISOR = "supervisor"  # 带班领导
    ADMIN = "admin"  # 管理员
    SYSTEM = "system"  # the hub itself (timers, intake)


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


# Text as accepted from outside. The patterns reject control characters (NUL breaks
# PostgreSQL text columns) and, because pydantic-core matches on UTF-8, lone surrogates;
# they are also published in the OpenAPI document.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"

MAX_PHOTOS = 20


class Place(_Frozen):
    """Where: grid and/or coordinates (WGS-84) and a street address."""

    township: str | None = Field(
        default=None, max_length=64, pattern=SINGLE_LINE_PATTERN, description="township id"
    )
    village: str | None = Field(
        default=None, max_length=64, pattern=SINGLE_LINE_PATTERN, description="village id"
    )
    grid: str | None = Field(
        default=None, max_length=64, pattern=SINGLE_LINE_PATTERN, description="grid id"
    )
    lon: float | None = Field(
        default=None, ge=-180, le=180, description="longitude (WGS-84); given together with lat"
    )
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="latitude (WGS-84); given together with lon"
    )
    address: str = Field(
        default="", max_length=500, pattern=SINGLE_LINE_PATTERN, description="street address"
    )

    @model_validator(mode="after")
    def _lon_lat_together(self) -> Place:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat must be given together (经纬度须同时提供)")
        return self


class Reporter(_Frozen):
    """Who reported it. Phone and ID numbers are stored whole and masked wherever shown:
    every event a client receives carries them masked (`*`, see `mask_reporter`)."""

    name: str = Field(
        default="", max_length=100, pattern=SINGLE_LINE_PATTERN, description="reporter's name"
    )
    phone: str = Field(
        default="",
        max_length=32,
        pattern=r"^[0-9+\- *]*$",
        description="phone number (digits, +, -, spaces); masked with * when shown",
    )
    id_number: str = Field(
        default="",
        max_length=18,
        pattern=r"^[0-9Xx*]*$",
        description="resident ID number (15 or 18 characters); masked with * when shown",
    )


class Actor(_Frozen):
    """Who did something, from which workstation."""

    operator: str = Field(min_length=1, max_length=64)
    role: Role
    workstation: str = Field(min_length=1, max_length=64)


class Event(_Frozen):
    id: str
    source: EventSource
    source_ref: str = Field(default="", max_length=128, description="the source's own reference")
    category: str
    priority: Priority = Priority.ROUTINE
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    place: Place = Field(default_factory=Place)
    reporter: Reporter = Field(default_factory=Reporter)
    photos: tuple[str, ...] = ()
    camera_id: str | None = None
    multi_department: bool = False
    state: EventState = EventState.ACCEPTED
    assignee: str | None = Field(default=None, description="department or person it is routed to")
    escalation_level: int = Field(default=0, ge=0)
    verified: bool = False
    called_back: bool = False
    extension_requested: bool = False
    extension_requested_days: int = Field(
        default=0, ge=0, description="working days asked for by the pending request"
    )
    extension_days: int = Field(
        default=0, ge=0, description="working days granted in total for the current routing"
    )
    reported_at: AwareDatetime
    accepted_at: AwareDatetime
    routed_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = Field(
        default=None, description="last 退单; re-routing is due within the routing limit of it"
    )
    resolved_at: AwareDatetime | None = None  # entered FEEDBACK
    archived_at: AwareDatetime | None = None
    last_reminder_at: AwareDatetime | None = Field(default=None, description="last 催办")
    reminders: int = Field(default=0, ge=0, description="催办 reminders written so far")
    updated_at: AwareDatetime
    version: int = Field(default=1, ge=1, description="incremented by every transition")


PhotoRef = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=500,
        # a stored photo's id is one name (dots only between parts): never a path, so
        # "x/../../hall.db" or "..\\x" is refused at intake, not only where it is served
        pattern=r"^(https?://[^\s\x00-\x1f\x7f]+|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$",
    ),
]


class EventIntake(_Frozen):
    """The validated body of `POST /api/v1/events` (an outside system reports an event).

    The category is checked against the configured categories by the caller
    (`check_category`); whether `reported_at` lies in the future is checked by
    `dispatch.events.core.new_event`, which knows the intake time.
    """

    source: EventSource = Field(description="the reporting system: grid app, 12345 hotline, ...")
    source_ref: str = Field(
        default="",
        max_length=128,
        pattern=SINGLE_LINE_PATTERN,
        description="the source's own reference; a repeated (source, source_ref) returns the "
        "first event instead of making a duplicate. Empty: no de-duplication.",
    )
    category: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="category id, one of the configured categories (e.g. neighbours, wages)",
    )
    priority: Priority = Field(default=Priority.ROUTINE, description="routine, urgent or emergency")
    title: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
        description="one-line summary (not blank)",
    )
    description: str = Field(
        default="", max_length=5000, pattern=MULTI_LINE_PATTERN, description="what happened"
    )
    place: Place = Field(default_factory=Place, description="where it happened")
    reporter: Reporter = Field(
        default_factory=Reporter, description="who reported it (whole numbers, never masked)"
    )
    photos: tuple[PhotoRef, ...] = Field(
        default=(),
        max_length=MAX_PHOTOS,
        description=f"up to {MAX_PHOTOS} photo URLs (http/https) or stored photo ids",
    )
    camera_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=ID_PATTERN,
        description="the camera that raised the alarm or shows the place",
    )
    multi_department: bool = Field(
        default=False, description="needs several departments (affects the resolution limit)"
    )
    reported_at: AwareDatetime | None = Field(
        default=None,
        description="when it was reported at the source, with a UTC offset; default: the "
        "time of intake. Must not lie in the future.",
    )

    @model_validator(mode="after")
    def _whole_numbers(self) -> EventIntake:
        r = self.reporter
        if "*" in r.phone or "*" in r.id_number:
            raise ValueError("reporter: phone and ID numbers must be whole, not masked")
        return self


def check_category(category: str, categories: Mapping[str, str]) -> str:
    """Return `category` if it is configured, else raise ValueError naming the known ones."""
    if category in categories:
        return category
    known = ", ".join(sorted(categories))
    raise ValueError(f"unknown category {category!r} (未知类别); configured: {known}")


class AuditEntry(_Frozen):
    """One append-only row of an event's timeline."""

    event_id: str
    at: AwareDatetime
    operator: str
    role: Role
    workstation: str
    action: Action | str
    from_state: EventState | None
    to_state: EventState | None
    note: str = ""


Text = Annotated[str, Field(max_length=5000)]


def mask_phone(phone: str) -> str:
    """138****5678 style; short numbers keep only their last two digits."""
    s = phone.strip()
    if len(s) >= 7:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    if len(s) > 2:
        return "*" * (len(s) - 2) + s[-2:]
    return "*" * len(s)


def mask_id_number(id_number: str) -> str:
    """Keep the first 6 (region) and last 4 characters of a resident ID number."""
    s = id_number.strip()
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_reporter(ev: Event) -> Event:
    """`ev` as clients see it: the reporter's phone and ID numbers masked (the same
    event when it has none)."""
    r = ev.reporter
    if not r.phone and not r.id_number:
        return ev
    shown = r.model_copy(
        update={"phone": mask_phone(r.phone), "id_number": mask_id_number(r.id_number)}
    )
    return ev.model_copy(update={"reporter": shown})


def is_open(state: EventState) -> bool:
    return state is not EventState.ARCHIVED


def utc_iso(dt: datetime) -> str:
    return dt.isoformat()
