"""What the parts of the meetings service share: the live meetings (planned or open),
their logs, the floor and mute state of each open room, and the published `seq`.

Every change the hall should see goes through `Board.changed(meeting_id)`, which
publishes a `MeetingChanged` with the board's own `seq` (monotonic over the hub's life:
it starts from the wall clock in milliseconds at `start`). Writes go through the hub's
single writer (`Db`) before the board takes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dispatch.domain.wire import ErrorCode, HubError, encode
from dispatch.meetings import core as mc
from dispatch.meetings import store as ms
from dispatch.meetings.messages import MeetingChanged, MeetingInfo
from dispatch.meetings.service.views import meeting_info
from dispatch.rollcall.core import Centre
from dispatch.rollcall.service.state import Db


@dataclass
class Live:
    """One meeting the hub keeps in memory (planned or open) and its room's state."""

    meeting: mc.Meeting
    log: list[mc.LogEntry] = field(default_factory=list)
    feeds: dict[int, str] = field(default_factory=dict)  # feed id → centre (or HALL)
    muted: set[str] = field(default_factory=set)  # centres the convenor muted
    talking: set[str] = field(default_factory=set)
    tokens: dict[str, str] = field(default_factory=dict)  # centre → room token


class Board:
    def __init__(
        self,
        roster: Sequence[Centre],
        db: Db,
        *,
        clock: Callable[[], datetime],
        publish: Callable[[bytes], None] | None = None,
    ) -> None:
        self.roster = list(roster)
        self.centres = {c.id: c for c in self.roster}
        self.db = db
        self.clock = clock
        self._publish = publish
        self.seq = 0
        self.live: dict[str, Live] = {}
        self.lock = asyncio.Lock()  # one change of a meeting at a time
        self.listeners: list[Callable[[Live], None]] = []  # the station pages' side

    async def load(self) -> None:
        self.seq = int(self.clock().timestamp() * 1000)
        self.live = {}
        rows = await self.db.read(ms.live)
        logs = await self.db.read(lambda eng: ms.logs_of(eng, [m.id for m in rows]))
        self.live = {m.id: Live(m, logs[m.id]) for m in rows}

    async def meeting(self, meeting_id: str) -> tuple[mc.Meeting, list[mc.LogEntry]]:
        """A live meeting, or one from the store (ended, cancelled)."""
        lv = self.live.get(meeting_id)
        if lv is not None:
            return lv.meeting, list(lv.log)
        m = await self.db.read(lambda eng: ms.get_meeting(eng, meeting_id))
        if m is None:
            raise HubError(ErrorCode.NOT_FOUND, f"没有该会议 {meeting_id!r} / no such meeting")
        return m, await self.db.read(lambda eng: ms.read_log(eng, meeting_id))

    def need_live(self, meeting_id: str) -> Live:
        lv = self.live.get(meeting_id)
        if lv is None:
            raise HubError(ErrorCode.NOT_FOUND, f"没有进行中的会议 {meeting_id!r} / not live")
        return lv

    async def write(self, lv: Live, m: mc.Meeting, entries: Sequence[mc.LogEntry] = ()) -> None:
        """Store the meeting's new state and its log rows, then take them (durable first)."""
        await self.db.write(lambda conn: ms.save(conn, m, entries))
        lv.meeting = m
        lv.log.extend(entries)
        if m.status in ("ended", "cancelled"):
            self.live.pop(m.id, None)

    def info(self, m: mc.Meeting, log: Sequence[mc.LogEntry]) -> MeetingInfo:
        lv = self.live.get(m.id)
        return meeting_info(
            m,
            log,
            self.centres,
            self.clock(),
            muted=sorted(lv.muted) if lv else (),
            talking=sorted(lv.talking) if lv else (),
        )

    def live_info(self, lv: Live) -> MeetingInfo:
        return self.info(lv.meeting, lv.log)

    def changed(self, lv: Live) -> MeetingInfo:
        """Publish the meeting as it is now; tell the station side."""
        self.seq += 1
        info = self.live_info(lv)
        if self._publish is not None:
            self._publish(encode(MeetingChanged(seq=self.seq, meeting=info)))
        for listener in list(self.listeners):
            listener(lv)
        return info
