"""What the parts of the roll-call service share: the run and the calls in flight
(`Board`), their settings, and the hub's store seen as reads and single-writer writes
(`Db`).

The board is the one place the service keeps mutable state; the parts (stations,
signalling, runner, scheduler, requests) get it through their constructors. Every change
that the hall should see goes through `Board.changed()`, which publishes a
`RollcallChanged` with the board's own `seq` (monotonic over the hub's life: it starts
from the wall clock in milliseconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, TypeVar

from sqlalchemy import Connection, Engine

from dispatch.domain.wire import ErrorCode, HubError, encode
from dispatch.events.service import HubService
from dispatch.rollcall import core as rc
from dispatch.rollcall.messages import RollcallChanged, RunInfo
from dispatch.rollcall.service.views import run_info
from streams.webrtc.room import Room

T = TypeVar("T")


@dataclass
class Settings:
    """Timings of the service (seconds). Tests shorten them before `start()`."""

    media_timeout_s: float = 15.0  # answered, no picture this long → technical fault
    tick_s: float = 1.0  # the scheduler's step
    link_wait_s: float = 2.0  # an offline station gets this long to come back
    resume_grace_s: float = 5.0  # after a restart, for the pages to reconnect
    hall_grace_s: float = 2.0  # the hall's socket gone this long: its peer leaves


@dataclass
class Call:
    """One call in flight (ringing, or answered and held)."""

    call_id: str
    centre_id: str
    attempt: int
    rang_at: datetime | None = None
    response: asyncio.Future[Literal["answer", "decline"]] | None = None
    room: Room | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # the call is to end now
    end_reason: str = "done"
    answered_at: datetime | None = None
    no_camera: str | None = None  # the station answered without its camera (why)
    hall_present: bool = False  # the hall's peer is connected (told to the station)
    finished: bool = False  # the call is over (the room is going)

    def end(self, reason: str) -> None:
        """Ask the call to end now (the first reason wins)."""
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()


class Db:
    """The hub's store: reads in a thread, writes through the hub's single writer."""

    def __init__(self, hub: HubService) -> None:
        self._hub = hub

    @property
    def engine(self) -> Engine:
        return self._hub.store.engine

    async def read(self, fn: Callable[[Engine], T]) -> T:
        return await asyncio.to_thread(fn, self._hub.store.engine)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Through the hub's single writer (durable when this returns)."""
        return await self._hub.writer.submit_async(lambda tx: fn(tx.conn))


class Board:
    """The roster, the current run, the calls in flight and the schedule."""

    def __init__(
        self,
        roster: Sequence[rc.Centre],
        *,
        clock: Callable[[], datetime],
        publish: Callable[[bytes], None] | None = None,
    ) -> None:
        self.roster: list[rc.Centre] = list(roster)
        self.centres = {c.id: c for c in self.roster}
        self.clock = clock
        self._publish = publish
        self.seq = 0
        self.run: rc.Run | None = None
        self.schedule = rc.Schedule()
        self.last_week: date | None = None
        self.calls: dict[str, Call] = {}  # call_id → call in flight
        self.lock = asyncio.Lock()  # one change of the run at a time
        self.wake = asyncio.Event()  # the runner looks at the run again

    def centre_name(self, centre_id: str) -> str:
        c = self.centres.get(centre_id)
        return c.name if c else centre_id

    def need_run(self) -> rc.Run:
        if self.run is None:
            raise HubError(ErrorCode.NOT_FOUND, "没有点名记录 / there is no run")
        return self.run

    def live_call(self, call_id: str) -> Call | None:
        call = self.calls.get(call_id)
        return call if call is not None and not call.finished else None

    def run_info(self, run: rc.Run) -> RunInfo:
        ringing = [c.centre_id for c in self.calls.values() if c.rang_at is not None]
        in_call = [
            c.centre_id
            for c in self.calls.values()
            if c.answered_at is not None and c.room is not None and not c.finished
        ]
        return run_info(run, self.centres, ringing).model_copy(update={"in_call": in_call})

    def current(self) -> RunInfo | None:
        return self.run_info(self.run) if self.run is not None else None

    def changed(self) -> None:
        """Publish the run as it is now (nothing before the first run)."""
        if self.run is None:
            return
        self.seq += 1
        if self._publish is not None:
            self._publish(encode(RollcallChanged(seq=self.seq, run=self.run_info(self.run))))
