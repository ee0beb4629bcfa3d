"""Wire types of PTZ holds (consoles, zmq).

`PtzHoldRequest` (the operator is about to do `action` on `camera_id`; a takeover
asks for a held camera) → `PtzHoldReply` with the hold; refused with `forbidden` (the
role) or `conflict` (held by someone else: the message names them). `PtzReleaseRequest`
→ `OkReply`. `PtzHoldsRequest` → `PtzHoldsReply` (every live hold and the `seq` it is
as of); `PtzHoldChanged` is published at each change with the holds' own `seq` (a
client that sees a gap asks again). `PtzLogRequest` → `PtzLogReply`: the audit rows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from dispatch.domain.model import ID_PATTERN, Role
from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage
from dispatch.ptz.core import PtzAction

CameraId = Field(min_length=1, max_length=64, pattern=ID_PATTERN)


class PtzHold(BaseModel):
    model_config = FROZEN

    camera_id: str
    operator: str
    role: Role
    workstation: str
    since: AwareDatetime
    until: AwareDatetime


class PtzHoldRequest(WireMessage):
    type: Literal["ptz_hold"] = "ptz_hold"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    camera_id: str = CameraId
    action: PtzAction = PtzAction.MOVE
    detail: str = Field(default="", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")


class PtzHoldReply(WireMessage):
    type: Literal["ptz_hold_ok"] = "ptz_hold_ok"
    rid: str
    hold: PtzHold


class PtzReleaseRequest(WireMessage):
    type: Literal["ptz_release"] = "ptz_release"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    camera_id: str = CameraId


class PtzHoldsRequest(WireMessage):
    type: Literal["ptz_holds"] = "ptz_holds"
    rid: str = Field(min_length=1, max_length=64)
    token: str


class PtzHoldsReply(WireMessage):
    type: Literal["ptz_holds_ok"] = "ptz_holds_ok"
    rid: str
    seq: int
    holds: list[PtzHold]


class PtzHoldChanged(WireMessage):
    """A camera's hold taken, renewed with another holder, or released (`hold` None)."""

    type: Literal["ptz_hold_changed"] = "ptz_hold_changed"
    seq: int
    camera_id: str
    hold: PtzHold | None


class PtzLogEntry(BaseModel):
    model_config = FROZEN

    at: AwareDatetime
    operator: str
    role: Role
    workstation: str
    action: str
    note: str


class PtzLogRequest(WireMessage):
    type: Literal["ptz_log"] = "ptz_log"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    camera_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    limit: int = Field(default=200, ge=1, le=5000)


class PtzLogReply(WireMessage):
    type: Literal["ptz_log_ok"] = "ptz_log_ok"
    rid: str
    entries: list[PtzLogEntry]
