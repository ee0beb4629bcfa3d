"""The roll call's core values as wire types (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from dispatch.rollcall import core as rc
from dispatch.rollcall.messages import (
    CallInfo,
    CoverageInfo,
    ExemptionInfo,
    RunInfo,
    ScheduleInfo,
)


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


def exemption_info(i: int, e: rc.Exemption) -> ExemptionInfo:
    return ExemptionInfo(
        id=i, centre_id=e.centre_id, start=e.start, end=e.end, reason=e.reason, note=e.note
    )


def coverage_info(c: rc.Coverage) -> CoverageInfo:
    return CoverageInfo(
        township=c.township, name=c.name, due=c.due, reached=c.reached, exempt=c.exempt
    )
