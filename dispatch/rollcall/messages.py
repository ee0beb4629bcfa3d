"""Typed zmq messages of the weekly roll call (issue 6), joined into the hub's
request registry and the client's reply/published unions (`dispatch.client.wire`).

One request type and one reply type per operation (`rollcall_<op>` and
`rollcall_<op>_ok`), each with only the fields that operation uses; replies that carry
the same answer share a body class. `RollcallChanged` is published (with its own `seq`,
monotonic over the hub's life) whenever a run changes: a client that sees a gap or
reconnects asks for the status (`RollcallStatusRequest`).

Also the browser WebSocket messages of the duty-station page and of the hall's call
socket (`StationIn`/`StationOut`, `HallIn`/`HallOut`), read and sent by `dispatch.hub.ws`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from dispatch.domain.ice import IceInfo
from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage

ExportFormat = Literal["csv", "pdf"]
ALL_FORMATS: tuple[ExportFormat, ...] = ("csv", "pdf")


class _M(BaseModel):
    """The values the messages carry (no envelope of their own)."""

    model_config = FROZEN


class CentreInfo(_M):
    id: str
    name: str
    level: Literal["township", "village"]
    township: str
    township_name: str
    online: bool = False
    exempt: str = ""  # reason text when exempt today


class ExemptionInfo(_M):
    id: int
    centre_id: str
    start: date
    end: date
    reason: Literal["holiday", "repair", "other"]
    note: str = ""


class ScheduleInfo(_M):
    weekday: int = Field(ge=0, le=6)
    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    ring_s: float = Field(ge=0.2, le=600)
    batch: int = Field(ge=1, le=10)
    enabled: bool = True
    next_run: datetime | None = None
    last_week: date | None = None


class CallInfo(_M):
    centre_id: str
    centre_name: str
    township: str
    attempt: int
    outcome: str
    outcome_zh: str
    rang_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime
    answer_s: float | None
    duration_s: float | None
    snapshot: str | None
    note: str
    run_id: str = ""


class RunInfo(_M):
    id: str
    week: date
    status: Literal["running", "stopped", "done"]
    started_at: datetime
    ended_at: datetime | None
    started_by: str
    batch: int
    ring_s: float
    talk_s: float
    due: list[str]
    exempt: list[str]
    calls: list[CallInfo]
    ringing: list[str] = Field(default_factory=list)  # centres being called now
    in_call: list[str] = Field(default_factory=list)  # answered, media up: watchable
    recalls: list[str] = Field(default_factory=list)


class CoverageInfo(_M):
    township: str
    name: str
    due: int
    reached: int
    exempt: int


# -- requests: one per operation, each with the session token ------------------------------


class RollcallRequestBase(WireMessage):
    """The envelope of every roll-call request: the request id and the session token."""

    rid: str = Field(min_length=1, max_length=64)
    token: str


class RollcallRosterRequest(RollcallRequestBase):
    """The centres (online, exempt today), the exemptions and the schedule."""

    type: Literal["rollcall_roster"] = "rollcall_roster"


class RollcallStartRequest(RollcallRequestBase):
    """Start a run now; None: the schedule's batch and ring time, the default talk time."""

    type: Literal["rollcall_start"] = "rollcall_start"
    batch: int | None = Field(default=None, ge=1, le=10)
    ring_s: float | None = Field(default=None, ge=0.2, le=600)
    talk_s: float | None = Field(default=None, ge=0, le=3600)


class RollcallStopRequest(RollcallRequestBase):
    type: Literal["rollcall_stop"] = "rollcall_stop"


class RollcallResumeRequest(RollcallRequestBase):
    type: Literal["rollcall_resume"] = "rollcall_resume"


class RollcallStatusRequest(RollcallRequestBase):
    """The current run (after a gap in `RollcallChanged` or a reconnect) and the schedule."""

    type: Literal["rollcall_status"] = "rollcall_status"


class RollcallWeekRequest(RollcallRequestBase):
    """One week's runs, calls and coverage (None: this week)."""

    type: Literal["rollcall_week"] = "rollcall_week"
    week: date | None = None


class RollcallCoverageRequest(RollcallRequestBase):
    """The same as `RollcallWeekRequest` (kept for the clients that ask for coverage)."""

    type: Literal["rollcall_coverage"] = "rollcall_coverage"
    week: date | None = None


class RollcallWeeksRequest(RollcallRequestBase):
    """The weeks that have runs."""

    type: Literal["rollcall_weeks"] = "rollcall_weeks"


class RollcallExportRequest(RollcallRequestBase):
    """Export one week's log (None: this week) as CSV and/or PDF files on the hub."""

    type: Literal["rollcall_export"] = "rollcall_export"
    week: date | None = None
    formats: list[ExportFormat] = Field(default_factory=lambda: list(ALL_FORMATS))


class RollcallAddExemptionRequest(RollcallRequestBase):
    type: Literal["rollcall_add_exemption"] = "rollcall_add_exemption"
    exemption: ExemptionInfo


class RollcallRemoveExemptionRequest(RollcallRequestBase):
    type: Literal["rollcall_remove_exemption"] = "rollcall_remove_exemption"
    exemption_id: int


class RollcallSetScheduleRequest(RollcallRequestBase):
    type: Literal["rollcall_set_schedule"] = "rollcall_set_schedule"
    schedule: ScheduleInfo


class RollcallNoteRequest(RollcallRequestBase):
    """The officer's note on one logged call of the current run."""

    type: Literal["rollcall_note"] = "rollcall_note"
    centre_id: str = Field(max_length=64)
    attempt: int = Field(ge=1, le=2)
    note: str = Field(max_length=2000)


class RollcallStationLinkRequest(RollcallRequestBase):
    """A personal link + PIN for a centre's duty station (replaces the previous one)."""

    type: Literal["rollcall_station_link"] = "rollcall_station_link"
    centre_id: str = Field(max_length=64)
    ttl_days: float = Field(default=365, gt=0, le=3650)


class RollcallEndCallRequest(RollcallRequestBase):
    """End the answered call of a centre before its talk time is over."""

    type: Literal["rollcall_end_call"] = "rollcall_end_call"
    centre_id: str = Field(max_length=64)


class RollcallWatchRequest(RollcallRequestBase):
    """The hall's way into the answered call of `centre_id` (None: the current call)."""

    type: Literal["rollcall_watch"] = "rollcall_watch"
    centre_id: str | None = Field(default=None, max_length=64)


RollcallRequest = (
    RollcallRosterRequest
    | RollcallStartRequest
    | RollcallStopRequest
    | RollcallResumeRequest
    | RollcallStatusRequest
    | RollcallWeekRequest
    | RollcallCoverageRequest
    | RollcallWeeksRequest
    | RollcallExportRequest
    | RollcallAddExemptionRequest
    | RollcallRemoveExemptionRequest
    | RollcallSetScheduleRequest
    | RollcallNoteRequest
    | RollcallStationLinkRequest
    | RollcallEndCallRequest
    | RollcallWatchRequest
)
"""Every roll-call request (the hub registers one handler per member)."""
REQUEST_TYPES: tuple[type[RollcallRequestBase], ...] = get_args(RollcallRequest)


# -- replies: one per operation (bodies shared where the answer is the same) ----------------


class _Rep(WireMessage):
    rid: str


class _RosterBody(_Rep):
    seq: int
    centres: list[CentreInfo]
    exemptions: list[ExemptionInfo]
    schedule: ScheduleInfo


class RollcallRosterReply(_RosterBody):
    type: Literal["rollcall_roster_ok"] = "rollcall_roster_ok"


class RollcallAddExemptionReply(_RosterBody):
    """The roster with the new exemption."""

    type: Literal["rollcall_add_exemption_ok"] = "rollcall_add_exemption_ok"


class RollcallRemoveExemptionReply(_RosterBody):
    """The roster without the exemption."""

    type: Literal["rollcall_remove_exemption_ok"] = "rollcall_remove_exemption_ok"


class _RunBody(_Rep):
    """The run as it is after the operation, with the seq it is up to date with."""

    seq: int
    run: RunInfo


class RollcallStartReply(_RunBody):
    type: Literal["rollcall_start_ok"] = "rollcall_start_ok"


class RollcallStopReply(_RunBody):
    type: Literal["rollcall_stop_ok"] = "rollcall_stop_ok"


class RollcallResumeReply(_RunBody):
    type: Literal["rollcall_resume_ok"] = "rollcall_resume_ok"


class _CurrentBody(_Rep):
    """The current run (None before the first) with the seq it is up to date with."""

    seq: int
    run: RunInfo | None


class RollcallStatusReply(_CurrentBody):
    type: Literal["rollcall_status_ok"] = "rollcall_status_ok"
    schedule: ScheduleInfo


class RollcallNoteReply(_CurrentBody):
    type: Literal["rollcall_note_ok"] = "rollcall_note_ok"


class RollcallEndCallReply(_CurrentBody):
    """The run as it was when the call was told to end (its end is published)."""

    type: Literal["rollcall_end_call_ok"] = "rollcall_end_call_ok"


class _WeekBody(_Rep):
    seq: int
    runs: list[RunInfo]
    calls: list[CallInfo]
    coverage: list[CoverageInfo]


class RollcallWeekReply(_WeekBody):
    type: Literal["rollcall_week_ok"] = "rollcall_week_ok"


class RollcallCoverageReply(_WeekBody):
    type: Literal["rollcall_coverage_ok"] = "rollcall_coverage_ok"


class RollcallWeeksReply(_Rep):
    type: Literal["rollcall_weeks_ok"] = "rollcall_weeks_ok"
    weeks: list[date]


class RollcallExportReply(_Rep):
    """The files written on the hub."""

    type: Literal["rollcall_export_ok"] = "rollcall_export_ok"
    files: list[str]


class RollcallScheduleReply(_Rep):
    type: Literal["rollcall_set_schedule_ok"] = "rollcall_set_schedule_ok"
    schedule: ScheduleInfo


class RollcallStationLinkReply(_Rep):
    """`path` is relative to the hub's HTTP address (`/s/<token>`); the PIN is shown once."""

    type: Literal["rollcall_station_link_ok"] = "rollcall_station_link_ok"
    path: str
    pin: str


class RollcallWatchReply(_Rep):
    """The hall's path into the call's room and its bearer session."""

    type: Literal["rollcall_watch_ok"] = "rollcall_watch_ok"
    seq: int
    path: str
    session: str
    call_id: str
    centre_id: str
    centre_name: str
    answered_at: datetime | None
    ice: IceInfo = Field(default_factory=IceInfo)  # for the console's connection


RollcallReply = (
    RollcallRosterReply
    | RollcallAddExemptionReply
    | RollcallRemoveExemptionReply
    | RollcallStartReply
    | RollcallStopReply
    | RollcallResumeReply
    | RollcallStatusReply
    | RollcallNoteReply
    | RollcallEndCallReply
    | RollcallWeekReply
    | RollcallCoverageReply
    | RollcallWeeksReply
    | RollcallExportReply
    | RollcallScheduleReply
    | RollcallStationLinkReply
    | RollcallWatchReply
)
"""Every roll-call reply (joined into the client's reply union)."""


class RollcallChanged(WireMessage):
    type: Literal["rollcall_changed"] = "rollcall_changed"
    seq: int
    run: RunInfo


# -- browser WebSockets (`dispatch.rollcall.web`, read by `dispatch.hub.ws`) -----------------
# The duty station's page: `hello`, `ring`, `cancel`, `hangup` and `hall` out; `answer` and
# `decline` in. The hall's call socket (the console's `StarClient`): `hello` and `ended`
# out (then the socket closes); `leave` in.


class _Page(BaseModel):
    model_config = FROZEN


class StationAnswer(_Page):
    type: Literal["answer"]
    call_id: str = Field(max_length=200)
    no_camera: Literal["insecure", "denied", "missing", "busy", "other"] | None = None
    """Set when the page answers without its camera (receive-only) and why: not a secure
    context, refused, missing, busy, other. The call is logged 应答（无画面）."""


class StationDecline(_Page):
    type: Literal["decline"]
    call_id: str = Field(max_length=200)


StationIn = Annotated[StationAnswer | StationDecline, Field(discriminator="type")]


class StationHello(_Page):
    type: Literal["hello"] = "hello"
    centre: str
    name: str


class StationRing(_Page):
    """The page rings with a countdown (`left_s` of `ring_s`)."""

    type: Literal["ring"] = "ring"
    call_id: str
    ring_s: float
    left_s: float


class StationCancel(_Page):
    """The ringing stopped unanswered (`reason` "timeout")."""

    type: Literal["cancel"] = "cancel"
    call_id: str
    reason: str


class StationHangup(_Page):
    """The call is over (`reason` "done" or "fault")."""

    type: Literal["hangup"] = "hangup"
    call_id: str
    reason: str


class StationHall(_Page):
    """Whether the hall's peer is in the call's room (the page shows or waits for it)."""

    type: Literal["hall"] = "hall"
    call_id: str
    present: bool
    name: str


StationOut = StationHello | StationRing | StationCancel | StationHangup | StationHall


class HallLeave(_Page):
    """The console leaves the call's room (the call goes on)."""

    type: Literal["leave"]


HallIn = HallLeave  # the only message in (a union once there are more)


class HallHello(_Page):
    type: Literal["hello"] = "hello"
    call_id: str
    centre_id: str
    centre_name: str
    answered_at: str | None  # ISO 8601, as `datetime.isoformat()` writes it


class HallEnded(_Page):
    """The call is over (the socket closes after it); `text` says why, in Chinese."""

    type: Literal["ended"] = "ended"
    call_id: str
    reason: str
    text: str


HallOut = HallHello | HallEnded
