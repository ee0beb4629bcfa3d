"""Wire types of the grid leaders' shared positions.

Phone page (on its WebSocket, `dispatch.tasks.web`): in `position` (lon, lat in WGS-84
degrees, accuracy in metres: the browser's `coords`) and `position_off` (consent
withdrawn: the hub forgets the position); out `position_shared` (stored, or forgotten).
A refused fix is answered with the socket's `error` (code `position`, the reason).

Consoles (zmq): `LeaderPositionsRequest` → `LeaderPositionsReply` (every position the
hub keeps, with the publish `seq` it is as of, and the age after which consoles stop
showing one); `LeaderPositionChanged` is published at each change with the positions'
own `seq` (monotonic over the hub's life, from the wall clock in milliseconds): a client
that sees a gap asks for the list again. No phone numbers: person id, name, place, time,
accuracy, consent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage

# -- the phone page --------------------------------------------------------------------------


class PositionIn(BaseModel):
    """A fix from the phone (checked by `dispatch.positions.core.check_fix`)."""

    type: Literal["position"]
    lon: float
    lat: float
    accuracy_m: float


class PositionOff(BaseModel):
    """The person turned sharing off: forget their position."""

    type: Literal["position_off"]


class PositionShared(BaseModel):
    """The reply to `position` (shared, with the time the hub stored) or `position_off`."""

    type: Literal["position_shared"] = "position_shared"
    shared: bool
    at: str | None = None  # ISO 8601, the hub's time


# -- the consoles ----------------------------------------------------------------------------


class LeaderPosition(BaseModel):
    """A person's last shared position, as consoles get it."""

    model_config = FROZEN

    person_id: str
    name: str
    lon: float
    lat: float
    at: AwareDatetime
    accuracy_m: float
    consent: bool = True  # only positions shared with consent are ever kept


class LeaderPositionChanged(WireMessage):
    """A position shared (`position`) or withdrawn (`position` None, `consent` False)."""

    type: Literal["leader_position"] = "leader_position"
    seq: int
    person_id: str
    consent: bool
    position: LeaderPosition | None


class LeaderPositionsRequest(WireMessage):
    type: Literal["leader_positions"] = "leader_positions"
    rid: str = Field(min_length=1, max_length=64)
    token: str


class LeaderPositionsReply(WireMessage):
    type: Literal["leader_positions_ok"] = "leader_positions_ok"
    rid: str
    seq: int
    max_age_s: float
    positions: list[LeaderPosition]
