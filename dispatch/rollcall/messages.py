"""Typed zmq messages of the weekly roll call (issue 6), joined into the hub's
request registry and the client's reply/published unions (`dispatch.client.wire`).

One request type `rollcall` with an `op` and the fields that op uses; one reply type
`rollcall_ok` whose fields are filled according to the op. `RollcallChanged` is published
(with its own `seq`, monotonic over the hub's life) whenever a run changes: a client that
sees a gap or reconnects asks for `op="status"`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ExportFormat = Literal["csv", "pdf"]
ALL_FORMATS: tuple[ExportFormat, ...] = ("csv", "pdf")
RollcallOp = Literal[
    "roster",
    "start",
    "stop",
    "resume",
    "status",
    "week",
    "weeks",
    "coverage",
    "export",
    "add_exemption",
    "remove_exemption",
    "set_schedule",
    "note",
    "station_link",
    "end_call",
    "watch",
]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class RollcallRequest(_M):
    v: Literal[1] = 1
    type: Literal["rollcall"] = "rollcall"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    op: RollcallOp
    week: date | None = None
    batch: int | None = Field(default=None, ge=1, le=10)
    ring_s: float | None = Field(default=None, ge=0.2, le=600)
    talk_s: float | None = Field(default=None, ge=0, le=3600)
    exemption: ExemptionInfo | None = None
    exemption_id: int | None = None
    schedule: ScheduleInfo | None = None
    centre_id: str | None = Field(default=None, max_length=64)
    attempt: int | None = Field(default=None, ge=1, le=2)
    note: str | None = Field(default=None, max_length=2000)
    formats: list[ExportFormat] = Field(default_factory=lambda: list(ALL_FORMATS))
    ttl_days: float = Field(default=365, gt=0, le=3650)


class RollcallReply(_M):
    v: Literal[1] = 1
    type: Literal["rollcall_ok"] = "rollcall_ok"
    rid: str
    seq: int = 0
    centres: list[CentreInfo] = Field(default_factory=list)
    exemptions: list[ExemptionInfo] = Field(default_factory=list)
    schedule: ScheduleInfo | None = None
    run: RunInfo | None = None
    runs: list[RunInfo] = Field(default_factory=list)
    calls: list[CallInfo] = Field(default_factory=list)
    coverage: list[CoverageInfo] = Field(default_factory=list)
    weeks: list[date] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    path: str = ""
    pin: str = ""
    # op "watch": the hall's way into the call's room (path + bearer session)
    session: str = ""
    call_id: str = ""
    centre_id: str = ""
    centre_name: str = ""
    answered_at: datetime | None = None


class RollcallChanged(_M):
    v: Literal[1] = 1
    type: Literal["rollcall_changed"] = "rollcall_changed"
    seq: int
    run: RunInfo
