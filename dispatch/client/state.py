"""What a client tells its owner about the connection and its view of events (plain
values, no I/O): the connection state, and an event gone without a final change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dispatch.hub.messages import StorageState


class ConnectionStatus(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"
    REFUSED = "refused"  # the hub refused this workstation's key (detail: what to do)


@dataclass(frozen=True)
class ConnectionState:
    status: ConnectionStatus
    lost_at: datetime | None = None  # when the hub was last heard of, for LOST
    detail: str = ""
    # the hub's store as its last heartbeat said (`dispatch.hub.storage`): not "ok", the
    # hub takes no writes (intake refused with 503, actions refused as busy)
    hub_storage: StorageState = "ok"


@dataclass(frozen=True)
class EventRemoved:
    """Client side: an event left the client's view and the hub has no record of it, so
    there is no final `EventChanged` to deliver (an archived event that the hub still
    has is delivered as an `EventChanged` in state archived instead)."""

    event_id: str
    seq: int  # the client's seq when it learned it
