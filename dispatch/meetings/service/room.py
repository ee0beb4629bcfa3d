"""The meetings' media rooms through the engine (`MeetingMedia`, Janus): open and close a
room per open meeting, a token per participant, the floor's mutes, remove, lock, and a
poll of the room's participants (feed ids, who is talking) that keeps the board's view.

The engine names each participant by its display: the centre id, or `HALL` for the
convenor's console. A feed that appears is given the mute the convenor set for its
centre (a station that joins while another has the floor is muted at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.meetings import core as mc
from dispatch.meetings.media import MeetingMedia, RecordingCut, RoomTicket
from dispatch.meetings.service.board import Board, Live

log = logging.getLogger(__name__)


Media = MeetingMedia

Finisher = Callable[[Path, RecordingCut], tuple[Path, str]]
"""A room's recording folder and how to cut it (every feed's name, the floor's changes)
→ (the MP4, its SHA-256)."""

NO_ENGINE = "未配置视频会议服务 / no meeting media engine is configured"


class RoomDesk:
    def __init__(
        self,
        board: Board,
        media: Media | None,
        *,
        record_root: Path,
        finish: Finisher | None = None,
        poll_s: float = 1.0,
    ) -> None:
        self.board = board
        self.media = media
        self.record_root = record_root
        self.finish = finish
        self.poll_s = poll_s
        self.tickets: dict[str, RoomTicket] = {}
        self._applied: dict[str, dict[int, bool]] = {}  # meeting → feed → muted as set
        self._names: dict[str, dict[int, str]] = {}  # meeting → every feed seen → display
        self._task: asyncio.Task[None] | None = None

    def need_media(self) -> Media:
        if self.media is None:
            raise HubError(ErrorCode.CONFLICT, NO_ENGINE)
        return self.media

    def record_dir(self, meeting_id: str) -> Path:
        return self.record_root / meeting_id

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is not None or self.media is None:
            return
        await self.media.start()
        self._task = asyncio.create_task(self._poll(), name="meetings-poll")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if self.media is not None:
                await self.media.stop()

    # -- rooms ------------------------------------------------------------------------------
    async def open(self, lv: Live) -> RoomTicket:
        media = self.need_media()
        m = lv.meeting
        rec = self.record_dir(m.id)
        await asyncio.to_thread(rec.mkdir, parents=True, exist_ok=True)
        ticket = await media.open_room(
            m.id, title=m.title, max_publishers=len(m.invited) + 1, record_dir=rec
        )
        self.tickets[m.id] = ticket
        return ticket

    async def ensure_open(self, lv: Live) -> RoomTicket:
        """The open meeting's ticket (its room made again after a hub restart)."""
        t = self.tickets.get(lv.meeting.id)
        return t if t is not None else await self.open(lv)

    async def close(self, lv: Live) -> tuple[str | None, str | None]:
        """Close the room; the recording's file name and SHA-256 when there is one."""
        mid = lv.meeting.id
        self.tickets.pop(mid, None)
        self._applied.pop(mid, None)
        names = self._names.pop(mid, {})
        if self.media is None:
            return None, None
        await self.media.close_room(mid)
        rec = self.record_dir(mid)
        if self.finish is None or not await asyncio.to_thread(_has_files, rec):
            return None, None
        floor = [(at.timestamp(), c) for at, c in mc.floor_changes(lv.log)]
        cut = RecordingCut(names=names, floor=floor, convenor=mc.HALL)
        try:
            mp4, sha = await asyncio.to_thread(self.finish, rec, cut)
        except Exception:
            log.exception("meeting %s: the recording could not be finished", mid)
            return None, None
        return mp4.name, sha

    async def admit(self, lv: Live, who: str) -> str:
        media = self.need_media()
        await self.ensure_open(lv)
        old = lv.tokens.get(who)
        if old is not None:
            return old
        token = await media.admit(lv.meeting.id, who)
        lv.tokens[who] = token
        return token

    async def revoke(self, lv: Live, who: str) -> None:
        token = lv.tokens.pop(who, None)
        if token is not None and self.media is not None:
            await self.media.revoke(lv.meeting.id, token)

    async def kick(self, lv: Live, centre: str) -> None:
        media = self.need_media()
        for feed in [f for f, c in lv.feeds.items() if c == centre]:
            await media.kick(lv.meeting.id, feed)
            lv.feeds.pop(feed, None)
        await self.revoke(lv, centre)

    async def set_locked(self, lv: Live, locked: bool) -> None:
        await self.need_media().set_locked(lv.meeting.id, locked)

    def forget_feeds(self, meeting_id: str) -> None:
        """The room was re-made: every feed's mute is set again when it appears."""
        self._applied.pop(meeting_id, None)

    async def apply_mutes(self, lv: Live) -> None:
        """Every feed muted as `lv.muted` says (only the feeds whose state differs), the
        one that may speak first, all requests at once; the first error is raised after
        the others were tried."""
        media = self.media
        if media is None:
            return
        key = lv.meeting.id
        applied = self._applied.setdefault(key, {})
        todo = [
            (feed, centre in lv.muted and centre != mc.HALL)
            for feed, centre in list(lv.feeds.items())
        ]
        todo = sorted((fw for fw in todo if applied.get(fw[0]) is not fw[1]), key=lambda fw: fw[1])

        async def one(feed: int, want: bool) -> None:
            await media.set_muted(key, feed, want)
            applied[feed] = want

        res = await asyncio.gather(*(one(f, w) for f, w in todo), return_exceptions=True)
        for r in res:
            if isinstance(r, BaseException):
                raise r

    async def apply_mutes_soon(self, lv: Live) -> None:
        """`apply_mutes` after the change was written and the stations told: an engine
        error is logged (the room's poll sets the mutes again within `poll_s`)."""
        try:
            await self.apply_mutes(lv)
        except Exception as exc:
            log.warning("meeting %s: mutes not all set (%s), set again", lv.meeting.id, exc)

    async def sync(self, lv: Live) -> bool:
        """Read the room's participants; True when the feeds or the talkers changed."""
        if self.media is None or lv.meeting.id not in self.tickets:
            return False
        parts = await self.media.participants(lv.meeting.id)
        feeds = {p.feed: p.display for p in parts}
        self._names.setdefault(lv.meeting.id, {}).update(feeds)
        talking = {p.display for p in parts if p.talking}
        changed = feeds != lv.feeds or talking != lv.talking
        lv.feeds, lv.talking = feeds, talking
        await self.apply_mutes(lv)
        return changed

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            for lv in list(self.board.live.values()):
                if lv.meeting.status != "open":
                    continue
                try:
                    if await self.sync(lv):
                        self.board.changed(lv)
                except Exception as exc:  # the engine down: tried again at the next poll
                    log.info("meeting %s: participants not read (%s)", lv.meeting.id, exc)


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())
