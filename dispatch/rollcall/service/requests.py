"""The console's roll-call requests over zmq, one handler per request type, and the glue
to the week's log, coverage and export (`dispatch.rollcall.export`).

Each handler takes the caller's session and its own request type and returns its own
reply type; `handlers()` lists them for the hub's handler registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.auth import Session
from dispatch.hub.turn import console_ice_name, ice_info
from dispatch.meetings import store as ms
from dispatch.meetings.core import week_bounds
from dispatch.meetings.export import MEETING_HEADER, meeting_rows
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs
from dispatch.rollcall.messages import (
    CentreInfo,
    RollcallAddExemptionReply,
    RollcallAddExemptionRequest,
    RollcallCoverageReply,
    RollcallCoverageRequest,
    RollcallEndCallReply,
    RollcallEndCallRequest,
    RollcallExportReply,
    RollcallExportRequest,
    RollcallNoteReply,
    RollcallNoteRequest,
    RollcallRemoveExemptionReply,
    RollcallRemoveExemptionRequest,
    RollcallReply,
    RollcallRequestBase,
    RollcallResumeReply,
    RollcallResumeRequest,
    RollcallRosterReply,
    RollcallRosterRequest,
    RollcallScheduleReply,
    RollcallSetScheduleRequest,
    RollcallStartReply,
    RollcallStartRequest,
    RollcallStationLinkReply,
    RollcallStationLinkRequest,
    RollcallStatusReply,
    RollcallStatusRequest,
    RollcallStopReply,
    RollcallStopRequest,
    RollcallWatchReply,
    RollcallWatchRequest,
    RollcallWeekReply,
    RollcallWeekRequest,
    RollcallWeeksReply,
    RollcallWeeksRequest,
)
from dispatch.rollcall.service.runner import Runner
from dispatch.rollcall.service.scheduler import Scheduler
from dispatch.rollcall.service.signalling import Signalling
from dispatch.rollcall.service.state import Board, Db
from dispatch.rollcall.service.stations import Stations
from dispatch.rollcall.service.views import call_info, coverage_info, exemption_info, run_info

Handler = Callable[[Session, Any], Awaitable[RollcallReply]]


def week_meetings(
    eng: Engine, week: date, centres: dict[str, rc.Centre], now: datetime
) -> tuple[list[str], list[list[str]]]:
    """The week's video meetings for the 调度日志 (header, rows)."""
    start, end = week_bounds(week)
    found = ms.between(eng, start, end)
    logs = ms.logs_of(eng, [m.id for m in found])
    names = {c.id: c.name for c in centres.values()}
    return MEETING_HEADER, meeting_rows(found, logs, names, now)


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

    def handlers(self) -> dict[type[RollcallRequestBase], Handler]:
        """Request type → its handler (for the hub's registry)."""
        return {
            RollcallRosterRequest: self.roster,
            RollcallStartRequest: self.start,
            RollcallStopRequest: self.stop,
            RollcallResumeRequest: self.resume,
            RollcallStatusRequest: self.status,
            RollcallWeekRequest: self.week,
            RollcallCoverageRequest: self.coverage,
            RollcallWeeksRequest: self.weeks,
            RollcallExportRequest: self.export,
            RollcallAddExemptionRequest: self.add_exemption,
            RollcallRemoveExemptionRequest: self.remove_exemption,
            RollcallSetScheduleRequest: self.set_schedule,
            RollcallNoteRequest: self.note,
            RollcallStationLinkRequest: self.station_link,
            RollcallEndCallRequest: self.end_call,
            RollcallWatchRequest: self.watch,
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

    def _week_of(self, week: date | None) -> date:
        return week or rc.week_start(rc.local_day(self.clock()))

    # -- the roster and the schedule --------------------------------------------------------
    async def _roster_body(self) -> dict[str, Any]:
        rows = await self.db.read(rs.list_exemptions)
        return {
            "seq": self.board.seq,
            "centres": self.centre_infos([e for _, e in rows]),
            "exemptions": [exemption_info(i, e) for i, e in rows],
            "schedule": self.scheduler.info(),
        }

    async def roster(self, _session: Session, req: RollcallRosterRequest) -> RollcallRosterReply:
        return RollcallRosterReply(rid=req.rid, **await self._roster_body())

    async def add_exemption(
        self, session: Session, req: RollcallAddExemptionRequest
    ) -> RollcallAddExemptionReply:
        e = req.exemption
        try:
            ex = rc.validate_exemption(
                rc.Exemption(e.centre_id, e.start, e.end, e.reason, e.note), self.board.roster
            )
        except rc.RollcallError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None
        await self.db.write(lambda conn: rs.add_exemption(conn, ex, session.operator, self.clock()))
        return RollcallAddExemptionReply(rid=req.rid, **await self._roster_body())

    async def remove_exemption(
        self, _session: Session, req: RollcallRemoveExemptionRequest
    ) -> RollcallRemoveExemptionReply:
        ex_id = req.exemption_id
        if not await self.db.write(lambda conn: rs.remove_exemption(conn, ex_id)):
            raise HubError(ErrorCode.NOT_FOUND, "没有该豁免 / no such exemption")
        return RollcallRemoveExemptionReply(rid=req.rid, **await self._roster_body())

    async def set_schedule(
        self, _session: Session, req: RollcallSetScheduleRequest
    ) -> RollcallScheduleReply:
        return RollcallScheduleReply(rid=req.rid, schedule=await self.scheduler.set(req.schedule))

    async def station_link(
        self, _session: Session, req: RollcallStationLinkRequest
    ) -> RollcallStationLinkReply:
        token, pin, _ = await self.stations.issue_link(req.centre_id, timedelta(days=req.ttl_days))
        return RollcallStationLinkReply(rid=req.rid, path=f"/s/{token}", pin=pin)

    # -- the run ------------------------------------------------------------------------------
    async def start(self, session: Session, req: RollcallStartRequest) -> RollcallStartReply:
        run = await self.runner.start_run(
            session.operator, batch=req.batch, ring_s=req.ring_s, talk_s=req.talk_s
        )
        return RollcallStartReply(rid=req.rid, seq=self.board.seq, run=self.board.run_info(run))

    async def stop(self, _session: Session, req: RollcallStopRequest) -> RollcallStopReply:
        run = await self.runner.stop_run()
        return RollcallStopReply(rid=req.rid, seq=self.board.seq, run=self.board.run_info(run))

    async def resume(self, _session: Session, req: RollcallResumeRequest) -> RollcallResumeReply:
        run = await self.runner.resume_run()
        return RollcallResumeReply(rid=req.rid, seq=self.board.seq, run=self.board.run_info(run))

    async def status(self, _session: Session, req: RollcallStatusRequest) -> RollcallStatusReply:
        b = self.board
        return RollcallStatusReply(
            rid=req.rid, seq=b.seq, run=b.current(), schedule=self.scheduler.info()
        )

    async def note(self, _session: Session, req: RollcallNoteRequest) -> RollcallNoteReply:
        centre_id, attempt, note = req.centre_id, req.attempt, req.note
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
        return RollcallNoteReply(rid=req.rid, seq=b.seq, run=b.current())

    async def end_call(
        self, _session: Session, req: RollcallEndCallRequest
    ) -> RollcallEndCallReply:
        self.signalling.end_call(req.centre_id)
        return RollcallEndCallReply(rid=req.rid, seq=self.board.seq, run=self.board.current())

    async def watch(self, session: Session, req: RollcallWatchRequest) -> RollcallWatchReply:
        """The hall's path + session into the answered call of `centre_id` (or the first),
        with ICE servers (fresh TURN credentials) for the console's connection."""
        w = self.signalling.watch(req.centre_id)
        call = w.call
        return RollcallWatchReply(
            rid=req.rid,
            seq=self.board.seq,
            path=f"/rollcall/hall/{call.call_id}",
            session=w.token,
            call_id=call.call_id,
            centre_id=call.centre_id,
            centre_name=self.board.centre_name(call.centre_id),
            answered_at=call.answered_at,
            ice=ice_info(self.signalling.ice(console_ice_name(session.workstation))),
        )

    # -- the log ------------------------------------------------------------------------------
    async def _week_body(self, week: date | None) -> dict[str, Any]:
        wk = self._week_of(week)
        runs, _ = await self.week_calls(wk)
        cov = await self.week_coverage(wk)
        centres = self.board.centres
        return {
            "seq": self.board.seq,
            "runs": [run_info(r, centres) for r in runs],
            "calls": [call_info(c, centres, r.id) for r in runs for c in r.calls],
            "coverage": [coverage_info(c) for c in cov],
        }

    async def week(self, _session: Session, req: RollcallWeekRequest) -> RollcallWeekReply:
        return RollcallWeekReply(rid=req.rid, **await self._week_body(req.week))

    async def coverage(
        self, _session: Session, req: RollcallCoverageRequest
    ) -> RollcallCoverageReply:
        return RollcallCoverageReply(rid=req.rid, **await self._week_body(req.week))

    async def weeks(self, _session: Session, req: RollcallWeeksRequest) -> RollcallWeeksReply:
        return RollcallWeeksReply(rid=req.rid, weeks=await self.db.read(rs.weeks))

    async def export(self, _session: Session, req: RollcallExportRequest) -> RollcallExportReply:
        from dispatch.rollcall.export import export_week

        week = self._week_of(req.week)
        runs, _ = await self.week_calls(week)
        cov = await self.week_coverage(week)
        centres, county, fmts = self.board.centres, self.county, req.formats
        meetings = await self.db.read(lambda eng: week_meetings(eng, week, centres, self.clock()))
        files = await asyncio.to_thread(
            export_week, self.export_dir, week, runs, cov, centres, county, fmts, meetings
        )
        return RollcallExportReply(rid=req.rid, files=[str(f) for f in files])
