"""`JanusMedia`: the `MeetingMedia` engine on Janus's videoroom (issue 13).

One Janus session for the hub: an admin handle for the room requests, and per open room a
watcher handle that joins without publishing (who is in, their audio mids, who talks).
A supervisor waits for the session to be lost (Janus restarted, crashed, unreachable):
it starts the local Janus again when the engine runs one, waits until the API answers,
makes a new session and recreates every open room with the same number, PIN, secret and
tokens, then calls the `on_recreated` callbacks once per room. Pages and consoles notice
their own session is gone and rejoin with the same ticket and token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp

from dispatch.meetings.janus.client import NO_SUCH_ROOM, ROOM_EXISTS, RoomSpec, Videoroom
from dispatch.meetings.janus.process import JanusProcess
from dispatch.meetings.janus.roster import Roster
from dispatch.meetings.media import (
    MediaError,
    MediaUnavailable,
    Participant,
    RoomNotOpen,
    RoomTicket,
)
from streams.webrtc.config import IceServer
from streams.webrtc.janus_api import JanusError, JanusSession, PluginError

log = logging.getLogger(__name__)

WATCHER = "command-hall engine"


def new_room_id() -> int:
    return 100_000 + secrets.randbelow(2_000_000_000)


def new_pin() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class OpenRoom:
    meeting_key: str
    spec: RoomSpec
    own_token: str
    tokens: dict[str, str] = field(default_factory=dict)  # token → participant
    locked: bool = False
    roster: Roster = field(default_factory=Roster)
    watcher: int | None = None
    watch_task: asyncio.Task[None] | None = None

    def current_spec(self) -> RoomSpec:
        return replace(self.spec, allowed=(self.own_token, *self.tokens))


@dataclass(frozen=True)
class EngineSettings:
    api_url: str  # how the hub reaches Janus's API
    public_url: str  # how pages and consoles reach it (RoomTicket.janus_url)
    admin_key: str
    request_timeout_s: float = 10.0
    restart_backoff_s: float = 0.2


class JanusMedia:
    """Implements `dispatch.meetings.media.MeetingMedia`."""

    def __init__(
        self,
        settings: EngineSettings,
        *,
        process: JanusProcess | None = None,
        ice: Callable[[str], list[IceServer]] = lambda _name: [],
    ) -> None:
        self.settings = settings
        self.process = process
        self.ice = ice
        self.rooms: dict[str, OpenRoom] = {}
        self.recreations = 0
        self.last_error: str | None = None
        self._callbacks: list[Callable[[str], None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._session: JanusSession | None = None
        self._admin: Videoroom | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._http is not None:
            return
        if self.process is not None:
            await self.process.start()
        self._http = aiohttp.ClientSession()
        await self._connect()
        self._supervisor = asyncio.create_task(self._supervise(), name="janus-supervisor")

    async def stop(self) -> None:
        sup, self._supervisor = self._supervisor, None
        if sup is not None:
            sup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sup
        for key in list(self.rooms):
            with contextlib.suppress(MediaError, JanusError):
                await self.close_room(key)
        if self._session is not None:
            await self._session.destroy()
            self._session = None
        http, self._http = self._http, None
        if http is not None:
            await http.close()
        if self.process is not None:
            await self.process.stop()

    def on_recreated(self, cb: Callable[[str], None]) -> None:
        self._callbacks.append(cb)

    async def _connect(self) -> None:
        assert self._http is not None
        s = JanusSession(
            self._http, self.settings.api_url, timeout_s=self.settings.request_timeout_s
        )
        try:
            await s.create()
            handle = await s.attach()
        except JanusError as e:
            await s.close()
            raise MediaUnavailable(f"janus at {self.settings.api_url}: {e}") from e
        self._session = s
        self._admin = Videoroom(s, handle, self.settings.admin_key)

    # -- restart recovery ---------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            session = self._session
            if session is not None:
                await session.lost.wait()
            log.warning("janus session lost: recovering %d rooms", len(self.rooms))
            await self._recover()

    async def _recover(self) -> None:
        backoff = self.settings.restart_backoff_s
        while True:
            try:
                if self.process is not None and not self.process.running():
                    self.process.spawn()
                if await self._answers():
                    async with self._lock:
                        await self._connect()
                        keys = await self._recreate_all()
                    break
            except (MediaError, JanusError, OSError) as e:
                self.last_error = str(e)
                log.warning("janus recovery: %s", e)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
        self.recreations += 1
        for key in keys:
            for cb in self._callbacks:
                try:
                    cb(key)
                except Exception:
                    log.exception("on_recreated callback failed for %s", key)

    async def _answers(self) -> bool:
        assert self._http is not None
        try:
            async with self._http.get(
                f"{self.settings.api_url}/info", timeout=aiohttp.ClientTimeout(2)
            ) as r:
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _recreate_all(self) -> list[str]:
        done = []
        for room in list(self.rooms.values()):
            room.roster = Roster()
            if room.watch_task is not None:
                room.watch_task.cancel()
            await self._make(room, recreate=True)
            done.append(room.meeting_key)
        return done

    # -- rooms --------------------------------------------------------------------------

    def _videoroom(self) -> Videoroom:
        if self._admin is None or self._session is None or self._session.lost.is_set():
            raise MediaUnavailable("janus is not connected (restarting?)")
        return self._admin

    def _room(self, meeting_key: str) -> OpenRoom:
        room = self.rooms.get(meeting_key)
        if room is None:
            raise RoomNotOpen(f"no open room for meeting {meeting_key!r}")
        return room

    def ticket(self, room: OpenRoom) -> RoomTicket:
        return RoomTicket(
            meeting_key=room.meeting_key,
            room=room.spec.room,
            pin=room.spec.pin,
            janus_url=self.settings.public_url,
            ice_servers=self.ice(room.meeting_key),
        )

    async def _make(self, room: OpenRoom, *, recreate: bool) -> None:
        vr = self._videoroom()
        try:
            await vr.create(room.current_spec())
        except PluginError as e:
            if e.code != ROOM_EXISTS or not recreate:
                raise
        await self._watch(room)

    async def _watch(self, room: OpenRoom) -> None:
        session = self._session
        assert session is not None
        handle = await session.attach()
        room.watcher = handle
        body = {
            "request": "join",
            "ptype": "publisher",
            "room": room.spec.room,
            "pin": room.spec.pin,
            "token": room.own_token,
            "display": WATCHER,
        }
        data, _ = await session.request(handle, body)
        room.roster.apply(data)
        room.watch_task = asyncio.create_task(self._follow(room, session, handle))

    async def _follow(self, room: OpenRoom, session: JanusSession, handle: int) -> None:
        q = session.events(handle)
        while True:
            ev = await q.get()
            if ev.kind == "lost":
                return
            if ev.kind == "event":
                room.roster.apply(ev.data)

    async def open_room(
        self,
        meeting_key: str,
        *,
        title: str,
        max_publishers: int,
        record_dir: Path | None,
        recording: bool = True,
    ) -> RoomTicket:
        """`recording`: with `record_dir`, Janus records from the start (else only
        after `set_recording(key, True)`)."""
        async with self._lock:
            if meeting_key in self.rooms:
                return self.ticket(self.rooms[meeting_key])
            if record_dir is not None:
                record_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            spec = RoomSpec(
                room=new_room_id(),
                pin=new_pin(),
                secret=secrets.token_urlsafe(18),
                title=title,
                max_publishers=max(1, max_publishers) + 1,
                record_dir=record_dir,
                allowed=(),
                record=recording,
            )
            room = OpenRoom(meeting_key, spec, own_token=new_token())
            try:
                await self._make(room, recreate=False)
            except JanusError as e:
                raise MediaError(f"room for {meeting_key!r}: {e}") from e
            self.rooms[meeting_key] = room
            return self.ticket(room)

    async def close_room(self, meeting_key: str) -> None:
        async with self._lock:
            room = self.rooms.pop(meeting_key, None)
            if room is None:
                return
            if room.watch_task is not None:
                room.watch_task.cancel()
            try:
                await self._videoroom().destroy(room.spec.room, room.spec.secret)
            except PluginError as e:
                if e.code != NO_SUCH_ROOM:
                    raise MediaError(str(e)) from e
            except (MediaUnavailable, JanusError) as e:
                log.warning("close_room %s: %s (room forgotten)", meeting_key, e)
            if room.watcher is not None and self._session is not None:
                with contextlib.suppress(JanusError):
                    await self._session.detach(room.watcher)

    async def admit(self, meeting_key: str, participant: str) -> str:
        room = self._room(meeting_key)
        if room.locked:
            raise MediaError(f"meeting {meeting_key!r} is locked")
        token = new_token()
        await self._ask(self._videoroom().allowed(room.spec.room, room.spec.secret, "add", [token]))
        room.tokens[token] = participant
        return token

    async def revoke(self, meeting_key: str, token: str) -> None:
        room = self._room(meeting_key)
        if room.tokens.pop(token, None) is None:
            return
        await self._ask(
            self._videoroom().allowed(room.spec.room, room.spec.secret, "remove", [token])
        )

    async def set_muted(self, meeting_key: str, feed: int, muted: bool) -> None:
        room = self._room(meeting_key)
        member = room.roster.members.get(feed)
        if member is None:
            raise MediaError(f"no participant {feed} in meeting {meeting_key!r}")
        vr = self._videoroom()
        for mid in member.audio_mids:
            await self._ask(vr.moderate(room.spec.room, room.spec.secret, feed, mid, muted))
        if muted:
            room.roster.muted.add(feed)
        else:
            room.roster.muted.discard(feed)

    async def kick(self, meeting_key: str, feed: int) -> None:
        room = self._room(meeting_key)
        await self._ask(self._videoroom().kick(room.spec.room, room.spec.secret, feed))
        room.roster.members.pop(feed, None)

    async def set_recording(self, meeting_key: str, on: bool) -> None:
        """Janus's recorder on or off for every publisher (the room needs a record_dir);
        a room recreated after a restart keeps the state."""
        room = self._room(meeting_key)
        vr = self._videoroom()
        await self._ask(vr.enable_recording(room.spec.room, room.spec.secret, on))
        room.spec = replace(room.spec, record=on)

    async def set_locked(self, meeting_key: str, locked: bool) -> None:
        self._room(meeting_key).locked = locked

    async def participants(self, meeting_key: str) -> list[Participant]:
        return self._room(meeting_key).roster.participants()

    async def _ask(self, request: Awaitable[None]) -> None:
        try:
            await request
        except JanusError as e:
            raise MediaError(str(e)) from e
