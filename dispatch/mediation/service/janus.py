"""A mediation session placed on Janus (issue 13, item 6): its room on the meetings'
engine, one token per admitted participant, Janus's recorder, and the MP4 at the end.

The people using it see no difference: the same links, PIN, lobby and outcome. Only the
media differ: an admitted participant's `state` carries a `JanusTicket` (room, PIN, its
own token, display = its participant id) and the page joins the room through
`janus-room.js` instead of offering to the hub's star. A participant removed → its token
revoked and its feed kicked; the session closed → the room destroyed and the recording
(`finish_recording`: the console's picture and every voice) filed like the star's.
A Janus restart is the engine's business: it recreates the room with the same number,
PIN and tokens, and the pages and the console rejoin by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.mediation.core import Participant
from dispatch.mediation.messages import JanusTicket, RecordingOut
from dispatch.meetings.media import MediaError, RoomTicket
from dispatch.meetings.media import Participant as Feed
from streams.private import private_dir
from streams.webrtc.config import IcePlan

log = logging.getLogger(__name__)
HOST = "host"  # the console's participant id (its display in the room)

Finish = Callable[[Path, int | None], tuple[Path, str]]  # .mjr folder, speaker → (mp4, sha)


class JanusEngine(Protocol):
    """What mediation needs of the meetings' engine (`JanusMedia`)."""

    async def open_room(
        self,
        meeting_key: str,
        *,
        title: str,
        max_publishers: int,
        record_dir: Path | None,
        recording: bool = True,
    ) -> RoomTicket: ...

    async def close_room(self, meeting_key: str) -> None: ...

    async def admit(self, meeting_key: str, participant: str) -> str: ...

    async def revoke(self, meeting_key: str, token: str) -> None: ...

    async def kick(self, meeting_key: str, feed: int) -> None: ...

    async def participants(self, meeting_key: str) -> list[Feed]: ...

    async def set_recording(self, meeting_key: str, on: bool) -> None: ...


@dataclass
class JanusSide:
    """A session's room on Janus."""

    ticket: RoomTicket
    folder: Path  # where Janus writes the .mjr files
    tokens: dict[str, str] = field(default_factory=dict)  # participant id → its token
    recording: bool = False
    feeds: dict[str, bool] = field(default_factory=dict)  # participant id → publishing


class JanusRooms:
    """The Janus rooms of mediation sessions; `media` and `finish` are set by the hub
    once its engine exists (`[janus]`), else None: no session goes to Janus."""

    def __init__(self, record_dir: Path, broadcast: Callable[[str, RecordingOut], None]) -> None:
        self.record_dir = record_dir
        self.media: JanusEngine | None = None
        self.finish: Finish | None = None
        self._broadcast = broadcast

    def available(self) -> bool:
        return self.media is not None

    def _need(self) -> JanusEngine:
        if self.media is None:
            raise HubError(ErrorCode.CONFLICT, "未配置 Janus / no Janus engine")
        return self.media

    async def open(self, sid: str, title: str, parties: int) -> JanusSide:
        media = self._need()
        folder = private_dir(self.record_dir / f"{sid}-janus")
        try:
            ticket = await media.open_room(
                sid, title=title, max_publishers=parties, record_dir=folder, recording=False
            )
        except MediaError as e:
            raise HubError(
                ErrorCode.BUSY, f"Janus 视频会议服务不可用 / Janus unavailable: {e}"
            ) from e
        return JanusSide(ticket, folder)

    async def admit(self, sid: str, side: JanusSide, p: Participant) -> None:
        """A token for an admitted participant (once; a rejoin reuses it)."""
        if p.id in side.tokens:
            return
        try:
            side.tokens[p.id] = await self._need().admit(sid, p.id)
        except MediaError as e:
            raise HubError(ErrorCode.BUSY, f"Janus: {e}") from e

    async def remove(self, sid: str, side: JanusSide, p: Participant) -> None:
        """Token revoked (a later join is refused, 433) and its feeds kicked."""
        media = self._need()
        token = side.tokens.pop(p.id, None)
        try:
            if token is not None:
                await media.revoke(sid, token)
            for feed in await media.participants(sid):
                if feed.display == p.id:
                    await media.kick(sid, feed.feed)
        except MediaError as e:
            log.warning("mediation %s: removing %s on Janus: %s", sid, p.id, e)

    async def record(self, sid: str, side: JanusSide, on: bool) -> None:
        if side.recording == on:
            return
        try:
            await self._need().set_recording(sid, on)
        except MediaError as e:
            raise HubError(ErrorCode.BUSY, f"Janus 录像 / recording: {e}") from e
        side.recording = on
        self._broadcast(sid, RecordingOut(on=on))

    async def refresh(self, sid: str, side: JanusSide) -> bool:
        """Who publishes in the room now (the pages' media state); True if it changed."""
        try:
            feeds = await self._need().participants(sid)
        except (MediaError, HubError):
            return False
        now = {f.display: f.publishing for f in feeds}
        changed, side.feeds = now != side.feeds, now
        return changed

    async def close(self, sid: str, side: JanusSide, number: int) -> Path | None:
        """Room destroyed (every token with it); the recording made into
        `<session>-<number>.mp4` beside the star's files (None: nothing recorded)."""
        media = self._need()
        speaker = None  # the console's picture (the mediator's), while its feed is known
        with contextlib.suppress(MediaError):
            speaker = next(
                (f.feed for f in await media.participants(sid) if f.display == HOST), None
            )
        try:
            await media.close_room(sid)
        except MediaError as e:
            log.warning("mediation %s: closing its Janus room: %s", sid, e)
        side.tokens.clear()
        if self.finish is None or not any(side.folder.glob("*.mjr")):
            return None
        try:
            mp4, _sha = await asyncio.to_thread(self.finish, side.folder, speaker)
        except Exception:
            log.exception("mediation %s: the Janus recording could not be finished", sid)
            return None
        target = self.record_dir / f"{sid}-{number}.mp4"
        await asyncio.to_thread(shutil.move, mp4, target)
        return target

    @staticmethod
    def ticket(side: JanusSide, p: Participant, ice: IcePlan) -> JanusTicket | None:
        token = side.tokens.get(p.id)
        if token is None or not p.admitted or p.removed:
            return None
        browser = ice.browser()
        servers = browser["iceServers"]
        return JanusTicket(
            janus_url=side.ticket.janus_url,
            room=side.ticket.room,
            pin=side.ticket.pin,
            token=token,
            display=p.id,
            ice_servers=list(servers) if isinstance(servers, list) else [],
            ice_policy=str(browser["iceTransportPolicy"]),
        )
