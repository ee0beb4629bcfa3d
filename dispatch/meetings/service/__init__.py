"""The hub's meetings service (issue 13): plan, open and end video meetings of the county
with its townships and villages on the media engine (Janus), invitations on the duty
stations' pages, the floor, raised hands, mute, remove, lock, and the meeting's log.

`MeetingsService` composes the parts, each one concept, sharing one `Board`:

- `board` — the live meetings, their logs and room state, the published `seq`;
- `pages` — the stations' meeting sockets (invitations, tickets, the floor);
- `room` — the engine's rooms (open, close with the recording, tokens, mutes, kick, lock,
  the participants' poll);
- `requests` — the console's zmq operations.

The station's side (`station_message`: join, hand, leave) is here: it is the one place
where a page changes a meeting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.meetings import core as mc
from dispatch.meetings.media import MediaError, MediaUnavailable
from dispatch.meetings.messages import (
    MeetFloor,
    MeetGone,
    MeetHand,
    MeetingsReply,
    MeetingsRequestBase,
    MeetJoin,
    MeetLeave,
    MeetOut,
    MeetRefused,
    MeetTicket,
)
from dispatch.meetings.service.board import Board, Live
from dispatch.meetings.service.pages import Pages, Push, floor_msg
from dispatch.meetings.service.requests import Requests
from dispatch.meetings.service.room import Finisher, Media, RoomDesk
from dispatch.meetings.service.views import names
from dispatch.rollcall.core import roster_from_site
from dispatch.rollcall.service.state import Db
from streams.webrtc.config import IceSource

__all__ = ["Media", "MeetingsService"]

log = logging.getLogger(__name__)
NO_INVITATION = "没有该会议邀请 / no such invitation"


class MeetingsService:
    def __init__(
        self,
        hub: HubService,
        site: Site | None,
        *,
        clock: Callable[[], datetime],
        ice: IceSource,
        media: Media | None,
        record_root: Path,
        finish: Finisher | None = None,
        publish: Callable[[bytes], None] | None = None,
        poll_s: float = 1.0,
    ) -> None:
        self.clock = clock
        self.ice = ice
        roster = roster_from_site(site) if site is not None else []
        self.board = Board(roster, Db(hub), clock=clock, publish=publish)
        self.pages = Pages(self.board, clock=clock)
        self.room = RoomDesk(
            self.board, media, record_root=record_root, finish=finish, poll_s=poll_s
        )
        self.requests = Requests(self.board, self.room, ice)
        self._names = names(self.board.centres)
        self._started = False
        self.janus_origin: str | None = None  # the pages' way to Janus (their CSP allows it)

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.board.load()
        if self.room.media is not None:
            self.room.media.on_recreated(self._recreated)
        await self.room.start()

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        await self.room.stop()

    def _recreated(self, meeting_key: str) -> None:
        """The engine made a room again (Janus restarted): its feeds are new."""
        lv = self.board.live.get(meeting_key)
        if lv is not None:
            lv.feeds = {}
            self.room.forget_feeds(meeting_key)
            log.warning("meeting %s: its room was recreated by the engine", meeting_key)

    async def handle(self, session: Session, req: MeetingsRequestBase) -> MeetingsReply:
        """The reply to one meetings request (a refused one raises `HubError`)."""
        try:
            return await self.requests.handlers()[type(req)](session, req)
        except mc.MeetingError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None
        except MediaUnavailable as exc:
            raise HubError(ErrorCode.BUSY, f"视频会议服务暂不可用 / {exc}") from None
        except MediaError as exc:
            raise HubError(ErrorCode.CONFLICT, f"视频会议服务出错 / {exc}") from None

    # -- the stations' side -----------------------------------------------------------------
    def station_connected(self, centre: str, push: Push) -> None:
        self.pages.connected(centre, push)

    async def station_disconnected(self, centre: str, push: Push) -> None:
        """The last meeting page of a station closed: it left every open meeting."""
        if not self.pages.disconnected(centre, push):
            return
        for lv in list(self.board.live.values()):
            await self._leave(lv, centre)

    async def station_message(self, centre: str, msg: MeetJoin | MeetHand | MeetLeave) -> MeetOut:
        """A station's page asks to join, raises its hand or leaves; the answer for it."""
        lv = self.board.live.get(msg.meeting_id)
        if lv is None or centre not in lv.meeting.invited:
            return MeetRefused(
                meeting_id=msg.meeting_id, message="没有该会议邀请 / no such invitation"
            )
        try:
            if isinstance(msg, MeetJoin):
                return await self._join(lv, centre)
            if isinstance(msg, MeetHand):
                return await self._hand(lv, centre)
            await self._leave(lv, centre)
            return MeetGone(meeting_id=lv.meeting.id, reason="left")
        except (mc.MeetingError, HubError, MediaError) as exc:
            text = exc.message if isinstance(exc, HubError) else str(exc)
            return MeetRefused(meeting_id=msg.meeting_id, message=text)

    async def _join(self, lv: Live, centre: str) -> MeetTicket:
        async with self.board.lock:
            mc.may_join(lv.meeting, lv.log, centre, self.clock())
            token = await self.room.admit(lv, centre)
            ticket = self.room.tickets[lv.meeting.id]
            here = mc.attendance(lv.meeting, lv.log, self.clock()).present
            if centre not in here:
                await self.board.write(lv, lv.meeting, [mc.LogEntry(self.clock(), "join", centre)])
        self.board.changed(lv)
        ice = self.ice(f"station-{centre}").browser()
        return MeetTicket(
            meeting_id=lv.meeting.id,
            janus_url=ticket.janus_url,
            room=ticket.room,
            pin=ticket.pin,
            token=token,
            display=centre,
            ice_servers=list(ice["iceServers"]),  # type: ignore[call-overload]
            ice_policy=str(ice["iceTransportPolicy"]),
        )

    async def _hand(self, lv: Live, centre: str) -> MeetFloor:
        async with self.board.lock:
            mc.need_open(lv.meeting)
            await self.board.write(lv, lv.meeting, [mc.LogEntry(self.clock(), "hand", centre)])
        self.board.changed(lv)
        return floor_msg(lv, centre, self._names, self.clock())

    async def _leave(self, lv: Live, centre: str) -> None:
        async with self.board.lock:
            if lv.meeting.status != "open":
                return
            if centre not in mc.attendance(lv.meeting, lv.log, self.clock()).present:
                return
            await self.room.revoke(lv, centre)
            await self.board.write(lv, lv.meeting, [mc.LogEntry(self.clock(), "leave", centre)])
        self.board.changed(lv)
