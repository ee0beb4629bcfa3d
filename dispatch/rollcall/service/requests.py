"""The console's roll-call requests over zmq, one handler per operation, and the glue to
the week's log, coverage and export (`dispatch.rollcall.export`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.auth import Session
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs
from dispatch.rollcall.messages import CentreInfo, RollcallReply, RollcallRequest
from dispatch.rollcall.service.runner import Runner
from dispatch.rollcall.service.scheduler import Scheduler
from dispatch.rollcall.service.signalling import Signalling
from dispatch.rollcall.service.state import Board, Db
from dispatch.rollcall.service.stations import Stations
from dispatch.rollcall.service.views import call_info, coverage_info, exemption_info, run_info

Handler = Callable[[Session, RollcallRequest], Awaitable[RollcallReply]]


class Requests:
    def __init__(
        self,
        board: Board,
        db: Db,
        site: Site | None,
        stations: Stations,
        signalling: Signalling,
        runner: Runner,
        scheduler: Scheduler,
        *,
        clock: Callable[[], datetime],
        export_dir: Path,
    ) -> None:
        self.board = board
        self.db = db
        self.site = site
        self.stations = stations
        self.signalling = signalling
        self.runner = runner
        self.scheduler = scheduler
        self.clock = clock
        self.export_dir = export_dir
        self._ops: dict[str, Handler] = {
            "roster": self._roster,
            "start": self._start,
            "stop": self._stop,
            "resume": self._resume,
            "status": self._status,
            "week": self._week,
            "coverage": self._week,
            "weeks": self._weeks,
            "export": self._export,
            "add_exemption": self._add_exemption,
            "remove_exemption": self._remove_exemption,
            "set_schedule": self._set_schedule,
            "note": self._note,
            "station_link": self._station_link,
            "end_call": self._end_call,
            "watch": self._watch,
        }

    @property
    def county(self) -> str:
        return self.site.name if self.site is not None else "全县"

    # -- the week's log, coverage and export ----------------------------------------------------
    async def week_calls(self, week: date) -> tuple[list[rc.Run], list[rc.CallRecord]]:
        runs = await self.db.read(lambda eng: rs.week_runs(eng, week))
        return runs, [c for r in runs for c in r.calls]

    async def week_coverage(self, week: date) -> list[rc.Coverage]:
        runs, calls = await self.week_calls(week)
        exs = [e for _, e in await self.db.read(rs.list_exemptions)]
        run_exempt = [c for r in runs for c in r.exempt]
        roster = self.board.roster
        return rc.coverage(roster, exs, week, calls, self.county, run_exempt=run_exempt)

    def centre_infos(self, exs: Sequence[rc.Exemption]) -> list[CentreInfo]:
        today = rc.local_day(self.clock())
        out = []
        for c in self.board.roster:
            ex = rc.exempt_reason(exs, c.id, today)
            out.append(
                CentreInfo(
                    id=c.id,
                    name=c.name,
                    level=c.level,
                    township=c.township,
                    township_name=c.township_name,
                    online=self.stations.online(c.id),
                    exempt=rc.REASON_ZH[ex.reason] if ex else "",
                )
            )
        return out

    # -- zmq requests -----------------------------------------------------------------------
    async def handle(self, session: Session, req: RollcallRequest) -> RollcallReply:
        try:
            return await self._ops[req.op](session, req)
        except rc.RollcallError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None

    def _week_of(self, req: RollcallRequest) -> date:
        return req.week or rc.week_start(rc.local_day(self.clock()))

    async def _roster(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        rows = await self.db.read(rs.list_exemptions)
        return RollcallReply(
            rid=req.rid,
            seq=self.board.seq,
            centres=self.centre_infos([e for _, e in rows]),
            exemptions=[exemption_info(i, e) for i, e in rows],
            schedule=self.scheduler.info(),
        )

    async def _start(self, session: Session, req: RollcallRequest) -> RollcallReply:
        run = await self.runner.start_run(
            session.operator, batch=req.batch, ring_s=req.ring_s, talk_s=req.talk_s
        )
        return RollcallReply(rid=req.rid, seq=self.board.seq, run=self.board.run_info(run))

    async def _stop(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        run = await self.runner.stop_run()
        return RollcallReply(rid=req.rid, seq=self.board.seq, run=self.board.run_info(run))

    async def _resume(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        run = await self.runner.resume_run()
        return RollcallReply(rid=req.rid, seq=self.board.seq, run=self.board.run_info(run))

    async def _status(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        b = self.board
        return RollcallReply(
            rid=req.rid, seq=b.seq, run=b.current(), schedule=self.scheduler.info()
        )

    async def _week(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        week = self._week_of(req)
        runs, _ = await self.week_calls(week)
        cov = await self.week_coverage(week)
        centres = self.board.centres
        return RollcallReply(
            rid=req.rid,
            seq=self.board.seq,
            runs=[run_info(r, centres) for r in runs],
            calls=[call_info(c, centres, r.id) for r in runs for c in r.calls],
            coverage=[coverage_info(c) for c in cov],
        )

    async def _weeks(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        return RollcallReply(rid=req.rid, weeks=await self.db.read(rs.weeks))

    async def _export(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        from dispatch.rollcall.export import export_week

        week = self._week_of(req)
        runs, _ = await self.week_calls(week)
        cov = await self.week_coverage(week)
        centres, county, fmts = self.board.centres, self.county, req.formats
        files = await asyncio.to_thread(
            export_week, self.export_dir, week, runs, cov, centres, county, fmts
        )
        return RollcallReply(rid=req.rid, files=[str(f) for f in files])

    async def _add_exemption(self, session: Session, req: RollcallRequest) -> RollcallReply:
        e = req.exemption
        if e is None:
            raise HubError(ErrorCode.INVALID, "缺少豁免内容 / exemption missing")
        ex = rc.validate_exemption(
            rc.Exemption(e.centre_id, e.start, e.end, e.reason, e.note), self.board.roster
        )
        await self.db.write(lambda conn: rs.add_exemption(conn, ex, session.operator, self.clock()))
        return await self._roster(session, req)

    async def _remove_exemption(self, session: Session, req: RollcallRequest) -> RollcallReply:
        ex_id = req.exemption_id
        if ex_id is None or not await self.db.write(lambda conn: rs.remove_exemption(conn, ex_id)):
            raise HubError(ErrorCode.NOT_FOUND, "没有该豁免 / no such exemption")
        return await self._roster(session, req)

    async def _set_schedule(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        if req.schedule is None:
            raise HubError(ErrorCode.INVALID, "缺少计划 / schedule missing")
        return RollcallReply(rid=req.rid, schedule=await self.scheduler.set(req.schedule))

    async def _note(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        centre_id, attempt, note = req.centre_id, req.attempt, req.note
        if centre_id is None or attempt is None or note is None:
            raise HubError(ErrorCode.INVALID, "备注需要 centre_id、attempt 和 note / incomplete")
        b = self.board
        run_id = b.run.id if b.run is not None else ""
        async with b.lock:
            ok = await self.db.write(
                lambda conn: rs.set_note(conn, run_id, centre_id, attempt, note)
            )
            if not ok:
                raise HubError(ErrorCode.NOT_FOUND, "没有该呼叫记录 / no such call")
            if b.run is not None:
                b.run = rc.set_note(b.run, centre_id, attempt, note)
        b.changed()
        return RollcallReply(rid=req.rid, seq=b.seq, run=b.current())

    async def _station_link(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        if req.centre_id is None:
            raise HubError(ErrorCode.INVALID, "缺少中心 / centre_id missing")
        token, pin, _ = await self.stations.issue_link(req.centre_id, timedelta(days=req.ttl_days))
        return RollcallReply(rid=req.rid, path=f"/s/{token}", pin=pin)

    async def _end_call(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        if req.centre_id is None:
            raise HubError(ErrorCode.INVALID, "缺少中心 / centre_id missing")
        self.signalling.end_call(req.centre_id)
        return RollcallReply(rid=req.rid, seq=self.board.seq, run=self.board.current())

    async def _watch(self, _session: Session, req: RollcallRequest) -> RollcallReply:
        """The hall's path + session into the answered call of `centre_id` (or the first)."""
        w = self.signalling.watch(req.centre_id)
        call = w.call
        return RollcallReply(
            rid=req.rid,
            seq=self.board.seq,
            path=f"/rollcall/hall/{call.call_id}",
            session=w.token,
            call_id=call.call_id,
            centre_id=call.centre_id,
            centre_name=self.board.centre_name(call.centre_id),
            answered_at=call.answered_at,
        )
