"""The run loop: a run is written before it starts; the runner places the calls `plan()`
gives, and every finished call is written to `rollcall_log` (with the run's status, one
transaction) before the run moves on. On start the hub reloads the open run and carries
on: a call that was ringing when the hub died is placed again.

A call: offline → `link_down` at once (after `link_wait_s` for the page to come back);
else a `ring` push with the countdown; the page answers or declines; no response within
`ring_s` → `no_answer`; answered but no picture within `media_timeout_s` →
`technical_fault`; answered by a page without a camera (it says why) → held receive-only
and logged `no_camera` with the reason as the note. The first frames of the station's
camera are decoded and saved as the answerer's snapshot (PNG). The call is held
`talk_s` (or until the officer or the station ends it), then `hangup` is pushed and the
room closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import av
from PIL import Image

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs
from dispatch.rollcall.messages import StationCancel, StationHangup
from dispatch.rollcall.service.signalling import STATION_PEER, Signalling
from dispatch.rollcall.service.state import Board, Call, Db, Settings
from dispatch.rollcall.service.stations import Stations
from streams.private import private_file

log = logging.getLogger(__name__)


def _run_id(now: datetime) -> str:
    return f"rc-{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class Runner:
    def __init__(
        self,
        board: Board,
        db: Db,
        stations: Stations,
        signalling: Signalling,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        snapshot_dir: Path,
    ) -> None:
        self.board = board
        self.db = db
        self.stations = stations
        self.signalling = signalling
        self.settings = settings
        self.clock = clock
        self.snapshot_dir = snapshot_dir
        self.setup_ms: list[float] = []  # ring → answered (benchmarks)
        self._task: asyncio.Task[None] | None = None

    # -- runs -------------------------------------------------------------------------------
    async def start_run(
        self,
        by: str,
        *,
        batch: int | None = None,
        ring_s: float | None = None,
        talk_s: float | None = None,
    ) -> rc.Run:
        b = self.board
        async with b.lock:
            if b.run is not None and b.run.status != "done":
                raise HubError(
                    ErrorCode.CONFLICT, f"点名 {b.run.id} 尚未结束 / run {b.run.id} is not finished"
                )
            if not b.roster:
                raise HubError(ErrorCode.INVALID, "站点配置中没有中心 / no centres in the site")
            now = self.clock()
            exs = [e for _, e in await self.db.read(rs.list_exemptions)]
            try:
                run = rc.new_run(
                    _run_id(now),
                    b.roster,
                    exs,
                    now,
                    batch=batch or b.schedule.batch,
                    ring_s=ring_s or b.schedule.ring_s,
                    talk_s=talk_s if talk_s is not None else rc.DEFAULT_TALK_S,
                    started_by=by,
                )
            except rc.RollcallError as exc:
                raise HubError(ErrorCode.INVALID, str(exc)) from None
            await self.db.write(lambda conn: rs.add_run(conn, run))
            b.run = run
            b.last_week = run.week
            await self.db.write(lambda conn: rs.save_schedule(conn, b.schedule, b.last_week))
        b.changed()
        self.spawn()
        return run

    async def stop_run(self) -> rc.Run:
        run = await self._set_status(rc.stop)
        self.board.wake.set()
        self.board.changed()
        return run

    async def resume_run(self) -> rc.Run:
        run = await self._set_status(rc.resume)
        self.board.changed()
        self.spawn()
        return run

    async def _set_status(self, change: Callable[[rc.Run], rc.Run]) -> rc.Run:
        async with self.board.lock:
            try:
                run = change(self.board.need_run())
            except rc.RollcallError as exc:
                raise HubError(ErrorCode.CONFLICT, str(exc)) from None
            await self.db.write(lambda conn: rs.set_status(conn, run.id, run.status, None))
            self.board.run = run
        return run

    # -- the loop ---------------------------------------------------------------------------
    def spawn(self, delay_s: float = 0.0) -> None:
        if self._task is not None and not self._task.done():
            self.board.wake.set()
            return
        self._task = asyncio.create_task(self._loop(delay_s), name="rollcall-run")

    async def stop(self) -> None:
        """Cancel the loop and close the calls in flight (their rooms go)."""
        t, self._task = self._task, None
        if t is not None:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for call in list(self.board.calls.values()):
            await self.signalling.close(call, "stopped")
        self.board.calls.clear()

    async def _loop(self, delay_s: float = 0.0) -> None:
        b = self.board
        tasks: set[asyncio.Task[None]] = set()
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        try:
            while True:
                run = b.run
                if run is None:
                    return
                busy = [(c.centre_id, c.attempt) for c in b.calls.values()]
                for centre, attempt in rc.plan(run, busy):
                    call = Call(f"{run.id}-{centre}-{attempt}", centre, attempt)
                    b.calls[call.call_id] = call
                    t = asyncio.create_task(self._place(run, call))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                if not b.calls and (run.status != "running" or rc.finished(run)):
                    return
                b.wake.clear()
                await b.wake.wait()
        finally:
            for t in tasks:
                t.cancel()

    async def _place(self, run: rc.Run, call: Call) -> None:
        b = self.board
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
            async with b.lock:
                await self._record(call, rec)
        finally:
            await self.signalling.close(call, call.end_reason)
            b.calls.pop(call.call_id, None)
            b.wake.set()
            b.changed()

    async def _record(self, call: Call, rec: rc.CallRecord) -> None:
        """Write the finished call (durable before the run moves on); under the lock."""
        b = self.board
        cur = b.run
        assert cur is not None
        new = rc.record(cur, rec, self.clock())
        centre = b.centres.get(call.centre_id) or rc.Centre(
            call.centre_id, call.centre_id, "village", "", ""
        )
        try:
            await self.db.write(lambda conn: rs.add_call(conn, new, centre, rec))
        except Exception:
            # not logged: stop (in memory) rather than call on without a record;
            # the officer resumes once the store is back, the call is placed again
            log.exception("roll call of %s not written: run stopped", call.centre_id)
            b.run = replace(cur, status="stopped")
            return
        b.run = new

    async def _ring(self, run: rc.Run, call: Call) -> rc.CallRecord:
        cid = call.centre_id
        loop = asyncio.get_running_loop()
        until = loop.time() + self.settings.link_wait_s
        while not self.stations.online(cid) and loop.time() < until:
            await asyncio.sleep(0.1)
        if not self.stations.online(cid):
            return rc.CallRecord(cid, call.attempt, "link_down", None, None, self.clock())
        call.response = loop.create_future()
        call.rang_at = self.clock()
        self.stations.push(cid, self.signalling.ring_msg(call))
        self.board.changed()
        try:
            response = await asyncio.wait_for(asyncio.shield(call.response), run.ring_s)
        except TimeoutError:
            response = None
        if response is None:
            self.stations.push(cid, StationCancel(call_id=call.call_id, reason="timeout"))
            online = self.stations.online(cid)
            outcome = rc.classify(online=online, response=None, media_ok=False)
            return rc.CallRecord(cid, call.attempt, outcome, call.rang_at, None, self.clock())
        if response == "decline":
            return rc.CallRecord(cid, call.attempt, "declined", call.rang_at, None, self.clock())
        return await self._talk(run, call)

    async def _talk(self, run: rc.Run, call: Call) -> rc.CallRecord:
        """An answered call: the snapshot, the talk time, the hangup."""
        cid = call.centre_id
        assert call.rang_at is not None
        answered = self.clock()
        call.answered_at = answered
        self.setup_ms.append((answered - call.rang_at).total_seconds() * 1000)
        self.board.changed()  # in_call once the station's media is up (see offer)
        if call.no_camera is not None:  # receive-only: no picture to wait for
            return await self._hold(run, call, None)
        snap = await self._snapshot(run, call)
        if snap is None:
            call.end("fault")
            self.stations.push(cid, StationHangup(call_id=call.call_id, reason="fault"))
            return rc.CallRecord(
                cid, call.attempt, "technical_fault", call.rang_at, answered, self.clock()
            )
        return await self._hold(run, call, snap)

    async def _hold(self, run: rc.Run, call: Call, snap: Path | None) -> rc.CallRecord:
        """Hold the answered call for the talk time (or until ended), then hang up; the
        record is `answered` with the snapshot, or `no_camera` with the page's reason."""
        cid = call.centre_id
        answered = call.answered_at
        assert answered is not None
        # the talk time left, never more than the whole nor less than nothing (the wall
        # clock may have jumped since the answer: the wait itself runs on the loop's clock)
        talked = (self.clock() - answered).total_seconds()
        left = min(float(run.talk_s), max(0.0, run.talk_s - talked))
        if left > 0 and not call.ended.is_set():
            with contextlib.suppress(TimeoutError):  # the talk time, or the officer ends it
                await asyncio.wait_for(call.ended.wait(), left)
        call.end("done")  # (the station closing its side now is not "left")
        self.stations.push(cid, StationHangup(call_id=call.call_id, reason="done"))
        why = call.no_camera
        return rc.CallRecord(
            cid,
            call.attempt,
            "answered" if why is None else "no_camera",
            call.rang_at,
            answered,
            self.clock(),
            snapshot=str(snap) if snap is not None else None,
            note=rc.NO_CAMERA_ZH.get(why, "") if why is not None else "",
            answered_by=self.board.centre_name(cid),
        )

    async def _snapshot(self, run: rc.Run, call: Call) -> Path | None:
        """Wait for the station's picture and save a decoded frame as PNG."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.media_timeout_s
        track = None
        while loop.time() < deadline:
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
                left = deadline - loop.time()
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
            img.save(private_file(path), format="PNG")

        await asyncio.to_thread(save)
        return path
