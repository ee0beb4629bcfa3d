"""Typed zmq messages of the video meetings (issue 13), joined into the hub's request
registry and the client's reply/published unions (`dispatch.client.wire`).

One request type and one reply type per operation (`meetings_<op>` and
`meetings_<op>_ok`); replies that carry the same answer share a body class.
`MeetingChanged` is published (with the service's own `seq`, monotonic over the hub's
life) whenever a meeting changes: a client that sees a gap or reconnects asks for the
list again (`MeetingsListRequest`).

Also the duty-station page's meeting socket (`/s/{token}/meet/ws`): `MeetIn` in,
`MeetOut` out, read and sent by `dispatch.hub.ws`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, Field

from dispatch.domain.ice import IceInfo
from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage
from dispatch.meetings.core import MAX_AGENDA, MAX_INVITED, MAX_MINUTES, MAX_TITLE


class _M(BaseModel):
    model_config = FROZEN


class InviteeInfo(_M):
    id: str
    name: str
    level: Literal["township", "village"]
    township_name: str


class LogEntryInfo(_M):
    at: datetime
    kind: str
    kind_zh: str
    centre: str
    centre_name: str
    detail: str = ""


class MeetingInfo(_M):
    id: str
    title: str
    convenor: str
    invited: list[InviteeInfo]
    start_at: datetime
    agenda: str
    status: Literal["planned", "open", "ended", "cancelled"]
    status_zh: str
    created_at: datetime
    opened_at: datetime | None = None
    ended_at: datetime | None = None
    locked: bool = False
    floor: str | None = None
    minutes: str = ""
    recording: str | None = None
    recording_sha256: str | None = None
    joined: dict[str, datetime] = Field(default_factory=dict)
    absent: list[str] = Field(default_factory=list)
    present: list[str] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    hands: list[str] = Field(default_factory=list)
    muted: list[str] = Field(default_factory=list)
    talking: list[str] = Field(default_factory=list)
    duration_s: float | None = None
    status_line: str = ""

    def name_of(self, centre: str) -> str:
        for c in self.invited:
            if c.id == centre:
                return c.name
        return centre


class TicketInfo(_M):
    """How a participant reaches the meeting's media room (the engine's ticket + a token)."""

    meeting_id: str
    janus_url: str
    room: int
    pin: str
    token: str
    display: str
    ice: IceInfo = Field(default_factory=IceInfo)


# -- requests ------------------------------------------------------------------------------


class MeetingsRequestBase(WireMessage):
    rid: str = Field(min_length=1, max_length=64)
    token: str


class MeetingsCentresRequest(MeetingsRequestBase):
    """The centres a meeting may invite (the site's townships and villages)."""

    type: Literal["meetings_centres"] = "meetings_centres"


class MeetingsCreateRequest(MeetingsRequestBase):
    type: Literal["meetings_create"] = "meetings_create"
    title: str = Field(max_length=MAX_TITLE)
    invited: list[str] = Field(max_length=MAX_INVITED)
    start_at: AwareDatetime
    agenda: str = Field(default="", max_length=MAX_AGENDA)


class MeetingsListRequest(MeetingsRequestBase):
    """The meetings of one week (None: this week) and every one still planned or open."""

    type: Literal["meetings_list"] = "meetings_list"
    week: date | None = None


class _One(MeetingsRequestBase):
    meeting_id: str = Field(min_length=1, max_length=64)


class MeetingsGetRequest(_One):
    """One meeting with its log."""

    type: Literal["meetings_get"] = "meetings_get"


class MeetingsOpenRequest(_One):
    """Open the meeting: its media room is made and the invited stations may join."""

    type: Literal["meetings_open"] = "meetings_open"


class MeetingsEndRequest(_One):
    type: Literal["meetings_end"] = "meetings_end"


class MeetingsCancelRequest(_One):
    type: Literal["meetings_cancel"] = "meetings_cancel"


class MeetingsJoinRequest(_One):
    """The console's own ticket into the room (the convenor's picture)."""

    type: Literal["meetings_join"] = "meetings_join"


class MeetingsFloorRequest(_One):
    """Give the floor to a centre (None: take it back; everybody but the hall muted)."""

    type: Literal["meetings_floor"] = "meetings_floor"
    centre: str | None = Field(default=None, max_length=64)


class MeetingsMuteAllRequest(_One):
    type: Literal["meetings_mute_all"] = "meetings_mute_all"


class MeetingsUnmuteRequest(_One):
    type: Literal["meetings_unmute"] = "meetings_unmute"
    centre: str = Field(max_length=64)


class MeetingsKickRequest(_One):
    type: Literal["meetings_kick"] = "meetings_kick"
    centre: str = Field(max_length=64)


class MeetingsLockRequest(_One):
    type: Literal["meetings_lock"] = "meetings_lock"
    locked: bool


class MeetingsMinutesRequest(_One):
    """The officer's minutes (会议纪要), replacing the previous text."""

    type: Literal["meetings_minutes"] = "meetings_minutes"
    minutes: str = Field(max_length=MAX_MINUTES)


MeetingsRequest = (
    MeetingsCentresRequest
    | MeetingsCreateRequest
    | MeetingsListRequest
    | MeetingsGetRequest
    | MeetingsOpenRequest
    | MeetingsEndRequest
    | MeetingsCancelRequest
    | MeetingsJoinRequest
    | MeetingsFloorRequest
    | MeetingsMuteAllRequest
    | MeetingsUnmuteRequest
    | MeetingsKickRequest
    | MeetingsLockRequest
    | MeetingsMinutesRequest
)
REQUEST_TYPES: tuple[type[MeetingsRequestBase], ...] = get_args(MeetingsRequest)


# -- replies -------------------------------------------------------------------------------


class _Rep(WireMessage):
    rid: str


class MeetingsCentresReply(_Rep):
    type: Literal["meetings_centres_ok"] = "meetings_centres_ok"
    centres: list[InviteeInfo]


class MeetingsListReply(_Rep):
    type: Literal["meetings_list_ok"] = "meetings_list_ok"
    seq: int
    meetings: list[MeetingInfo]


class _MeetingBody(_Rep):
    """The meeting after the operation, with the seq it is up to date with."""

    seq: int
    meeting: MeetingInfo


class MeetingsCreateReply(_MeetingBody):
    type: Literal["meetings_create_ok"] = "meetings_create_ok"


class MeetingsGetReply(_MeetingBody):
    type: Literal["meetings_get_ok"] = "meetings_get_ok"
    log: list[LogEntryInfo]


class MeetingsOpenReply(_MeetingBody):
    type: Literal["meetings_open_ok"] = "meetings_open_ok"


class MeetingsEndReply(_MeetingBody):
    type: Literal["meetings_end_ok"] = "meetings_end_ok"


class MeetingsCancelReply(_MeetingBody):
    type: Literal["meetings_cancel_ok"] = "meetings_cancel_ok"


class MeetingsJoinReply(_MeetingBody):
    type: Literal["meetings_join_ok"] = "meetings_join_ok"
    ticket: TicketInfo


class MeetingsFloorReply(_MeetingBody):
    type: Literal["meetings_floor_ok"] = "meetings_floor_ok"


class MeetingsMuteAllReply(_MeetingBody):
    type: Literal["meetings_mute_all_ok"] = "meetings_mute_all_ok"


class MeetingsUnmuteReply(_MeetingBody):
    type: Literal["meetings_unmute_ok"] = "meetings_unmute_ok"


class MeetingsKickReply(_MeetingBody):
    type: Literal["meetings_kick_ok"] = "meetings_kick_ok"


class MeetingsLockReply(_MeetingBody):
    type: Literal["meetings_lock_ok"] = "meetings_lock_ok"


class MeetingsMinutesReply(_MeetingBody):
    type: Literal["meetings_minutes_ok"] = "meetings_minutes_ok"


MeetingsReply = (
    MeetingsCentresReply
    | MeetingsListReply
    | MeetingsCreateReply
    | MeetingsGetReply
    | MeetingsOpenReply
    | MeetingsEndReply
    | MeetingsCancelReply
    | MeetingsJoinReply
    | MeetingsFloorReply
    | MeetingsMuteAllReply
    | MeetingsUnmuteReply
    | MeetingsKickReply
    | MeetingsLockReply
    | MeetingsMinutesReply
)


class MeetingChanged(WireMessage):
    type: Literal["meeting_changed"] = "meeting_changed"
    seq: int
    meeting: MeetingInfo


# -- the duty station's meeting socket (`dispatch.meetings.web`) -----------------------------


class _Page(BaseModel):
    model_config = FROZEN


class MeetJoin(_Page):
    """The station joins (one click): it is answered with a `ticket`."""

    type: Literal["join"]
    meeting_id: str = Field(max_length=64)


class MeetHand(_Page):
    """举手: the station asks for the floor."""

    type: Literal["hand"]
    meeting_id: str = Field(max_length=64)


class MeetLeave(_Page):
    type: Literal["leave"]
    meeting_id: str = Field(max_length=64)


MeetIn = Annotated[MeetJoin | MeetHand | MeetLeave, Field(discriminator="type")]


class MeetInvite(_Page):
    """会议邀请: shown with a countdown to `start_at` (`left_s` when sent); `open`: the
    meeting has begun and may be joined now."""

    type: Literal["invite"] = "invite"
    meeting_id: str
    title: str
    agenda: str
    start_at: str  # ISO 8601
    left_s: float
    open: bool
    names: dict[str, str]  # centre id → name (the tiles' captions)


class MeetGone(_Page):
    """The invitation is withdrawn: `reason` cancelled | ended | removed."""

    type: Literal["gone"] = "gone"
    meeting_id: str
    reason: Literal["cancelled", "ended", "removed", "left"]


class MeetTicket(_Page):
    """The way into the room (janus-room.js `joinRoom`)."""

    type: Literal["ticket"] = "ticket"
    meeting_id: str
    janus_url: str
    room: int
    pin: str
    token: str
    display: str
    ice_servers: list[dict[str, object]]
    ice_policy: str = "all"


class MeetFloor(_Page):
    """Who has the floor (None: nobody) and whether this station is muted."""

    type: Literal["floor"] = "floor"
    meeting_id: str
    centre: str | None
    name: str
    muted: bool
    hand: bool  # this station's hand is up


class MeetRefused(_Page):
    type: Literal["refused"] = "refused"
    meeting_id: str
    message: str


MeetOut = MeetInvite | MeetGone | MeetTicket | MeetFloor | MeetRefused
