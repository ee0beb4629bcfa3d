"""Qt-free model of the roll-call panel: `RollcallModel` holds what the panel shows (the
roster, the live run, the weeks, the week's log, the status line, and the video area's
`CallModel`) and emits on each change through `console.kit.observable.Observable`s; the
controller changes it, the panel observes it. The rows it is shown as are made here from
the hub's typed replies, in the console's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from console.kit.observable import Observable
from console.rollcall.call_model import CallModel
from console.rollcall.strings import outcome_name, t
from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall.core import ANSWERED
from dispatch.rollcall.messages import (
    CallInfo,
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


def active_call(run: RunInfo | None) -> list[str]:
    """The centres being called now (a running run's `ringing`)."""
    return list(run.ringing) if run is not None and run.status == "running" else []


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
        elif "answered" in {first.outcome, again.outcome if again else ""}:
            state, tone = t("state.reached"), "ok"
        elif "no_camera" in {first.outcome, again.outcome if again else ""}:
            state, tone = t("state.no_camera"), "warn"  # answered, but no picture
        elif again is None:
            state, tone = t("state.recall"), "warn"
        else:
            state, tone = t("state.missed"), "bad"
        best = again if again is not None and again.outcome in ANSWERED else first
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
    reached = {c.centre_id for c in run.calls if c.outcome in ANSWERED}
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


_LOG_TONE = {"answered": "ok", "no_camera": "warn"}


def log_rows(calls: list[CallInfo]) -> list[Row]:
    """The week's log: one row per call made."""
    return [
        Row(
            (
                c.township,
                c.centre_name,
                t("first_call") if c.attempt == 1 else t("col.recall"),
                outcome_name(c.outcome),
                hm(c.rang_at),
                secs(c.answer_s),
                secs(c.duration_s),
                c.note,
            ),
            _LOG_TONE.get(c.outcome, "bad"),
        )
        for c in calls
    ]


@dataclass(frozen=True)
class Roster:
    """The centres, their exemptions and the weekly schedule, as the hub last sent them."""

    centres: tuple[CentreInfo, ...] = ()
    exemptions: tuple[ExemptionInfo, ...] = ()
    schedule: ScheduleInfo | None = None


@dataclass(frozen=True)
class WeekChoice:
    """The weeks to pick from (newest first) and the current one."""

    weeks: tuple[date, ...]
    current: date


@dataclass(frozen=True)
class WeekShown:
    """One week's coverage and log."""

    week: date
    coverage: tuple[CoverageInfo, ...]
    calls: tuple[CallInfo, ...]


class RollcallModel:
    """The roll-call panel's state. Observables, each emitted after its change:
    `roster_changed(Roster)`, `run_changed(RunInfo | None)`, `weeks_changed(WeekChoice)`,
    `week_changed(WeekShown)`, `status_changed(str)`. `call` is the video area's model."""

    def __init__(self) -> None:
        self._roster = Roster()
        self._names: dict[str, tuple[str, str]] = {}
        self._run: RunInfo | None = None
        self._weeks: WeekChoice | None = None
        self._week: WeekShown | None = None
        self._status = ""
        self.call = CallModel()
        self.roster_changed: Observable[Roster] = Observable()
        self.run_changed: Observable[RunInfo | None] = Observable()
        self.weeks_changed: Observable[WeekChoice] = Observable()
        self.week_changed: Observable[WeekShown] = Observable()
        self.status_changed: Observable[str] = Observable()

    # -- reading ---------------------------------------------------------------------------
    @property
    def roster(self) -> Roster:
        return self._roster

    @property
    def names(self) -> dict[str, tuple[str, str]]:
        """Centre id -> (township, name), from the roster."""
        return dict(self._names)

    @property
    def run(self) -> RunInfo | None:
        return self._run

    @property
    def weeks(self) -> WeekChoice | None:
        return self._weeks

    @property
    def week(self) -> WeekShown | None:
        return self._week

    @property
    def status(self) -> str:
        return self._status

    def centre_name(self, centre_id: str) -> str:
        town, name = self._names.get(centre_id, ("", centre_id))
        return f"{town} {name}".strip() if town and town != name else name

    # -- changing --------------------------------------------------------------------------
    def show_roster(
        self,
        centres: list[CentreInfo],
        exemptions: list[ExemptionInfo],
        schedule: ScheduleInfo | None,
    ) -> None:
        self._roster = Roster(tuple(centres), tuple(exemptions), schedule)
        self._names = {c.id: (c.township_name, c.name) for c in centres}
        self.roster_changed.emit(self._roster)

    def show_run(self, run: RunInfo | None) -> None:
        self._run = run
        self.run_changed.emit(run)

    def show_weeks(self, weeks: list[date], current: date) -> None:
        self._weeks = WeekChoice(tuple(sorted({*weeks, current}, reverse=True)), current)
        self.weeks_changed.emit(self._weeks)

    def show_week(self, week: date, coverage: list[CoverageInfo], calls: list[CallInfo]) -> None:
        self._week = WeekShown(week, tuple(coverage), tuple(calls))
        self.week_changed.emit(self._week)

    def set_status(self, text: str) -> None:
        self._status = text
        self.status_changed.emit(text)
