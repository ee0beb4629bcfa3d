"""The console's meeting requests over zmq, one handler per request type.

Each handler takes the caller's session and its own request type and returns its own
reply type; `handlers()` lists them for the hub's handler registry. Every change is
written (the meeting's row and its log rows, through the hub's single writer) before it
is published and before the stations are told. The floor's mutes go to the engine right
after the stations are told, all at once (`RoomDesk.apply_mutes_soon`): the pages switch
their floor picture while Janus mutes; a mute the engine missed is set again by the
room's poll.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from dispatch.hub.auth import Session
from dispatch.hub.turn import console_ice_name, ice_info
from dispatch.meetings import core as mc
from dispatch.meetings import store as ms
from dispatch.meetings.messages import (
    MeetingInfo,
    MeetingsCancelReply,
    MeetingsCancelRequest,
    MeetingsCentresReply,
    MeetingsCentresRequest,
    MeetingsCreateReply,
    MeetingsCreateRequest,
    MeetingsEndReply,
    MeetingsEndRequest,
    MeetingsFloorReply,
    MeetingsFloorRequest,
    MeetingsGetReply,
    MeetingsGetRequest,
    MeetingsJoinReply,
    MeetingsJoinRequest,
    MeetingsKickReply,
    MeetingsKickRequest,
    MeetingsListReply,
    MeetingsListRequest,
    MeetingsLockReply,
    MeetingsLockRequest,
    MeetingsMinutesReply,
    MeetingsMinutesRequest,
    MeetingsMuteAllReply,
    MeetingsMuteAllRequest,
    MeetingsOpenReply,
    MeetingsOpenRequest,
    MeetingsReply,
    MeetingsRequestBase,
    MeetingsUnmuteReply,
    MeetingsUnmuteRequest,
    TicketInfo,
)
from dispatch.meetings.service.board import Board, Live
from dispatch.meetings.service.room import RoomDesk
from dispatch.meetings.service.views import invitee, log_info
from dispatch.rollcall.core import local_day, week_start
from streams.webrtc.config import IceSource

Handler = Callable[[Session, Any], Awaitable[MeetingsReply]]


class Requests:
    def __init__(self, board: Board, room: RoomDesk, ice: IceSource) -> None:
        self.board = board
        self.room = room
        self.ice = ice

    def handlers(self) -> dict[type[MeetingsRequestBase], Handler]:
        return {
            MeetingsCentresRequest: self.centres,
            MeetingsCreateRequest: self.create,
            MeetingsListRequest: self.list,
            MeetingsGetRequest: self.get,
            MeetingsOpenRequest: self.open,
            MeetingsEndRequest: self.end,
            MeetingsCancelRequest: self.cancel,
            MeetingsJoinRequest: self.join,
            MeetingsFloorRequest: self.floor,
            MeetingsMuteAllRequest: self.mute_all,
            MeetingsUnmuteRequest: self.unmute,
            MeetingsKickRequest: self.kick,
            MeetingsLockRequest: self.lock,
            MeetingsMinutesRequest: self.minutes,
        }

    @property
    def now(self) -> datetime:
        return self.board.clock()

    def _entry(self, kind: mc.Kind, centre: str = "", detail: str = "") -> mc.LogEntry:
        return mc.LogEntry(self.board.clock(), kind, centre, detail)

    async def _step(
        self, lv: Live, m: mc.Meeting, entries: list[mc.LogEntry]
    ) -> tuple[int, MeetingInfo]:
        await self.board.write(lv, m, entries)
        info = self.board.changed(lv)
        return self.board.seq, info

    # -- planning ---------------------------------------------------------------------------
    async def centres(self, _s: Session, req: MeetingsCentresRequest) -> MeetingsCentresReply:
        return MeetingsCentresReply(rid=req.rid, centres=[invitee(c) for c in self.board.roster])

    async def create(self, session: Session, req: MeetingsCreateRequest) -> MeetingsCreateReply:
        plan = mc.Plan(req.title, session.operator, tuple(req.invited), req.start_at, req.agenda)
        now = self.now
        plan = mc.validate_plan(plan, self.board.roster, now)
        m = mc.new_meeting(f"mt-{secrets.token_hex(6)}", plan, now)
        await self.board.db.write(lambda conn: ms.insert_meeting(conn, m))
        lv = Live(m)
        self.board.live[m.id] = lv
        info = self.board.changed(lv)
        return MeetingsCreateReply(rid=req.rid, seq=self.board.seq, meeting=info)

    async def list(self, _s: Session, req: MeetingsListRequest) -> MeetingsListReply:
        week = req.week or week_start(local_day(self.now))
        start, end = mc.week_bounds(week)
        rows = await self.board.db.read(lambda eng: ms.between(eng, start, end))
        ids = [m.id for m in rows if m.id not in self.board.live]
        logs = await self.board.db.read(lambda eng: ms.logs_of(eng, ids))
        out = [self.board.info(m, logs[m.id]) for m in rows if m.id in logs]
        out += [self.board.live_info(lv) for lv in self.board.live.values()]
        out.sort(key=lambda i: (i.start_at, i.id))
        return MeetingsListReply(rid=req.rid, seq=self.board.seq, meetings=out)

    async def get(self, _s: Session, req: MeetingsGetRequest) -> MeetingsGetReply:
        m, log = await self.board.meeting(req.meeting_id)
        centres = self.board.centres
        return MeetingsGetReply(
            rid=req.rid,
            seq=self.board.seq,
            meeting=self.board.info(m, log),
            log=[log_info(e, centres) for e in log],
        )

    async def minutes(self, _s: Session, req: MeetingsMinutesRequest) -> MeetingsMinutesReply:
        async with self.board.lock:
            m, log = await self.board.meeting(req.meeting_id)
            lv = self.board.live.get(m.id) or Live(m, log)
            m2 = mc.replace_minutes(m, req.minutes)
            seq, info = await self._step(lv, m2, [])
        return MeetingsMinutesReply(rid=req.rid, seq=seq, meeting=info)

    # -- the meeting's life -----------------------------------------------------------------
    async def open(self, _s: Session, req: MeetingsOpenRequest) -> MeetingsOpenReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            m = mc.advance(lv.meeting, "open", self.now)
            await self.room.open(lv)
            seq, info = await self._step(lv, m, [self._entry("open")])
        return MeetingsOpenReply(rid=req.rid, seq=seq, meeting=info)

    async def end(self, _s: Session, req: MeetingsEndRequest) -> MeetingsEndReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            m = mc.advance(lv.meeting, "ended", self.now)
            rec, sha = await self.room.close(lv)
            m = mc.with_recording(m, rec, sha)
            here = mc.attendance(lv.meeting, lv.log, self.now).present
            left = [self._entry("leave", c) for c in here]
            seq, info = await self._step(lv, m, [*left, self._entry("end")])
        return MeetingsEndReply(rid=req.rid, seq=seq, meeting=info)

    async def cancel(self, _s: Session, req: MeetingsCancelRequest) -> MeetingsCancelReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            m = mc.advance(lv.meeting, "cancelled", self.now)
            seq, info = await self._step(lv, m, [])
        return MeetingsCancelReply(rid=req.rid, seq=seq, meeting=info)

    async def join(self, session: Session, req: MeetingsJoinRequest) -> MeetingsJoinReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            mc.need_open(lv.meeting)
            token = await self.room.admit(lv, mc.HALL)
            ticket = self.room.tickets[lv.meeting.id]
        plan = self.ice(console_ice_name(session.workstation))
        t = TicketInfo(
            meeting_id=lv.meeting.id,
            janus_url=ticket.janus_url,
            room=ticket.room,
            pin=ticket.pin,
            token=token,
            display=mc.HALL,
            ice=ice_info(plan),
        )
        info = self.board.live_info(lv)
        return MeetingsJoinReply(rid=req.rid, seq=self.board.seq, meeting=info, ticket=t)

    # -- moderation -------------------------------------------------------------------------
    async def floor(self, _s: Session, req: MeetingsFloorRequest) -> MeetingsFloorReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            mc.need_open(lv.meeting)
            if req.centre is not None:
                mc.need_invited(lv.meeting, req.centre)
            lv.muted = {c for c in lv.meeting.invited if c != req.centre}
            m = mc.give_floor(lv.meeting, req.centre)
            entry = (
                self._entry("floor", req.centre) if req.centre else self._entry("mute", "", "all")
            )
            seq, info = await self._step(lv, m, [entry])
            await self.room.apply_mutes_soon(lv)
        return MeetingsFloorReply(rid=req.rid, seq=seq, meeting=info)

    async def mute_all(self, _s: Session, req: MeetingsMuteAllRequest) -> MeetingsMuteAllReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            mc.need_open(lv.meeting)
            lv.muted = set(lv.meeting.invited)
            m = mc.give_floor(lv.meeting, None)
            seq, info = await self._step(lv, m, [self._entry("mute", "", "all")])
            await self.room.apply_mutes_soon(lv)
        return MeetingsMuteAllReply(rid=req.rid, seq=seq, meeting=info)

    async def unmute(self, _s: Session, req: MeetingsUnmuteRequest) -> MeetingsUnmuteReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            mc.need_open(lv.meeting)
            mc.need_invited(lv.meeting, req.centre)
            lv.muted.discard(req.centre)
            seq, info = await self._step(lv, lv.meeting, [self._entry("unmute", req.centre)])
            await self.room.apply_mutes_soon(lv)
        return MeetingsUnmuteReply(rid=req.rid, seq=seq, meeting=info)

    async def kick(self, _s: Session, req: MeetingsKickRequest) -> MeetingsKickReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            mc.need_open(lv.meeting)
            mc.need_invited(lv.meeting, req.centre)
            await self.room.kick(lv, req.centre)
            m = mc.give_floor(lv.meeting, None) if lv.meeting.floor == req.centre else lv.meeting
            seq, info = await self._step(lv, m, [self._entry("kick", req.centre)])
        return MeetingsKickReply(rid=req.rid, seq=seq, meeting=info)

    async def lock(self, _s: Session, req: MeetingsLockRequest) -> MeetingsLockReply:
        async with self.board.lock:
            lv = self.board.need_live(req.meeting_id)
            mc.need_open(lv.meeting)
            await self.room.set_locked(lv, req.locked)
            m = mc.set_locked(lv.meeting, req.locked)
            seq, info = await self._step(lv, m, [self._entry("lock" if req.locked else "unlock")])
        return MeetingsLockReply(rid=req.rid, seq=seq, meeting=info)
