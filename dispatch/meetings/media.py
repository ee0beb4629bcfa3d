"""The meetings feature's media engine, as the feature sees it (issue 13).

The feature (service, store, pages, console) asks for a room per meeting, admits and
revokes participants by token, and moderates (mute, kick, lock). It never talks to Janus
itself: `dispatch.meetings.janus.rooms.JanusMedia` implements `MeetingMedia`, and unit
tests of the feature's pure logic may use a fake of it.

- `RoomTicket`: what pages and the console need to join: the room number, its PIN, the
  URL of Janus's HTTP API as *they* reach it, and the ICE servers (TURN credentials).
  The room's secret never leaves the engine.
- `admit()` returns a per-participant token (the videoroom's `allowed` list): a page
  joins with PIN + token; `revoke()` takes it back (on leave or removal).
- `on_recreated(cb)`: after Janus restarted, the engine re-made every open room with the
  same number, PIN, secret and tokens, then calls `cb(meeting_key)` once per room; the
  pages and the console rejoin by themselves (their Janus session was lost).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from streams.webrtc.config import IceServer


class MediaError(RuntimeError):
    """The media engine could not do what was asked (message says what and why)."""


class RoomNotOpen(MediaError):
    """No open room for this meeting key (never opened, or closed)."""


class MediaUnavailable(MediaError):
    """Janus does not answer (down, restarting, unreachable); try again later."""


@dataclass(frozen=True)
class RoomTicket:
    meeting_key: str
    room: int
    pin: str
    janus_url: str  # Janus's HTTP API, as pages and consoles reach it
    ice_servers: list[IceServer] = field(default_factory=list)

    def browser(self) -> dict[str, object]:
        """The part of the ticket a page gets (plus its own token from `admit`)."""
        return {
            "janusUrl": self.janus_url,
            "room": self.room,
            "pin": self.pin,
            "iceServers": [s.as_dict() for s in self.ice_servers],
        }


@dataclass(frozen=True)
class Participant:
    feed: int  # Janus's publisher id in the room (what set_muted / kick take)
    display: str
    talking: bool = False  # Janus's audio-level event, last seen
    publishing: bool = False  # has media flowing into the room
    muted: bool = False  # audio muted by the moderator (set_muted)


class MeetingMedia(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def open_room(
        self,
        meeting_key: str,
        *,
        title: str,
        max_publishers: int,
        record_dir: Path | None,
    ) -> RoomTicket:
        """Create the meeting's room (PIN and secret generated); opening an open room
        again returns its ticket."""
        ...

    async def close_room(self, meeting_key: str) -> None:
        """Destroy the room (safe when it is not open)."""
        ...

    async def admit(self, meeting_key: str, participant: str) -> str:
        """A fresh token for this participant, added to the room's allowed list."""
        ...

    async def revoke(self, meeting_key: str, token: str) -> None: ...

    async def set_muted(self, meeting_key: str, feed: int, muted: bool) -> None: ...

    async def kick(self, meeting_key: str, feed: int) -> None: ...

    async def set_locked(self, meeting_key: str, locked: bool) -> None:
        """Locked: nobody new is admitted (tokens minted before still join)."""
        ...

    async def participants(self, meeting_key: str) -> list[Participant]: ...

    def on_recreated(self, cb: Callable[[str], None]) -> None: ...


@dataclass(frozen=True)
class RecordingCut:
    """How a meeting's MP4 follows its floor: who each recorded feed is (feed → display:
    the convenor `hall` or a centre's id; every feed the room ever had, a rejoin makes a
    new one) and the floor's changes in order as (wall-clock seconds, the centre with the
    floor, or None when it was taken back)."""

    names: Mapping[int, str]
    floor: Sequence[tuple[float, str | None]] = ()
    convenor: str = "hall"

    def speaker_at(self, t: float) -> str | None:
        """The centre that has the floor at wall-clock second `t` (None: nobody)."""
        i = bisect.bisect_right([at for at, _ in self.floor], t)
        return self.floor[i - 1][1] if i else None
