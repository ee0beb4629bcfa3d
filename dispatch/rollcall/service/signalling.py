"""The signalling of a call: what the station's page and the hall (a console) say and are
told while a call is in flight.

- The station's page: `hello` on connect (and the `ring` again if it reconnects while
  rung), `answer` / `decline` from the page, then a WHIP-style offer into a fresh 2-party
  `Room` where the hub is the caller (`offer`); `hall` tells the page whether the hall's
  peer is in the room. A station whose last page closes during an answered call ends it
  after `link_wait_s`.
- The hall may join an answered call as the room's third peer `hall` (`watch` →
  `dispatch.rollcall.hall.HallDesk`): it sees and hears the station and the station sees
  and hears it. When the call ends its socket is told `ended` and its peer goes with the
  room; a hall whose sockets are all gone for `hall_grace_s` (or that says `leave`) is
  taken out of the room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.rollcall import core as rc
from dispatch.rollcall.hall import HALL_NAME, HALL_PEER, HallDesk, HallError
from dispatch.rollcall.hall import Push as HallPush
from dispatch.rollcall.messages import (
    HallHello,
    HallLeave,
    StationAnswer,
    StationDecline,
    StationHall,
    StationRing,
)
from dispatch.rollcall.service.state import Board, Call, Settings
from dispatch.rollcall.service.stations import Push as StationPush
from dispatch.rollcall.service.stations import Stations
from streams.webrtc.config import IceSource, static_ice
from streams.webrtc.room import Room, RoomError

STATION_PEER = "station"


@dataclass(frozen=True)
class Watch:
    """The hall's way into an answered call's room."""

    call: Call
    token: str


class Signalling:
    def __init__(
        self,
        board: Board,
        stations: Stations,
        hall: HallDesk,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        ice: IceSource | None = None,
        keep_hosts: Sequence[str] | None = None,
        forward: bool = True,
    ) -> None:
        self.board = board
        self.stations = stations
        self.hall = hall
        self.settings = settings
        self.clock = clock
        self.ice: IceSource = ice or static_ice()  # name → servers (minted TURN credentials)
        self.keep_hosts = list(keep_hosts) if keep_hosts else None
        self.forward = forward  # VP8 forwarded without decoding (hub config webrtc.forward)
        self._leaving: set[asyncio.Future[None]] = set()

    # -- the station's page -------------------------------------------------------------------
    def ring_msg(self, call: Call) -> StationRing:
        run = self.board.run
        ring_s = run.ring_s if run is not None else rc.DEFAULT_RING_S
        left = rc.ring_left(call.rang_at or self.clock(), ring_s, self.clock())
        return StationRing(call_id=call.call_id, ring_s=ring_s, left_s=left)

    def connected(self, centre_id: str, push: StationPush) -> None:
        self.stations.connected(centre_id, push)
        for call in self.board.calls.values():  # a page that reconnects while being rung
            if call.centre_id == centre_id and call.rang_at is not None and call.room is None:
                push(self.ring_msg(call))

    def disconnected(self, centre_id: str, push: StationPush) -> None:
        if not self.stations.disconnected(centre_id, push):
            return
        for call in self.board.calls.values():  # a station that leaves its call ends it
            if call.centre_id == centre_id and call.answered_at is not None:
                asyncio.get_running_loop().call_later(
                    self.settings.link_wait_s, self._station_gone, call
                )

    def _station_gone(self, call: Call) -> None:
        if not self.stations.online(call.centre_id) and not call.finished:
            call.end("station_left")

    def station_message(self, centre_id: str, msg: StationAnswer | StationDecline) -> None:
        """The page answers or declines the call it was rung for (others are ignored)."""
        call = self.board.calls.get(msg.call_id)
        if call is None or call.centre_id != centre_id:
            return
        fut = call.response
        if fut is not None and not fut.done():
            if isinstance(msg, StationAnswer):
                call.no_camera = msg.no_camera
            fut.set_result(msg.type)

    async def offer(self, centre_id: str, call_id: str, sdp: str) -> str:
        call = self.board.calls.get(call_id)
        if call is None or call.centre_id != centre_id:
            raise RoomError("no_call", "没有进行中的点名呼叫 / no roll call in progress")
        fresh = call.room is None
        if call.room is None:
            call.room = Room(
                call_id,
                ice=self.ice,
                keep_hosts=self.keep_hosts,
                on_change=lambda: self._room_changed(call),
                forward=self.forward,
            )
        sdp_answer = await call.room.answer(STATION_PEER, sdp)
        if fresh:
            self.board.changed()  # in_call: the hall may watch it now
        return sdp_answer

    def _room_changed(self, call: Call) -> None:
        room = call.room
        if room is None or call.finished:
            return
        if call.answered_at is not None and room.state(STATION_PEER) in ("failed", "closed"):
            call.end("station_left")
        present = room.state(HALL_PEER) == "connected"
        if present != call.hall_present:
            call.hall_present = present
            self.stations.push(
                call.centre_id,
                StationHall(call_id=call.call_id, present=present, name=HALL_NAME),
            )

    # -- the officer's hand on a call ---------------------------------------------------------
    def end_call(self, centre_id: str) -> None:
        """The officer ends the current (answered) call of `centre_id` before its talk time."""
        calls = [c for c in self.board.calls.values() if c.centre_id == centre_id]
        if not calls or calls[0].room is None:
            raise HubError(
                ErrorCode.NOT_FOUND, "该中心没有进行中的通话 / no call in progress with it"
            )
        calls[0].end("officer")

    def watch(self, centre_id: str | None) -> Watch:
        """A hall grant for the answered call of `centre_id` (or the first)."""
        calls = [
            c
            for c in self.board.calls.values()
            if not c.finished and (centre_id is None or c.centre_id == centre_id)
        ]
        live = [c for c in calls if c.answered_at is not None and c.room is not None]
        if not live:
            if calls:
                raise HubError(
                    ErrorCode.CONFLICT, "该中心的呼叫尚未接通 / the call is not answered yet"
                )
            raise HubError(
                ErrorCode.NOT_FOUND, "该中心没有进行中的通话 / no call in progress with it"
            )
        call = live[0]
        run = self.board.run
        talk = run.talk_s if run is not None else rc.DEFAULT_TALK_S
        return Watch(call, self.hall.grant(call.call_id, timedelta(seconds=talk + 300)))

    # -- the hall (a console) in the call -----------------------------------------------------
    def hall_check(self, call_id: str, token: str | None) -> Call:
        """The live call `token` opens; raises HallError (401/403/404/409)."""
        call = self.board.live_call(call_id)
        self.hall.check(call_id, token, live=call is not None)
        assert call is not None
        return call

    async def hall_offer(self, call_id: str, token: str | None, sdp: str) -> str:
        call = self.hall_check(call_id, token)
        room = call.room
        if room is None or call.answered_at is None:
            raise HallError(409, "not_ready", "值班点尚未接通画面，请稍后 / station not on yet")
        try:
            return await room.answer(HALL_PEER, sdp)
        except RoomError as exc:
            raise HallError(
                400 if exc.code == "bad_offer" else 409, exc.code, exc.message
            ) from None

    def hall_connected(self, call: Call, push: HallPush) -> None:
        self.hall.connected(call.call_id, push)
        push(
            HallHello(
                call_id=call.call_id,
                centre_id=call.centre_id,
                centre_name=self.board.centre_name(call.centre_id),
                answered_at=call.answered_at.isoformat() if call.answered_at else None,
            )
        )

    def hall_disconnected(self, call_id: str, push: HallPush) -> None:
        self.hall.disconnected(call_id, push)
        if self.hall.sockets(call_id) == 0 and self.board.live_call(call_id) is not None:
            asyncio.get_running_loop().call_later(
                self.settings.hall_grace_s, lambda: self._spawn_leave(call_id)
            )

    def hall_message(self, call_id: str, msg: HallLeave) -> None:
        """`leave`: the hall's peer leaves the room at once (the call goes on)."""
        if msg.type == "leave":
            self._spawn_leave(call_id, force=True)

    def _spawn_leave(self, call_id: str, *, force: bool = False) -> None:
        call = self.board.live_call(call_id)
        if call is None or call.room is None or (self.hall.sockets(call_id) and not force):
            return
        if HALL_PEER in call.room.peers():
            t = asyncio.ensure_future(call.room.remove(HALL_PEER))
            self._leaving.add(t)
            t.add_done_callback(self._leaving.discard)

    async def close(self, call: Call, reason: str) -> None:
        """The call is over: tell the hall, close the room."""
        call.finished = True
        self.hall.ended(call.call_id, reason)
        if call.room is not None:
            await call.room.close()
