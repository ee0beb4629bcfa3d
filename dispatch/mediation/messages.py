"""The wires of remote video mediation (issue 5).

- zmq, console ↔ hub: open a session with join links for the invited
  (`MediationOpenRequest` → `MediationReply` with `MediationLink`s), close it with its
  outcome (`MediationCloseRequest`).
- The join page's WebSocket (`/v/{token}/ws`), both ways. In (`PageIn`, one
  discriminated union on `type`): `media` (the page's mute state), and the host's
  `admit`, `remove` and `record`. Out (`PageOut`): `state` (the whole view, personalised
  for the participant), `removed`, `closed` and `recording`; refusals are the shared
  loop's `SocketError` (`dispatch.hub.ws`). The JSON is what
  resources/web/mediation/mediation.js and the console's mediation window read; field
  order is the order of the fields here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from dispatch.domain.ice import IceInfo
from dispatch.domain.strict import ADAPTER
from dispatch.domain.wire import WireMessage
from dispatch.mediation.core import MAX_JANUS_PARTIES
from dispatch.tasks.core import MAX_NOTE_LENGTH


class MediationInvite(WireMessage):
    """One invited participant of a mediation session (role: court, notary, mediator,
    party; the name is shown to everyone)."""

    role: Literal["court", "notary", "mediator", "party"]
    name: str = Field(min_length=1, max_length=64)


class MediationOpenRequest(WireMessage):
    """Open a remote video mediation session on an event with links for the invited."""

    type: Literal["mediation_open"] = "mediation_open"
    rid: str
    token: str
    event_id: str = Field(min_length=1, max_length=64)
    # beyond 5 the session needs Janus (dispatch.mediation.media.place says yes or why not)
    invites: list[MediationInvite] = Field(min_length=1, max_length=MAX_JANUS_PARTIES - 1)
    ttl_hours: float = Field(default=24, gt=0, le=24 * 30)


class MediationCloseRequest(WireMessage):
    """End a session and file it on the event with its outcome and agreement notes."""

    type: Literal["mediation_close"] = "mediation_close"
    rid: str
    token: str
    session_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["agreement", "no_agreement", "referred"]
    notes: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class MediationLink(WireMessage):
    """A join link: `path` relative to the hub's HTTP address; the PIN is shown once."""

    participant_id: str
    role: str
    label: str  # 法官, 公证员, 调解员, 当事人A …
    name: str
    path: str
    pin: str
    expires_at: AwareDatetime


class MediationReply(WireMessage):
    """An opened (links, and the console's own `host_path` + `host_session`) or a
    closed session (`outcome`, `duration_s`, `recording`)."""

    type: Literal["mediation_ok"] = "mediation_ok"
    rid: str
    session_id: str
    event_id: str
    links: list[MediationLink] = Field(default_factory=list)
    host_path: str = ""
    host_session: str = ""
    ice: IceInfo = Field(default_factory=IceInfo)  # for the console's connection
    engine: Literal["hub", "janus"] = "hub"  # where the media run (the console joins there)
    outcome: str | None = None
    duration_s: float | None = None
    recording: str | None = None


# -- the join page's socket ---------------------------------------------------------------------


class _Msg(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- in -----------------------------------------------------------------------------------------


class MediaIn(_Msg):
    """The page's microphone and camera switches."""

    type: Literal["media"]
    audio: bool = True
    video: bool = True


class AdmitIn(_Msg):
    """Host: let a participant in from the lobby."""

    type: Literal["admit"]
    id: str


class RemoveIn(_Msg):
    """Host: put a participant out for good."""

    type: Literal["remove"]
    id: str


class RecordIn(_Msg):
    """Host: recording on or off."""

    type: Literal["record"]
    on: bool = False


PageInMsg = MediaIn | AdmitIn | RemoveIn | RecordIn
PageIn = Annotated[PageInMsg, Field(discriminator="type")]
PAGE_IN: TypeAdapter[PageInMsg] = TypeAdapter(PageIn, config=ADAPTER)
HostCommand = AdmitIn | RemoveIn | RecordIn


# -- out ----------------------------------------------------------------------------------------


class PeerRef(_Msg):
    id: str
    name: str
    label: str


class SlotView(_Msg):
    """One receive slot of the participant's connection and whose media it carries."""

    video_mid: str | None
    audio_mid: str | None
    peer: PeerRef | None


class MeView(_Msg):
    id: str
    name: str
    label: str
    host: bool
    admitted: bool
    removed: bool


class SessionRef(_Msg):
    id: str
    event_id: str


class ParticipantView(_Msg):
    id: str
    role: str
    label: str
    name: str
    admitted: bool
    online: bool
    media: str  # the room's connection state of this participant ('absent' if none)
    audio: bool
    video: bool


class JanusTicket(_Msg):
    """How an admitted participant joins the session's room on Janus (the session runs
    there): Janus's API, the room, its PIN, this participant's own token, the display
    (the participant's id) and fresh ICE servers."""

    janus_url: str
    room: int
    pin: str
    token: str
    display: str
    ice_servers: list[dict[str, object]]
    ice_policy: str = "all"


class StateOut(_Msg):
    type: Literal["state"] = "state"
    me: MeView
    session: SessionRef
    epoch: str  # the hub process: a page that sees it change rejoins at once
    participants: list[ParticipantView]
    recording: bool
    closed: bool
    slots: list[SlotView]
    engine: Literal["hub", "janus"] = "hub"
    janus: JanusTicket | None = None  # on Janus: this participant's ticket once admitted


class RemovedOut(_Msg):
    type: Literal["removed"] = "removed"
    id: str


class ClosedOut(_Msg):
    type: Literal["closed"] = "closed"
    outcome: str  # the outcome's label (达成协议 …)


class RecordingOut(_Msg):
    type: Literal["recording"] = "recording"
    on: bool


PageOut = StateOut | RemovedOut | ClosedOut | RecordingOut
