"""Qt-free rows for the roll-call panel, made from the hub's typed replies, in the
console's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.rollcall.strings import outcome_name, t
from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall.messages import (
    CentreInfo,
    CoverageInfo,
    ExemptionInfo,
    RunInfo,
    ScheduleInfo,
)


def hm(dt: datetime | None) -> str:
    return "" if dt is None else dt.astimezone(CHINA_TZ).strftime("%m-%d %H:%M:%S")


def secs(x: float | None) -> str:
    return "" if x is None else t("secs", s=x)


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    tone: str = ""  # "", "ok", "warn", "bad", "busy"


def roster_rows(centres: list[CentreInfo], exemptions: list[ExemptionInfo]) -> list[Row]:
    by_centre: dict[str, list[ExemptionInfo]] = {}
    for e in exemptions:
        by_centre.setdefault(e.centre_id, []).append(e)
    out = []
    for c in centres:
        exs = t("list_sep").join(
            t(
                "exemption",
                reason=t(f"reason.{e.reason}"),
                start=f"{e.start:%m-%d}",
                end=f"{e.end:%m-%d}",
            )
            for e in by_centre.get(c.id, [])
        )
        out.append(
            Row(
                (
                    c.township_name,
                    (t("indent") if c.level == "village" else "") + c.name,
                    t(f"level.{c.level}"),
                    t("online") if c.online else t("offline"),
                    exs,
                ),
                "ok" if c.online else ("warn" if c.exempt else "bad"),
            )
        )
    return out


def schedule_text(s: ScheduleInfo | None) -> str:
    if s is None:
        return t("no_schedule")
    return t(
        "schedule",
        day=t(f"weekday.{s.weekday}"),
        at=s.at,
        state="" if s.enabled else t("disabled"),
        ring=s.ring_s,
        batch=s.batch,
        next=hm(s.next_run) if s.next_run else "—",
    )


def run_rows(run: RunInfo, names: dict[str, tuple[str, str]]) -> list[Row]:
    """One row per due centre: first call, re-call, times, note; ringing ones marked."""
    calls = {(c.centre_id, c.attempt): c for c in run.calls}
    out = []
    for cid in run.due:
        town, name = names.get(cid, ("", cid))
        first, again = calls.get((cid, 1)), calls.get((cid, 2))
        if cid in run.in_call:
            state, tone = t("state.in_call"), "busy"
        elif cid in run.ringing:
            state, tone = t("state.ringing"), "busy"
        elif first is None:
            state, tone = t("state.waiting"), ""
        elif first.outcome == "answered" or (again is not None and again.outcome == "answered"):
            state, tone = t("state.reached"), "ok"
        elif again is None:
            state, tone = t("state.recall"), "warn"
        else:
            state, tone = t("state.missed"), "bad"
        best = again if again is not None and again.outcome == "answered" else first
        out.append(
            Row(
                (
                    town,
                    name,
                    state,
                    outcome_name(first.outcome) if first else "",
                    outcome_name(again.outcome) if again else "",
                    secs(best.answer_s) if best else "",
                    secs(best.duration_s) if best else "",
                    t("has_snapshot") if best and best.snapshot else "",
                    t("list_sep").join(x.note for x in (first, again) if x is not None and x.note),
                ),
                tone,
            )
        )
    return out


def run_summary(run: RunInfo | None) -> str:
    if run is None:
        return t("no_run")
    reached = {c.centre_id for c in run.calls if c.outcome == "answered"}
    made = len({c.centre_id for c in run.calls if c.attempt == 1})
    left = len(run.recalls) - sum(1 for c in run.calls if c.attempt == 2)
    return t(
        "summary",
        id=run.id,
        status=t(f"status.{run.status}"),
        made=made,
        due=len(run.due),
        reached=len(reached),
        left=left,
        exempt=len(run.exempt),
    )


def coverage_rows(cov: list[CoverageInfo]) -> list[Row]:
    out = []
    for c in cov:
        share = c.reached / c.due if c.due else 1.0
        out.append(
            Row(
                (c.name, str(c.due), str(c.reached), f"{share:.0%}", str(c.exempt)),
                "ok" if share >= 1.0 else ("warn" if share >= 0.9 else "bad"),
            )
        )
    return out
