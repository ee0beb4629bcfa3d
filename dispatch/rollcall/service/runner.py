"""The hub's roll-call service (issue 6): stations, runs, calls, the log and the scheduler.

- Duty stations log in once with their personal link and PIN (`issue_link`, `login`);
  the cookie is an HMAC of the link token keyed by the PIN hash, so a page left open
  survives a hub restart and a re-issued link invalidates it. A station is online while
  its page's WebSocket is open (`connected` / `disconnected`).
- A run (`dispatch.rollcall.core.Run`) is written before it starts; the runner places the
  calls `plan()` gives, and every finished call is written to `rollcall_log` (with the
  run's status, one transaction) before the run moves on. On start the hub reloads the
  open run and carries on: a call that was ringing when the hub died is placed again.
- A call: offline → `link_down` at once; else a `ring` push with the countdown; the page
  answers (`answer` message, then a WHIP-style offer into a fresh 2-party `Room` where the
  hub is the caller) or declines; no response within `ring_s` → `no_answer`; answered but
  no picture within `media_timeout_s` → `technical_fault`. The first frames of the
  station's camera are decoded and saved as the answerer's snapshot (PNG). The call is
  held `talk_s`, then `hangup` is pushed and the room closed.
- The hall (a console) may join an answered call as the room's third peer `hall`
  (`watch` op → `dispatch.rollcall.hall.HallDesk`): it sees and hears the station and
  the station sees and hears it. The call ends as before (talk time, `end_call`, or the
  station leaving); the hall's socket is then told `ended` and its peer goes with the room.
- Changes are published as `RollcallChanged` with the service's own `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import av
from PIL import Image
from sqlalchemy import Connection

from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError, encode
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs
from dispatch.rollcall.hall import HALL_NAME, HALL_PEER, HallDesk, HallError
from dispatch.rollcall.messages import (
    CallInfo,
    CentreInfo,
    CoverageInfo,
    ExemptionInfo,
    RollcallChanged,
    RollcallReply,
    RollcallRequest,
    RunInfo,
    ScheduleInfo,
)
from dispatch.tasks.service import MAX_PIN_FAILURES, hash_pin, verify_pin
from streams.webrtc.config import IceServer, rtc_configuration
from streams.webrtc.room import Room, RoomError

log = logging.getLogger(__name__)
T = TypeVar("T")

Push = Callable[[dict[str, Any]], None]
STATION_PEER = "station"


class StationAuthError(Exception):
    def __init__(self, kind: Literal["unknown", "expired", "locked", "pin"], left: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.left = left


# -- pure helpers -------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def station_cookie(token: str, pin_hash: str) -> str:
    return hmac.new(pin_hash.encode(), token.encode(), hashlib.sha256).hexdigest()


def call_info(c: rc.CallRecord, centres: dict[str, rc.Centre], run_id: str = "") -> CallInfo:
    centre = centres.get(c.centre_id)
    return CallInfo(
        centre_id=c.centre_id,
        centre_name=centre.name if centre else c.centre_id,
        township=centre.township_name if centre else "",
        attempt=c.attempt,
        outcome=c.outcome,
        outcome_zh=rc.OUTCOME_ZH[c.outcome],
        rang_at=c.rang_at,
        answered_at=c.answered_at,
        ended_at=c.ended_at,
        answer_s=c.answer_s,
        duration_s=c.duration_s,
        snapshot=c.snapshot,
        note=c.note,
        run_id=run_id,
    )


def run_info(run: rc.Run, centres: dict[str, rc.Centre], ringing: Sequence[str] = ()) -> RunInfo:
    return RunInfo(
        id=run.id,
        week=run.week,
        status=run.status,
        started_at=run.started_at,
        ended_at=run.ended_at,
        started_by=run.started_by,
        batch=run.batch,
        ring_s=run.ring_s,
        talk_s=run.talk_s,
        due=list(run.due),
        exempt=list(run.exempt),
        calls=[call_info(c, centres, run.id) for c in run.calls],
        ringing=list(ringing),
        recalls=rc.recalls(run),
    )


def schedule_info(s: rc.Schedule, nxt: datetime | None, last: date | None) -> ScheduleInfo:
    return ScheduleInfo(
        weekday=s.weekday,
        at=s.at.strftime("%H:%M"),
        ring_s=s.ring_s,
        batch=s.batch,
        enabled=s.enabled,
        next_run=nxt,
        last_week=last,
    )


@dataclass
class _Call:
    call_id: str
    centre_id: str
    attempt: int
    rang_at: datetime | None = None
    response: asyncio.Future[Literal["answer", "decline"]] | None = None
    room: Room | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # the call is to end now
    end_reason: str = "done"
    answered_at: datetime | None = None
    hall_present: bool = False  # the hall's peer is connected (told to the station)
    finished: bool = False  # the call is over (the room is going)


class RollcallService:
    def __init__(
        self,
        hub: HubService,
        site: Site | None,
        *,
        clock: Callable[[], datetime],
        ice_servers: Sequence[IceServer] = (),
        keep_hosts: Sequence[str] | None = None,
        snapshot_dir: Path,
        media_timeout_s: float = 15.0,
        publish: Callable[[bytes], None] | None = None,
        tick_s: float = 1.0,
        link_wait_s: float = 2.0,
        resume_grace_s: float = 5.0,
    ) -> None:
        self.hub = hub
        self.store = hub.store
        self.site = site
        self.clock = clock
        self.ice_servers = tuple(ice_servers)
        self.keep_hosts = list(keep_hosts) if keep_hosts else None
        self.snapshot_dir = snapshot_dir
        self.media_timeout_s = media_timeout_s
        self.publish = publish
        self.tick_s = tick_s
        self.link_wait_s = link_wait_s  # an offline station gets this long to come back
        self.resume_grace_s = resume_grace_s  # after a restart, for the pages to reconnect
        self.roster: list[rc.Centre] = rc.roster_from_site(site) if site is not None else []
        self.centres = {c.id: c for c in self.roster}
        self.seq = 0
        self.run: rc.Run | None = None
        self.schedule = rc.Schedule()
        self.last_week: date | None = None
        self._stations: dict[str, list[Push]] = {}
        self._calls: dict[str, _Call] = {}  # call_id → call in flight
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._sched: asyncio.Task[None] | None = None
        self._started = False
        self._due: datetime | None = None
        self.setup_ms: list[float] = []  # ring → answered (benchmarks)
        self.hall = HallDesk(clock)
        self._leaving: set[asyncio.Future[None]] = set()
        self.hall_grace_s = 2.0  # the hall's socket gone this long: its peer leaves

    # -- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        eng = self.store.engine
        loaded = await asyncio.to_thread(rs.load_schedule, eng)
        if loaded is not None:
            self.schedule, self.last_week = loaded
        self.seq = int(self.clock().timestamp() * 1000)  # monotonic across restarts
        self.run = await asyncio.to_thread(rs.open_run, eng)
        if self.run is not None and self.run.status == "running":
            log.warning("resuming roll call %s (%d calls made)", self.run.id, len(self.run.calls))
            self._spawn_runner(delay_s=self.resume_grace_s)
        self._sched = asyncio.create_task(self._scheduler(), name="rollcall-scheduler")

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        for t in (self._runner, self._sched):
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        self._runner = self._sched = None
        for call in list(self._calls.values()):
            call.finished = True
            self.hall.ended(call.call_id, "stopped")
            if call.room is not None:
                await call.room.close()
        self._calls.clear()

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        """Through the hub's single writer (durable when this returns)."""
        return await self.hub.writer.submit_async(lambda tx: fn(tx.conn))

    # -- stations -------------------------------------------------------------------------
    async def issue_link(self, centre_id: str, ttl: timedelta) -> tuple[str, str, datetime]:
        if centre_id not in self.centres:
            raise HubError(ErrorCode.NOT_FOUND, f"未知的中心 {centre_id!r} / unknown centre")
        token = secrets.token_urlsafe(24)
        pin = f"{secrets.randbelow(10**6):06d}"
        exp = self.clock() + ttl
        pin_h = await asyncio.to_thread(hash_pin, pin)
        await self._write(
            lambda conn: rs.save_station(conn, centre_id, token_hash(token), pin_h, exp)
        )
        return token, pin, exp

    async def demo_links(self, http_url: str, ttl: timedelta = timedelta(days=30)) -> list[str]:
        """A link + PIN for every centre that has none yet (the `--demo` hub prints them);
        links already issued are kept, so pages left open survive a restart."""
        have = await asyncio.to_thread(rs.station_ids, self.store.engine)
        out = []
        for c in self.roster:
            if c.id in have:
                continue
            token, pin, _ = await self.issue_link(c.id, ttl)
            out.append(f"  {c.township_name} {c.name}（{c.id}）: {http_url}/s/{token}  PIN {pin}")
        return out

    async def station(self, token: str) -> tuple[str, str]:
        """(centre id, PIN hash) of a valid link; raises StationAuthError."""
        row = await asyncio.to_thread(rs.station_by_token, self.store.engine, token_hash(token))
        if row is None:
            raise StationAuthError("unknown")
        centre, pin_h, exp, failures = row
        if exp <= self.clock():
            raise StationAuthError("expired")
        if failures >= MAX_PIN_FAILURES:
            raise StationAuthError("locked")
        return centre, pin_h

    async def login(self, token: str, pin: str) -> tuple[str, str]:
        """(centre id, cookie) for the right PIN; raises StationAuthError."""
        row = await asyncio.to_thread(rs.station_by_token, self.store.engine, token_hash(token))
        centre, pin_h = await self.station(token)
        assert row is not None
        if not await asyncio.to_thread(verify_pin, pin, pin_h):
            failures = row[3] + 1
            await self._write(lambda conn: rs.set_station_failures(conn, centre, failures))
            if failures >= MAX_PIN_FAILURES:
                raise StationAuthError("locked")
            raise StationAuthError("pin", MAX_PIN_FAILURES - failures)
        if row[3]:
            await self._write(lambda conn: rs.set_station_failures(conn, centre, 0))
        return centre, station_cookie(token, pin_h)

    async def authorised(self, token: str, cookie: str | None) -> str | None:
        """The centre id when the cookie (or bearer) belongs to this valid link."""
        if not cookie:
            return None
        try:
            centre, pin_h = await self.station(token)
        except StationAuthError:
            return None
        return centre if hmac.compare_digest(cookie, station_cookie(token, pin_h)) else None

    def online(self, centre_id: str) -> bool:
        return bool(self._stations.get(centre_id))

    def connected(self, centre_id: str, push: Push) -> None:
        self._stations.setdefault(centre_id, []).append(push)
        c = self.centres.get(centre_id)
        push({"type": "hello", "centre": centre_id, "name": c.name if c else centre_id})
        for call in self._calls.values():  # a page that reconnects while being rung
            if call.centre_id == centre_id and call.rang_at is not None and call.room is None:
                push(self._ring_msg(call))

    def disconnected(self, centre_id: str, push: Push) -> None:
        lst = self._stations.get(centre_id, [])
        if push in lst:
            lst.remove(push)
        if not lst:
            self._stations.pop(centre_id, None)
            for call in self._calls.values():  # a station that leaves its call ends it
                if call.centre_id == centre_id and call.answered_at is not None:
                    asyncio.get_running_loop().call_later(
                        self.link_wait_s, self._station_gone, call
                    )

    def _station_gone(self, call: _Call) -> None:
        if not self.online(call.centre_id) and not call.finished:
            self._end(call, "station_left")

    def _end(self, call: _Call, reason: str) -> None:
        if not call.ended.is_set():
            call.end_reason = reason
            call.ended.set()

    def station_message(self, centre_id: str, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        call = self._calls.get(str(msg.get("call_id", "")))
        if kind not in ("answer", "decline") or call is None or call.centre_id != centre_id:
            return
        fut = call.response
        if fut is not None and not fut.done():
            fut.set_result("answer" if kind == "answer" else "decline")

    async def offer(self, centre_id: str, call_id: str, sdp: str) -> str:
        call = self._calls.get(call_id)
        if call is None or call.centre_id != centre_id:
            raise RoomError("no_call", "没有进行中的点名呼叫 / no roll call in progress")
        fresh = call.room is None
        if call.room is None:
            call.room = Room(
                call_id,
                config=rtc_configuration(list(self.ice_servers)),
                keep_hosts=self.keep_hosts,
                on_change=lambda: self._room_changed(call),
            )
        sdp_answer = await call.room.answer(STATION_PEER, sdp)
        if fresh:
            self._changed()  # in_call: the hall may watch it now
        return sdp_answer

    def _room_changed(self, call: _Call) -> None:
        room = call.room
        if room is None or call.finished:
            return
        if call.answered_at is not None and room.state(STATION_PEER) in ("failed", "closed"):
            self._end(call, "station_left")
        present = room.state(HALL_PEER) == "connected"
        if present != call.hall_present:
            call.hall_present = present
            self._push(
                call.centre_id,
                {"type": "hall", "call_id": call.call_id, "present": present, "name": HALL_NAME},
            )

    # -- the hall (a console) in the call -----------------------------------------------------
    def _live_call(self, call_id: str) -> _Call | None:
        call = self._calls.get(call_id)
        return call if call is not None and not call.finished else None

    def hall_check(self, call_id: str, token: str | None) -> _Call:
        """The live call `token` opens; raises HallError (401/403/404/409)."""
        call = self._live_call(call_id)
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

    def hall_connected(self, call: _Call, push: Push) -> None:
        self.hall.connected(call.call_id, push)
        c = self.centres.get(call.centre_id)
        push(
            {
                "type": "hello",
                "call_id": call.call_id,
                "centre_id": call.centre_id,
                "centre_name": c.name if c else call.centre_id,
                "answered_at": call.answered_at.isoformat() if call.answered_at else None,
            }
        )

    def hall_disconnected(self, call_id: str, push: Push) -> None:
        self.hall.disconnected(call_id, push)
        if self.hall.sockets(call_id) == 0 and self._live_call(call_id) is not None:
            asyncio.get_running_loop().call_later(
                self.hall_grace_s, lambda: self._spawn_leave(call_id)
            )

    def hall_message(self, call_id: str, msg: dict[str, Any]) -> None:
        if msg.get("type") == "leave":
            self._spawn_leave(call_id, force=True)

    def _spawn_leave(self, call_id: str, *, force: bool = False) -> None:
        call = self._live_call(call_id)
        if call is None or call.room is None or (self.hall.sockets(call_id) and not force):
            return
        if HALL_PEER in call.room.peers():
            t = asyncio.ensure_future(call.room.remove(HALL_PEER))
            self._leaving.add(t)
            t.add_done_callback(self._leaving.discard)

    def _watch(self, req: RollcallRequest) -> RollcallReply:
        """The hall's path + session into the answered call of `centre_id` (or the first)."""
        calls = [
            c
            for c in self._calls.values()
            if not c.finished and (req.centre_id is None or c.centre_id == req.centre_id)
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
        run = self.run
        talk = run.talk_s if run is not None else rc.DEFAULT_TALK_S
        token = self.hall.grant(call.call_id, timedelta(seconds=talk + 300))
        c = self.centres.get(call.centre_id)
        return RollcallReply(
            rid=req.rid,
            seq=self.seq,
            path=f"/rollcall/hall/{call.call_id}",
            session=token,
            call_id=call.call_id,
            centre_id=call.centre_id,
            centre_name=c.name if c else call.centre_id,
            answered_at=call.answered_at,
        )

    def _push(self, centre_id: str, msg: dict[str, Any]) -> None:
        for push in list(self._stations.get(centre_id, [])):
            push(msg)

    def _ring_msg(self, call: _Call) -> dict[str, Any]:
        run = self.run
        ring_s = run.ring_s if run is not None else rc.DEFAULT_RING_S
        left = rc.ring_left(call.rang_at or self.clock(), ring_s, self.clock())
        return {"type": "ring", "call_id": call.call_id, "ring_s": ring_s, "left_s": left}

    # -- runs -----------------------------------------------------------------------------
    async def start_run(
        self,
        by: str,
        *,
        batch: int | None = None,
        ring_s: float | None = None,
        talk_s: float | None = None,
    ) -> rc.Run:
        async with self._lock:
            if self.run is not None and self.run.status != "done":
                raise HubError(
                    ErrorCode.CONFLICT,
                    f"点名 {self.run.id} 尚未结束 / run {self.run.id} is not finished",
                )
            if not self.roster:
                raise HubError(ErrorCode.INVALID, "站点配置中没有中心 / no centres in the site")
            now = self.clock()
            exs = [e for _, e in await asyncio.to_thread(rs.list_exemptions, self.store.engine)]
            try:
                run = rc.new_run(
                    f"rc-{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}",
                    self.roster,
                    exs,
                    now,
                    batch=batch or self.schedule.batch,
                    ring_s=ring_s or self.schedule.ring_s,
                    talk_s=talk_s if talk_s is not None else rc.DEFAULT_TALK_S,
                    started_by=by,
                )
            except rc.RollcallError as exc:
                raise HubError(ErrorCode.INVALID, str(exc)) from None
            await self._write(lambda conn: rs.add_run(conn, run))
            self.run = run
            self.last_week = run.week
            await self._write(lambda conn: rs.save_schedule(conn, self.schedule, self.last_week))
        self._changed()
        self._spawn_runner()
        return run

    async def stop_run(self) -> rc.Run:
        async with self._lock:
            run = self._need_run()
            try:
                run = rc.stop(run)
            except rc.RollcallError as exc:
                raise HubError(ErrorCode.CONFLICT, str(exc)) from None
            await self._write(lambda conn: rs.set_status(conn, run.id, run.status, None))
            self.run = run
        self._wake.set()
        self._changed()
        return run

    async def resume_run(self) -> rc.Run:
        async with self._lock:
            run = self._need_run()
            try:
                run = rc.resume(run)
            except rc.RollcallError as exc:
                raise HubError(ErrorCode.CONFLICT, str(exc)) from None
            await self._write(lambda conn: rs.set_status(conn, run.id, run.status, None))
            self.run = run
        self._changed()
        self._spawn_runner()
        return run

    def _need_run(self) -> rc.Run:
        if self.run is None:
            raise HubError(ErrorCode.NOT_FOUND, "没有点名记录 / there is no run")
        return self.run

    def _spawn_runner(self, delay_s: float = 0.0) -> None:
        if self._runner is not None and not self._runner.done():
            self._wake.set()
            return
        self._runner = asyncio.create_task(self._run_loop(delay_s), name="rollcall-run")

    async def _run_loop(self, delay_s: float = 0.0) -> None:
        tasks: set[asyncio.Task[None]] = set()
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        try:
            while True:
                run = self.run
                if run is None:
                    return
                busy = [(c.centre_id, c.attempt) for c in self._calls.values()]
                for centre, attempt in rc.plan(run, busy):
                    call = _Call(f"{run.id}-{centre}-{attempt}", centre, attempt)
                    self._calls[call.call_id] = call
                    t = asyncio.create_task(self._place(run, call))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                if not self._calls and (run.status != "running" or rc.finished(run)):
                    return
                self._wake.clear()
                await self._wake.wait()
        finally:
            for t in tasks:
                t.cancel()

    async def _place(self, run: rc.Run, call: _Call) -> None:
        try:
            try:
                rec = await self._ring(run, call)
            except asyncio.CancelledError:
                raise
            except Exception:  # a fault on our side of the call: logged as such, not retried
                log.exception("roll call of %s failed", call.centre_id)
                rec = rc.CallRecord(
                    call.centre_id,
                    call.attempt,
                    "technical_fault",
                    call.rang_at,
                    None,
                    self.clock(),
                    note="中枢侧故障 / hub-side fault",
                )
            async with self._lock:
                cur = self.run
                assert cur is not None
                new = rc.record(cur, rec, self.clock())
                centre = self.centres.get(call.centre_id) or rc.Centre(
                    call.centre_id, call.centre_id, "village", "", ""
                )
                try:  # durable before the run moves on
                    await self._write(lambda conn: rs.add_call(conn, new, centre, rec))
                except Exception:
                    # not logged: stop (in memory) rather than call on without a record;
                    # the officer resumes once the store is back, the call is placed again
                    log.exception("roll call of %s not written: run stopped", call.centre_id)
                    self.run = replace(cur, status="stopped")
                    return
                self.run = new
        finally:
            call.finished = True
            self.hall.ended(call.call_id, call.end_reason)
            if call.room is not None:
                await call.room.close()
            self._calls.pop(call.call_id, None)
            self._wake.set()
            self._changed()

    async def _ring(self, run: rc.Run, call: _Call) -> rc.CallRecord:
        cid = call.centre_id
        loop = asyncio.get_running_loop()
        until = loop.time() + self.link_wait_s
        while not self.online(cid) and loop.time() < until:
            await asyncio.sleep(0.1)
        if not self.online(cid):
            now = self.clock()
            return rc.CallRecord(cid, call.attempt, "link_down", None, None, now)
        call.response = loop.create_future()
        call.rang_at = self.clock()
        self._push(cid, self._ring_msg(call))
        self._changed()
        try:
            response = await asyncio.wait_for(asyncio.shield(call.response), run.ring_s)
        except TimeoutError:
            response = None
        online = self.online(cid)
        if response is None:
            self._push(cid, {"type": "cancel", "call_id": call.call_id, "reason": "timeout"})
            outcome = rc.classify(online=online, response=None, media_ok=False)
            return rc.CallRecord(cid, call.attempt, outcome, call.rang_at, None, self.clock())
        if response == "decline":
            return rc.CallRecord(cid, call.attempt, "declined", call.rang_at, None, self.clock())
        answered = self.clock()
        call.answered_at = answered
        self.setup_ms.append((answered - call.rang_at).total_seconds() * 1000)
        self._changed()  # in_call once the station's media is up (see offer)
        snap = await self._snapshot(run, call)
        if snap is None:
            self._end(call, "fault")
            self._push(cid, {"type": "hangup", "call_id": call.call_id, "reason": "fault"})
            return rc.CallRecord(
                cid, call.attempt, "technical_fault", call.rang_at, answered, self.clock()
            )
        left = run.talk_s - (self.clock() - answered).total_seconds()
        if left > 0 and not call.ended.is_set():
            with contextlib.suppress(TimeoutError):  # the talk time, or the officer ends it
                await asyncio.wait_for(call.ended.wait(), left)
        self._end(call, "done")  # (the station closing its side now is not "left")
        self._push(cid, {"type": "hangup", "call_id": call.call_id, "reason": "done"})
        c = self.centres.get(cid)
        return rc.CallRecord(
            cid,
            call.attempt,
            "answered",
            call.rang_at,
            answered,
            self.clock(),
            snapshot=str(snap),
            answered_by=c.name if c else cid,
        )

    async def _snapshot(self, run: rc.Run, call: _Call) -> Path | None:
        """Wait for the station's picture and save a decoded frame as PNG."""
        deadline = asyncio.get_running_loop().time() + self.media_timeout_s
        track = None
        while asyncio.get_running_loop().time() < deadline:
            room = call.room
            if room is not None:
                track = room.tap("snapshot", STATION_PEER, "video")
                if track is not None:
                    break
            await asyncio.sleep(0.05)
        if track is None:
            return None
        frame = None
        try:
            for _ in range(3):  # skip the first frames (often still black)
                left = deadline - asyncio.get_running_loop().time()
                frame = await asyncio.wait_for(track.recv(), max(0.5, left))
        except Exception:
            if frame is None:
                return None
        folder = self.snapshot_dir / run.week.isoformat()
        path = folder / f"{call.call_id}.png"
        if not isinstance(frame, av.VideoFrame):
            return None
        img = Image.fromarray(frame.to_ndarray(format="rgb24", threads=1))

        def save() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            img.save(path, format="PNG")

        await asyncio.to_thread(save)
        return path

    # -- scheduler --------------------------------------------------------------------------
    def next_run(self) -> datetime | None:
        return rc.next_run(self.schedule, self.clock(), self.last_week)

    def _arm(self) -> None:
        """The next scheduled start (after a schedule change or a run)."""
        self._due = self.next_run()

    async def _scheduler(self) -> None:
        self._arm()
        while True:
            await asyncio.sleep(self.tick_s)
            due = self._due
            if due is None or self.clock() < due:
                continue
            if self.run is not None and self.run.status != "done":
                self._arm()  # a run is going on: this week's slot is taken by it
                continue
            try:
                await self.start_run("scheduler")
            except HubError as exc:
                log.warning("scheduled roll call not started: %s", exc.message)
                self.last_week = rc.week_start(rc.local_day(due))  # do not retry every tick
            self._arm()

    # -- publishing ---------------------------------------------------------------------------
    def _changed(self) -> None:
        if self.run is None:
            return
        self.seq += 1
        if self.publish is not None:
            msg = RollcallChanged(seq=self.seq, run=self._run_info(self.run))
            self.publish(encode(msg))

    def _run_info(self, run: rc.Run) -> RunInfo:
        ringing = [c.centre_id for c in self._calls.values() if c.rang_at is not None]
        in_call = [
            c.centre_id
            for c in self._calls.values()
            if c.answered_at is not None and c.room is not None and not c.finished
        ]
        return run_info(run, self.centres, ringing).model_copy(update={"in_call": in_call})

    # -- queries ----------------------------------------------------------------------------
    async def week_calls(self, week: date) -> tuple[list[rc.Run], list[rc.CallRecord]]:
        runs = await asyncio.to_thread(rs.week_runs, self.store.engine, week)
        return runs, [c for r in runs for c in r.calls]

    async def week_coverage(self, week: date) -> list[rc.Coverage]:
        runs, calls = await self.week_calls(week)
        exs = [e for _, e in await asyncio.to_thread(rs.list_exemptions, self.store.engine)]
        county = self.site.name if self.site is not None else "全县"
        run_exempt = [c for r in runs for c in r.exempt]
        return rc.coverage(self.roster, exs, week, calls, county, run_exempt=run_exempt)

    def centre_infos(self, exs: Sequence[rc.Exemption]) -> list[CentreInfo]:
        today = rc.local_day(self.clock())
        out = []
        for c in self.roster:
            ex = rc.exempt_reason(exs, c.id, today)
            out.append(
                CentreInfo(
                    id=c.id,
                    name=c.name,
                    level=c.level,
                    township=c.township,
                    township_name=c.township_name,
                    online=self.online(c.id),
                    exempt=rc.REASON_ZH[ex.reason] if ex else "",
                )
            )
        return out

    # -- zmq requests ---------------------------------------------------------------------
    async def handle(self, session: Session, req: RollcallRequest) -> RollcallReply:
        try:
            return await self._handle(session, req)
        except rc.RollcallError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None

    async def _handle(self, session: Session, req: RollcallRequest) -> RollcallReply:
        eng = self.store.engine
        rid = req.rid
        week = req.week or rc.week_start(rc.local_day(self.clock()))
        op = req.op
        if op == "roster":
            rows = await asyncio.to_thread(rs.list_exemptions, eng)
            return RollcallReply(
                rid=rid,
                seq=self.seq,
                centres=self.centre_infos([e for _, e in rows]),
                exemptions=[_ex_info(i, e) for i, e in rows],
                schedule=schedule_info(self.schedule, self.next_run(), self.last_week),
            )
        if op in ("start", "stop", "resume"):
            run: rc.Run
            if op == "start":
                run = await self.start_run(
                    session.operator, batch=req.batch, ring_s=req.ring_s, talk_s=req.talk_s
                )
            elif op == "stop":
                run = await self.stop_run()
            else:
                run = await self.resume_run()
            return RollcallReply(rid=rid, seq=self.seq, run=self._run_info(run))
        if op == "status":
            return RollcallReply(
                rid=rid,
                seq=self.seq,
                run=self._run_info(self.run) if self.run is not None else None,
                schedule=schedule_info(self.schedule, self.next_run(), self.last_week),
            )
        if op in ("week", "coverage"):
            runs, _ = await self.week_calls(week)
            cov = await self.week_coverage(week)
            return RollcallReply(
                rid=rid,
                seq=self.seq,
                runs=[run_info(r, self.centres) for r in runs],
                calls=[call_info(c, self.centres, r.id) for r in runs for c in r.calls],
                coverage=[_cov_info(c) for c in cov],
            )
        if op == "weeks":
            return RollcallReply(rid=rid, weeks=await asyncio.to_thread(rs.weeks, eng))
        if op == "export":
            from dispatch.rollcall.export import export_week

            runs, _ = await self.week_calls(week)
            cov = await self.week_coverage(week)
            out_dir = self.snapshot_dir.parent / "rollcall-exports"
            county = self.site.name if self.site is not None else "全县"
            files = await asyncio.to_thread(
                export_week, out_dir, week, runs, cov, self.centres, county, req.formats
            )
            return RollcallReply(rid=rid, files=[str(f) for f in files])
        if op == "add_exemption":
            e = req.exemption
            if e is None:
                raise HubError(ErrorCode.INVALID, "缺少豁免内容 / exemption missing")
            ex = rc.validate_exemption(
                rc.Exemption(e.centre_id, e.start, e.end, e.reason, e.note), self.roster
            )
            await self._write(
                lambda conn: rs.add_exemption(conn, ex, session.operator, self.clock())
            )
            return await self._handle(session, req.model_copy(update={"op": "roster"}))
        if op == "remove_exemption":
            ex_id = req.exemption_id
            if ex_id is None or not await self._write(
                lambda conn: rs.remove_exemption(conn, ex_id)
            ):
                raise HubError(ErrorCode.NOT_FOUND, "没有该豁免 / no such exemption")
            return await self._handle(session, req.model_copy(update={"op": "roster"}))
        if op == "set_schedule":
            s = req.schedule
            if s is None:
                raise HubError(ErrorCode.INVALID, "缺少计划 / schedule missing")
            hh, mm = (int(x) for x in s.at.split(":"))
            self.schedule = rc.Schedule(s.weekday, time(hh, mm), s.ring_s, s.batch, s.enabled)
            await self._write(lambda conn: rs.save_schedule(conn, self.schedule, self.last_week))
            self._arm()
            return RollcallReply(
                rid=rid, schedule=schedule_info(self.schedule, self.next_run(), self.last_week)
            )
        if op == "note":
            return await self._note(req)
        if op == "station_link":
            if req.centre_id is None:
                raise HubError(ErrorCode.INVALID, "缺少中心 / centre_id missing")
            token, pin, _ = await self.issue_link(req.centre_id, timedelta(days=req.ttl_days))
            return RollcallReply(rid=rid, path=f"/s/{token}", pin=pin)
        if op == "end_call":
            return self._end_call(req)
        if op == "watch":
            return self._watch(req)
        raise HubError(ErrorCode.INVALID, f"unknown roll-call op {op!r}")  # pragma: no cover

    def _end_call(self, req: RollcallRequest) -> RollcallReply:
        """The officer ends the current (answered) call of `centre_id` before its talk time."""
        if req.centre_id is None:
            raise HubError(ErrorCode.INVALID, "缺少中心 / centre_id missing")
        calls = [c for c in self._calls.values() if c.centre_id == req.centre_id]
        if not calls or calls[0].room is None:
            raise HubError(
                ErrorCode.NOT_FOUND, "该中心没有进行中的通话 / no call in progress with it"
            )
        self._end(calls[0], "officer")
        return RollcallReply(
            rid=req.rid, seq=self.seq, run=self._run_info(self.run) if self.run else None
        )

    async def _note(self, req: RollcallRequest) -> RollcallReply:
        centre_id, attempt, note = req.centre_id, req.attempt, req.note
        if centre_id is None or attempt is None or note is None:
            raise HubError(ErrorCode.INVALID, "备注需要 centre_id、attempt 和 note / incomplete")
        run_id = self.run.id if self.run is not None else ""
        async with self._lock:
            ok = await self._write(lambda conn: rs.set_note(conn, run_id, centre_id, attempt, note))
            if not ok:
                raise HubError(ErrorCode.NOT_FOUND, "没有该呼叫记录 / no such call")
            if self.run is not None:
                self.run = rc.set_note(self.run, centre_id, attempt, note)
        self._changed()
        return RollcallReply(
            rid=req.rid, seq=self.seq, run=self._run_info(self.run) if self.run else None
        )


def _ex_info(i: int, e: rc.Exemption) -> ExemptionInfo:
    return ExemptionInfo(
        id=i, centre_id=e.centre_id, start=e.start, end=e.end, reason=e.reason, note=e.note
    )


def _cov_info(c: rc.Coverage) -> CoverageInfo:
    return CoverageInfo(
        township=c.township, name=c.name, due=c.due, reached=c.reached, exempt=c.exempt
    )
