"""The reply and published unions a client decodes, assembled from the features'
messages (the requests' side is the hub's handler registry)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from dispatch.domain.strict import ADAPTER
from dispatch.domain.wire import ErrorReply, OkReply, decode_with
from dispatch.events.messages import (
    ActReply,
    EventChanged,
    EventsReply,
    RevealReply,
    SnapshotReply,
    TimelineReply,
)
from dispatch.hub.messages import Heartbeat, IceReply, LoginReply, PongReply
from dispatch.mediation.messages import MediationReply
from dispatch.meetings.messages import MeetingChanged, MeetingsReply
from dispatch.patrol.messages import CameraHealthReply, CameraHistoryReply
from dispatch.platform.messages import (
    PlatformStreamReply,
    PlatformTreeChanged,
    PlatformTreesReply,
)
from dispatch.positions.messages import LeaderPositionChanged, LeaderPositionsReply
from dispatch.ptz.messages import PtzHoldChanged, PtzHoldReply, PtzHoldsReply, PtzLogReply
from dispatch.relays.messages import RelayStatesChanged, RelayStatesReply
from dispatch.reports.messages import HotspotsReply, ReportReply
from dispatch.rollcall.messages import RollcallChanged, RollcallReply
from dispatch.tasks.messages import (
    AttachmentReply,
    DispatchPreviewReply,
    EvidenceBeginReply,
    EvidenceChunkReply,
    PhoneLinkReply,
    TaskChanged,
    TaskReply,
    TasksReply,
)

Reply = Annotated[
    LoginReply
    | IceReply
    | OkReply
    | ActReply
    | TimelineReply
    | SnapshotReply
    | PongReply
    | ErrorReply
    | EventsReply
    | RevealReply
    | DispatchPreviewReply
    | TaskReply
    | TasksReply
    | AttachmentReply
    | EvidenceBeginReply
    | EvidenceChunkReply
    | PhoneLinkReply
    | MediationReply
    | RollcallReply
    | MeetingsReply
    | ReportReply
    | HotspotsReply
    | CameraHealthReply
    | CameraHistoryReply
    | LeaderPositionsReply
    | RelayStatesReply
    | PlatformTreesReply
    | PlatformStreamReply
    | PtzHoldReply
    | PtzHoldsReply
    | PtzLogReply,
    Field(discriminator="type"),
]

Published = Annotated[
    EventChanged
    | Heartbeat
    | TaskChanged
    | RollcallChanged
    | MeetingChanged
    | LeaderPositionChanged
    | RelayStatesChanged
    | PtzHoldChanged
    | PlatformTreeChanged,
    Field(discriminator="type"),
]

_replies: TypeAdapter[Reply] = TypeAdapter(Reply, config=ADAPTER)
_published: TypeAdapter[Published] = TypeAdapter(Published, config=ADAPTER)


def decode_reply(frame: bytes) -> Reply:
    return decode_with(_replies, frame)


def decode_published(frame: bytes) -> Published:
    return decode_with(_published, frame)
