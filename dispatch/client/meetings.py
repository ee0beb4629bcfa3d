"""The video meetings' face of the hub client (issue 13): one method per operation, and
the meetings as the console sees them (`view()`: meeting id → `MeetingInfo`), kept up to
date by each published `MeetingChanged` (`changed`, on the network thread); a change
whose seq does not follow the last one makes it fetch the list again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial

from dispatch.client.calls import Caller
from dispatch.client.seqfeed import SeqFeed
from dispatch.meetings.messages import (
    MeetingChanged,
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
    MeetingsUnmuteReply,
    MeetingsUnmuteRequest,
)

Listener = Callable[[dict[str, MeetingInfo]], None]
"""Called with the whole view after every change."""


class MeetingsFacade(SeqFeed[Listener]):
    WHAT = "meetings"

    def __init__(self, caller: Caller) -> None:
        super().__init__(caller)
        self._view: dict[str, MeetingInfo] = {}

    def view(self) -> dict[str, MeetingInfo]:
        return dict(self._view)

    async def fetch(self, week: date | None = None) -> MeetingsListReply:
        """This week's meetings and every live one (replaces the view; listeners told)."""
        rep = await self._conn.call(MeetingsListReply, partial(MeetingsListRequest, week=week))
        self._view = {m.id: m for m in rep.meetings}
        self.seq = rep.seq
        self._tell_each(dict(self._view))
        return rep

    def changed(self, msg: MeetingChanged) -> None:
        if not self.follows(msg.seq):
            return
        self._take(msg.meeting)

    def _take(self, m: MeetingInfo) -> MeetingInfo:
        self._view[m.id] = m
        self._tell_each(dict(self._view))
        return m

    # -- operations -------------------------------------------------------------------------
    async def centres(self) -> MeetingsCentresReply:
        return await self._conn.call(MeetingsCentresReply, MeetingsCentresRequest)

    async def create(
        self, title: str, invited: list[str], start_at: datetime, agenda: str = ""
    ) -> MeetingInfo:
        req = partial(
            MeetingsCreateRequest, title=title, invited=invited, start_at=start_at, agenda=agenda
        )
        return (await self._conn.call(MeetingsCreateReply, req)).meeting

    async def get(self, meeting_id: str) -> MeetingsGetReply:
        return await self._conn.call(
            MeetingsGetReply, partial(MeetingsGetRequest, meeting_id=meeting_id)
        )

    async def open(self, meeting_id: str) -> MeetingInfo:
        req = partial(MeetingsOpenRequest, meeting_id=meeting_id)
        return (await self._conn.call(MeetingsOpenReply, req)).meeting

    async def end(self, meeting_id: str) -> MeetingInfo:
        req = partial(MeetingsEndRequest, meeting_id=meeting_id)
        return (await self._conn.call(MeetingsEndReply, req)).meeting

    async def cancel(self, meeting_id: str) -> MeetingInfo:
        req = partial(MeetingsCancelRequest, meeting_id=meeting_id)
        return (await self._conn.call(MeetingsCancelReply, req)).meeting

    async def join(self, meeting_id: str) -> MeetingsJoinReply:
        """The console's ticket into the room (its Janus peer: `streams.webrtc.janus_peer`)."""
        req = partial(MeetingsJoinRequest, meeting_id=meeting_id)
        return await self._conn.call(MeetingsJoinReply, req)

    async def floor(self, meeting_id: str, centre: str | None) -> MeetingInfo:
        req = partial(MeetingsFloorRequest, meeting_id=meeting_id, centre=centre)
        return (await self._conn.call(MeetingsFloorReply, req)).meeting

    async def mute_all(self, meeting_id: str) -> MeetingInfo:
        req = partial(MeetingsMuteAllRequest, meeting_id=meeting_id)
        return (await self._conn.call(MeetingsMuteAllReply, req)).meeting

    async def unmute(self, meeting_id: str, centre: str) -> MeetingInfo:
        req = partial(MeetingsUnmuteRequest, meeting_id=meeting_id, centre=centre)
        return (await self._conn.call(MeetingsUnmuteReply, req)).meeting

    async def kick(self, meeting_id: str, centre: str) -> MeetingInfo:
        req = partial(MeetingsKickRequest, meeting_id=meeting_id, centre=centre)
        return (await self._conn.call(MeetingsKickReply, req)).meeting

    async def lock(self, meeting_id: str, locked: bool) -> MeetingInfo:
        req = partial(MeetingsLockRequest, meeting_id=meeting_id, locked=locked)
        return (await self._conn.call(MeetingsLockReply, req)).meeting

    async def minutes(self, meeting_id: str, minutes: str) -> MeetingInfo:
        req = partial(MeetingsMinutesRequest, meeting_id=meeting_id, minutes=minutes)
        return (await self._conn.call(MeetingsMinutesReply, req)).meeting
