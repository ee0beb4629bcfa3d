"""The monthly report (信息月报): every figure read from the store by SQL.

    python -m dispatch.reports.monthly --db URL --month 2026-10 --out report.pdf [--site FILE]
        [--calendar FILE] [--as-of ISO-DATETIME] [--json]

Definitions (also in docs/reports.md). The month is the local calendar month of the
work calendar's time zone, [start, end); the cut-off T is min(end, as_of).

- cohort: events whose accept (受理) audit row lies in [start, T). The counts by
  category, township and source are over the cohort.
- 化解率 (resolution rate): the share of the cohort that, before T, was archived (an
  audit row moving it to archived) or verified on site after feedback (a `verify` row).
- 超期率 (overdue rate): the share of the cohort with at least one stage that ran past
  its limit before T. Stages are read from the audit rows that change the state:
  routing runs from accept (or the last 退单 return) to route, limit `policy.routing`
  wall-clock; resolution runs from route to feedback (or a return), limit
  `resolution_days` working days plus the extension days granted within it; feedback
  runs from feedback to archive, limit `feedback_days` working days. A stage still open
  at T counts with T as its end. A stage is overdue when its end is at or after its
  deadline (as `dispatch.domain.rules.is_overdue`).
- stage times: for every state, the time from the row entering it to the row leaving
  it, over the stays that ended in [start, T) (any event, not only the cohort).
- dispatch acknowledgement: for tasks whose first `accept` row lies in [start, T), the
  time from the task's sending to that row. Task returns, escalations and dispatches
  are `task_history` rows in [start, T); event returns (退单) are `return` audit rows.
- mediation, roll calls and camera rates come from providers (`SectionProviders`);
  a section without a provider or without data says so and shows no figure.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, and_, select

from dispatch.db.store import Store, audit, events
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import Action, Event, EventSource, EventState
from dispatch.domain.rules import DEFAULT_POLICY, DeadlinePolicy
from dispatch.domain.site import Site
from dispatch.reports.hotspots import (
    DEFAULT_HOTSPOT_POLICY,
    Hotspot,
    HotspotPolicy,
    Occurrence,
    find_hotspots,
    history_start,
)
from dispatch.tasks.core import DispatchTask, TaskAction, TaskTransition
from dispatch.tasks.store import task_history, tasks

ACCEPT_ACTION = "accept"
"""The audit action of intake (`dispatch.events.core.ACCEPT`)."""

NO_DATA_ZH = "本月无数据"
NO_DATA_EN = "not yet recorded"

SOURCE_LABELS_ZH: dict[str, str] = {
    EventSource.GRID_REPORT.value: "网格员上报",
    EventSource.HOTLINE_12345.value: "12345热线",
    EventSource.PETITION.value: "信访",
    EventSource.WALK_IN.value: "来访",
    EventSource.CAMERA_ALARM.value: "视频告警",
    EventSource.CAMERA_FAULT.value: "设备故障",
}
STATE_ORDER: tuple[EventState, ...] = (
    EventState.ACCEPTED,
    EventState.REGISTERED,
    EventState.ROUTED,
    EventState.HANDLING,
    EventState.FEEDBACK,
)
STAGE_LABELS_ZH = {"routing": "分流", "resolution": "办结", "feedback": "核查回访"}
UNKNOWN_PLACE = "未填写"
_EXTENSION_NOTE = re.compile(r"^\+(\d+)")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportError(ValueError):
    """A report that cannot be made (bad month, bad arguments); the message says why."""


class Count(_Frozen):
    key: str
    label: str
    count: int


class Rate(_Frozen):
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def percent(self) -> str:
        v = self.value
        return "—" if v is None else f"{v * 100:.1f}%"


class Durations(_Frozen):
    """Summary of a set of durations, in seconds (None when there are none)."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None
    max_s: float | None


class StageTime(_Frozen):
    state: EventState
    label: str
    durations: Durations


class OverdueItem(_Frozen):
    event_id: str
    title: str
    category: str
    township: str
    stage: str
    deadline: datetime
    overdue_by_s: float
    still_open: bool


class DispatchFigures(_Frozen):
    tasks_sent: int
    tasks_accepted: int
    ack: Durations
    task_returns: int
    task_escalations: int
    event_returns: int


class SectionFigure(_Frozen):
    label: str
    value: str


class Section(_Frozen):
    """A section fed by a provider; `available` False means: no table or no data."""

    title: str
    available: bool
    figures: tuple[SectionFigure, ...] = ()
    note: str = ""


class HotspotItem(_Frozen):
    kind: str
    key: str
    label: str
    count: int
    baseline: float
    p_value: float
    event_ids: tuple[str, ...]


class MonthlyReport(_Frozen):
    county: str
    month: date
    start: datetime
    end: datetime
    cutoff: datetime
    generated_at: datetime
    accepted: int
    by_category: tuple[Count, ...]
    by_township: tuple[Count, ...]
    by_source: tuple[Count, ...]
    resolution: Rate
    overdue: Rate
    overdue_items: tuple[OverdueItem, ...]
    stage_times: tuple[StageTime, ...]
    dispatch: DispatchFigures
    mediation: Section
    rollcall: Section
    cameras: Section
    hotspots: tuple[HotspotItem, ...]


# -- providers for sections without tables yet --------------------------------------------


class SectionProvider(Protocol):
    """Gives a section's figures for [start, end), or None when nothing is recorded."""

    def section(self, engine: Engine, start: datetime, end: datetime) -> Section | None: ...


@dataclass(frozen=True)
class SectionProviders:
    mediation: SectionProvider | None = field(default_factory=lambda: _mediation_outcomes())
    rollcall: SectionProvider | None = field(default_factory=lambda: _rollcall_coverage())
    cameras: SectionProvider | None = field(default_factory=lambda: _patrol_cameras())


def _mediation_outcomes() -> SectionProvider:
    from dispatch.mediation.report import MediationSection  # imports this module

    return MediationSection()


def _rollcall_coverage() -> SectionProvider:
    from dispatch.rollcall.report import RollcallSection  # imports this module

    return RollcallSection()


def _patrol_cameras() -> SectionProvider:
    from dispatch.patrol.report import PatrolCameraSection  # imports this module

    return PatrolCameraSection()


def _no_data(title: str) -> Section:
    return Section(title=title, available=False, note=f"{NO_DATA_ZH} / {NO_DATA_EN}")


def _provided(
    provider: SectionProvider | None, title: str, engine: Engine, start: datetime, end: datetime
) -> Section:
    if provider is None:
        return _no_data(title)
    got = provider.section(engine, start, end)
    return got if got is not None and got.available else _no_data(title)


# -- pure helpers ----------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """'2026-10' -> date(2026, 10, 1); a clear error for anything else."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if m is None:
        raise ReportError(f"month must look like YYYY-MM (e.g. 2026-10), got {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or year < 1970:
        raise ReportError(f"no such month: {text!r}")
    return date(year, month, 1)


def month_window(month: date, cal: WorkCalendar) -> tuple[datetime, datetime]:
    """[00:00 of the first day, 00:00 of the first day of the next month), local time."""
    first = month.replace(day=1)
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else first.replace(month=first.month + 1)
    return cal.day_start(first), cal.day_start(nxt)


def summarize(seconds: Sequence[float]) -> Durations:
    if not seconds:
        return Durations(count=0, mean_s=None, median_s=None, p90_s=None, max_s=None)
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    return Durations(
        count=len(ordered),
        mean_s=statistics.fmean(ordered),
        median_s=statistics.median(ordered),
        p90_s=p90,
        max_s=ordered[-1],
    )


def _counts(values: Iterable[str], labels: dict[str, str]) -> tuple[Count, ...]:
    c = Counter(values)
    return tuple(
        Count(key=k, label=labels.get(k, k), count=n)
        for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _utc(dt: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _bind(dt: datetime) -> datetime:
    """Times are stored as UTC (SQLite keeps them naive): bind bounds in UTC too."""
    return dt.astimezone(UTC)


def _aware(dt: datetime, cal: WorkCalendar) -> datetime:
    return _utc(dt).astimezone(cal.tz)


@dataclass(frozen=True)
class _Move:
    at: datetime
    action: str
    from_state: EventState | None
    to_state: EventState | None
    note: str


@dataclass(frozen=True)
class _StageSpan:
    name: str  # routing | resolution | feedback
    start: datetime
    end: datetime | None  # None: still open at the cut-off
    extension_days: int


def _spans(moves: Sequence[_Move]) -> list[_StageSpan]:
    """The deadline stages an event went through, from its state-changing audit rows
    (and its grant_extension rows), in time order."""
    spans: list[_StageSpan] = []
    current: tuple[str, datetime] | None = None
    ext = 0
    for mv in moves:
        if mv.action == Action.GRANT_EXTENSION.value:
            m = _EXTENSION_NOTE.match(mv.note)
            ext += int(m.group(1)) if m else 0
            continue
        if mv.to_state is None or mv.from_state == mv.to_state:
            continue
        if mv.to_state in (EventState.ACCEPTED, EventState.REGISTERED):
            nxt = "routing"
        elif mv.to_state in (EventState.ROUTED, EventState.HANDLING):
            nxt = "resolution"
        elif mv.to_state is EventState.FEEDBACK:
            nxt = "feedback"
        else:
            nxt = "archived"
        if current is not None and current[0] == nxt:
            continue  # accepted -> registered, routed -> handling: same stage
        if current is not None:
            spans.append(_StageSpan(current[0], current[1], mv.at, ext))
        ext = 0
        current = (nxt, mv.at) if nxt != "archived" else None
    if current is not None:
        spans.append(_StageSpan(current[0], current[1], None, ext))
    return spans


def _stage_deadline(
    span: _StageSpan, multi: bool, cal: WorkCalendar, policy: DeadlinePolicy
) -> datetime | None:
    if span.name == "routing":
        return span.start + policy.routing
    if span.name == "resolution":
        base = policy.resolution_days_multi if multi else policy.resolution_days_single
        return cal.add_working_days(span.start, base + span.extension_days)
    if policy.feedback_days is None:
        return None
    return cal.add_working_days(span.start, policy.feedback_days)


def _worst_overdue(
    moves: Sequence[_Move], multi: bool, cutoff: datetime, cal: WorkCalendar, policy: DeadlinePolicy
) -> tuple[_StageSpan, datetime, float] | None:
    worst: tuple[_StageSpan, datetime, float] | None = None
    for span in _spans(moves):
        dl = _stage_deadline(span, multi, cal, policy)
        if dl is None:
            continue
        end = span.end if span.end is not None else cutoff
        if end >= dl:
            over = (end - dl).total_seconds()
            if worst is None or over > worst[2]:
                worst = (span, dl, over)
    return worst


def _stays(moves: Sequence[_Move], start: datetime, cutoff: datetime) -> list[tuple[str, float]]:
    """(state, seconds) for each stay in a state that ended in [start, cutoff)."""
    out: list[tuple[str, float]] = []
    entered: tuple[EventState, datetime] | None = None
    for mv in moves:
        if mv.to_state is None or mv.from_state == mv.to_state:
            continue
        if entered is not None and start <= mv.at < cutoff:
            out.append((entered[0].value, (mv.at - entered[1]).total_seconds()))
        entered = (mv.to_state, mv.at)
    return out


# -- queries ---------------------------------------------------------------------------------


def _engine_of(engine_or_store: Engine | Store) -> Engine:
    return engine_or_store.engine if isinstance(engine_or_store, Store) else engine_or_store


def _cohort(engine: Engine, start: datetime, cutoff: datetime) -> list[Event]:
    q = (
        select(events.c.data)
        .select_from(events.join(audit, audit.c.event_id == events.c.id))
        .where(
            and_(
                audit.c.action == ACCEPT_ACTION,
                audit.c.at >= _bind(start),
                audit.c.at < _bind(cutoff),
            )
        )
        .order_by(events.c.id)
    )
    with engine.connect() as conn:
        return [Event.model_validate_json(r.data) for r in conn.execute(q)]


def _moves(
    engine: Engine, event_ids: Sequence[str] | None, before: datetime, cal: WorkCalendar
) -> dict[str, list[_Move]]:
    """State-changing, verify and grant_extension audit rows before `before`, by event."""
    q = (
        select(audit.c.event_id, audit.c.at, audit.c.action, audit.c.from_state)
        .add_columns(audit.c.to_state, audit.c.note)
        .where(audit.c.at < _bind(before))
        .order_by(audit.c.event_id, audit.c.at, audit.c.id)
    )
    if event_ids is not None:
        q = q.where(audit.c.event_id.in_(list(event_ids)))
    out: dict[str, list[_Move]] = {}
    with engine.connect() as conn:
        for r in conn.execute(q):
            fs = EventState(r.from_state) if r.from_state is not None else None
            ts = EventState(r.to_state) if r.to_state is not None else None
            keep = (
                fs != ts
                or r.action in (Action.VERIFY.value, Action.GRANT_EXTENSION.value)
                or r.action == ACCEPT_ACTION
            )
            if keep:
                mv = _Move(_aware(r.at, cal), r.action, fs, ts, r.note)
                out.setdefault(r.event_id, []).append(mv)
    return out


def _moved_in(engine: Engine, start: datetime, cutoff: datetime) -> list[str]:
    """Events with a state-changing audit row in [start, cutoff)."""
    q = (
        select(audit.c.event_id)
        .where(
            and_(
                audit.c.at >= _bind(start),
                audit.c.at < _bind(cutoff),
                audit.c.to_state.is_not(None),
            )
        )
        .where(audit.c.from_state.is_(None) | (audit.c.from_state != audit.c.to_state))
        .distinct()
    )
    with engine.connect() as conn:
        return sorted(r.event_id for r in conn.execute(q))


def _count_audit(engine: Engine, action: str, start: datetime, cutoff: datetime) -> int:
    q = select(audit.c.id).where(
        and_(audit.c.action == action, audit.c.at >= _bind(start), audit.c.at < _bind(cutoff))
    )
    with engine.connect() as conn:
        return len(conn.execute(q).all())


def _task_rows(engine: Engine, start: datetime, cutoff: datetime) -> list[TaskTransition]:
    """The task history rows in [start, cutoff), in the order written."""
    q = (
        select(task_history.c.data)
        .where(and_(task_history.c.at >= _bind(start), task_history.c.at < _bind(cutoff)))
        .order_by(task_history.c.id)
    )
    with engine.connect() as conn:
        return [TaskTransition.model_validate_json(r.data) for r in conn.execute(q)]


def _sent_at(engine: Engine, task_ids: Sequence[str]) -> dict[str, datetime]:
    if not task_ids:
        return {}
    q = select(tasks.c.data).where(tasks.c.id.in_(list(task_ids)))
    with engine.connect() as conn:
        got = [DispatchTask.model_validate_json(r.data) for r in conn.execute(q)]
    return {t.id: t.sent_at for t in got}


def _dispatch_figures(engine: Engine, start: datetime, cutoff: datetime) -> DispatchFigures:
    """Tasks are created by a row without a from-state (dispatch, or the new task of a
    reassign/escalate); an escalation is counted once, on the task it closes."""
    rows = _task_rows(engine, start, cutoff)
    first_accept: dict[str, datetime] = {}
    for r in rows:
        if r.action is TaskAction.ACCEPT and r.task_id not in first_accept:
            first_accept[r.task_id] = r.at
    sent = _sent_at(engine, sorted(first_accept))
    acks = [(at - sent[tid]).total_seconds() for tid, at in first_accept.items() if tid in sent]
    return DispatchFigures(
        tasks_sent=sum(1 for r in rows if r.from_state is None),
        tasks_accepted=len(first_accept),
        ack=summarize(acks),
        task_returns=sum(1 for r in rows if r.action is TaskAction.RETURN),
        task_escalations=sum(
            1 for r in rows if r.action is TaskAction.ESCALATE and r.from_state is not None
        ),
        event_returns=_count_audit(engine, Action.RETURN.value, start, cutoff),
    )


def _occurrences(engine: Engine, since: datetime, cutoff: datetime) -> list[Occurrence]:
    q = (
        select(events.c.id, events.c.category, events.c.data, audit.c.at)
        .select_from(events.join(audit, audit.c.event_id == events.c.id))
        .where(
            and_(
                audit.c.action == ACCEPT_ACTION,
                audit.c.at >= _bind(since),
                audit.c.at < _bind(cutoff),
            )
        )
    )
    out: list[Occurrence] = []
    with engine.connect() as conn:
        for r in conn.execute(q):
            grid = json.loads(r.data).get("place", {}).get("grid")
            out.append(Occurrence(r.id, _utc(r.at), r.category, grid))
    return out


def _hotspot_items(
    found: Sequence[Hotspot], site: Site, categories: dict[str, str]
) -> list[HotspotItem]:
    grids = {g.id: g.name for g in site.grids}
    out = []
    for h in found:
        label = (
            categories.get(h.key, h.key) if h.kind.value == "category" else grids.get(h.key, h.key)
        )
        out.append(
            HotspotItem(
                kind=h.kind.value,
                key=h.key,
                label=label,
                count=h.count,
                baseline=h.baseline,
                p_value=h.p_value,
                event_ids=h.event_ids,
            )
        )
    return out


def current_hotspots(
    engine_or_store: Engine | Store,
    site: Site,
    now: datetime,
    policy: HotspotPolicy = DEFAULT_HOTSPOT_POLICY,
    categories: dict[str, str] | None = None,
) -> list[HotspotItem]:
    """The hot-spot warnings at `now` (the dashboard's), as the report lists them."""
    from dispatch.domain.model import DEFAULT_CATEGORIES

    engine = _engine_of(engine_or_store)
    found = find_hotspots(_occurrences(engine, history_start(now, policy), now), now, policy)
    return _hotspot_items(found, site, categories or DEFAULT_CATEGORIES)


@dataclass(frozen=True)
class ReportOptions:
    as_of: datetime | None = None
    generated_at: datetime | None = None
    policy: DeadlinePolicy = DEFAULT_POLICY
    hotspot_policy: HotspotPolicy = DEFAULT_HOTSPOT_POLICY
    providers: SectionProviders = field(default_factory=SectionProviders)
    categories: dict[str, str] | None = None


def monthly_report(
    engine_or_store: Engine | Store,
    month: date,
    site: Site,
    calendar: WorkCalendar,
    options: ReportOptions | None = None,
) -> MonthlyReport:
    """The figures of `month` (any day of it names it), read from the store.

    `options.as_of` cuts the month off early (a report of the running month); it must
    be timezone-aware. See the module docstring for the definitions.
    """
    from dispatch.domain.model import DEFAULT_CATEGORIES

    opts = options or ReportOptions()
    engine = _engine_of(engine_or_store)
    start, end = month_window(month, calendar)
    cutoff = end
    if opts.as_of is not None:
        if opts.as_of.tzinfo is None:
            raise ReportError(f"as_of must be timezone-aware, got {opts.as_of!r}")
        if opts.as_of <= start:
            raise ReportError(f"as_of {opts.as_of.isoformat()} is before the month starts")
        cutoff = min(end, opts.as_of.astimezone(calendar.tz))
    categories = opts.categories or DEFAULT_CATEGORIES
    townships = {t.id: t.name for t in site.townships}

    cohort = _cohort(engine, start, cutoff)
    ids = [e.id for e in cohort]
    moves = _moves(engine, ids, cutoff, calendar)
    resolved = 0
    overdue: list[OverdueItem] = []
    for ev in cohort:
        mv = moves.get(ev.id, [])
        if any(
            (m.to_state is EventState.ARCHIVED and m.from_state is not EventState.ARCHIVED)
            or m.action == Action.VERIFY.value
            for m in mv
        ):
            resolved += 1
        worst = _worst_overdue(mv, ev.multi_department, cutoff, calendar, opts.policy)
        if worst is not None:
            span, dl, over = worst
            overdue.append(
                OverdueItem(
                    event_id=ev.id,
                    title=ev.title,
                    category=categories.get(ev.category, ev.category),
                    township=townships.get(
                        ev.place.township or "", ev.place.township or UNKNOWN_PLACE
                    ),
                    stage=span.name,
                    deadline=dl,
                    overdue_by_s=over,
                    still_open=span.end is None,
                )
            )
    overdue.sort(key=lambda o: (-o.overdue_by_s, o.event_id))

    stay_moves = _moves(engine, _moved_in(engine, start, cutoff), cutoff, calendar)
    by_state: dict[str, list[float]] = {}
    for mv in stay_moves.values():
        for state, secs in _stays(mv, start, cutoff):
            by_state.setdefault(state, []).append(secs)
    from dispatch.events.core import STATE_LABELS_ZH

    stage_times = tuple(
        StageTime(state=s, label=STATE_LABELS_ZH[s], durations=summarize(by_state.get(s.value, [])))
        for s in STATE_ORDER
    )
    hot = find_hotspots(
        _occurrences(engine, history_start(cutoff, opts.hotspot_policy), cutoff),
        cutoff,
        opts.hotspot_policy,
    )
    return MonthlyReport(
        county=site.name,
        month=start.date(),
        start=start,
        end=end,
        cutoff=cutoff,
        generated_at=opts.generated_at or cutoff,
        accepted=len(cohort),
        by_category=_counts((e.category for e in cohort), categories),
        by_township=_counts((e.place.township or UNKNOWN_PLACE for e in cohort), townships),
        by_source=_counts((e.source.value for e in cohort), SOURCE_LABELS_ZH),
        resolution=Rate(numerator=resolved, denominator=len(cohort)),
        overdue=Rate(numerator=len(overdue), denominator=len(cohort)),
        overdue_items=tuple(overdue),
        stage_times=stage_times,
        dispatch=_dispatch_figures(engine, start, cutoff),
        mediation=_provided(opts.providers.mediation, "调解情况", engine, start, cutoff),
        rollcall=_provided(opts.providers.rollcall, "点名覆盖", engine, start, cutoff),
        cameras=_provided(opts.providers.cameras, "视频监控在线率与完好率", engine, start, cutoff),
        hotspots=tuple(_hotspot_items(hot, site, categories)),
    )


# -- command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dispatch.reports.monthly", description="信息月报 / monthly report as PDF"
    )
    p.add_argument("--db", required=True, help="database URL (sqlite:///path or postgresql://)")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", type=Path, required=True, help="PDF file to write")
    p.add_argument("--site", type=Path, default=None, help="site TOML (default: the demo site)")
    p.add_argument("--calendar", type=Path, default=None, help="working-day calendar TOML")
    p.add_argument("--as-of", default=None, help="cut-off, ISO datetime with offset")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from dispatch.db.store import StoreError
    from dispatch.domain.site import SiteConfigError, demo_site_path, load_site
    from dispatch.hub.app import default_calendar_path, load_calendar
    from dispatch.reports.pdf import write_pdf

    args = _parser().parse_args(argv)
    try:
        month = parse_month(args.month)
        as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    except (ReportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        site = load_site(args.site or demo_site_path())
    except SiteConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cal = load_calendar(args.calendar or default_calendar_path())
    store = Store(args.db)
    try:
        store.open()
        report = monthly_report(store, month, site, cal, ReportOptions(as_of=as_of))
    except (StoreError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    write_pdf(report, args.out)
    if args.json:
        print(report.model_dump_json())
    print(f"wrote {args.out} ({report.accepted} events in {args.month})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "MonthlyReport",
    "ReportError",
    "ReportOptions",
    "Section",
    "SectionProvider",
    "SectionProviders",
    "current_hotspots",
    "month_window",
    "monthly_report",
    "parse_month",
]
