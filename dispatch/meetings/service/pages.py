"""The duty stations' meeting sockets: which pages are open per centre, and what each is
told — its invitations (会议邀请 with the start time and a countdown), that one is
withdrawn (cancelled, ended, removed), its ticket into the room, and who has the floor
(with whether this station is muted and its hand is up)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatch.meetings import core as mc
from dispatch.meetings.messages import MeetFloor, MeetGone, MeetInvite, MeetOut
from dispatch.meetings.service.board import Board, Live
from dispatch.meetings.service.views import names

Push = Callable[[MeetOut], None]


def invite_msg(lv: Live, centres: dict[str, str], now: datetime) -> MeetInvite:
    m = lv.meeting
    return MeetInvite(
        meeting_id=m.id,
        title=m.title,
        agenda=m.agenda,
        start_at=m.start_at.isoformat(),
        left_s=mc.countdown_s(m, now),
        open=m.status == "open",
        names={c: centres.get(c, c) for c in m.invited},
    )


def floor_msg(lv: Live, centre: str, centres: dict[str, str], now: datetime) -> MeetFloor:
    m = lv.meeting
    att = mc.attendance(m, lv.log, now)
    return MeetFloor(
        meeting_id=m.id,
        centre=m.floor,
        name=centres.get(m.floor, m.floor) if m.floor else "",
        muted=centre in lv.muted,
        hand=centre in att.hands,
    )


class Pages:
    def __init__(self, board: Board, *, clock: Callable[[], datetime]) -> None:
        self.board = board
        self.clock = clock
        self._pages: dict[str, list[Push]] = {}
        self._names = names(board.centres)
        board.listeners.append(self.meeting_changed)

    def online(self, centre: str) -> bool:
        return bool(self._pages.get(centre))

    def push(self, centre: str, msg: MeetOut) -> None:
        for push in list(self._pages.get(centre, [])):
            push(msg)

    def connected(self, centre: str, push: Push) -> None:
        """A station's page opened its meeting socket: it is told its invitations."""
        self._pages.setdefault(centre, []).append(push)
        now = self.clock()
        for lv in self.board.live.values():
            if centre in lv.meeting.invited:
                push(invite_msg(lv, self._names, now))
                if lv.meeting.status == "open":
                    push(floor_msg(lv, centre, self._names, now))

    def disconnected(self, centre: str, push: Push) -> bool:
        """A page closed its socket; True when the station has no meeting page open."""
        lst = self._pages.get(centre, [])
        if push in lst:
            lst.remove(push)
        if lst:
            return False
        self._pages.pop(centre, None)
        return True

    def meeting_changed(self, lv: Live) -> None:
        m = lv.meeting
        now = self.clock()
        for centre in m.invited:
            if not self.online(centre):
                continue
            if m.status == "ended" or m.status == "cancelled":
                self.push(centre, MeetGone(meeting_id=m.id, reason=m.status))
                continue
            if mc.removed(lv.log, centre):
                self.push(centre, MeetGone(meeting_id=m.id, reason="removed"))
                continue
            self.push(centre, invite_msg(lv, self._names, now))
            if m.status == "open":
                self.push(centre, floor_msg(lv, centre, self._names, now))
