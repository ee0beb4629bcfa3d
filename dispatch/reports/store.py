"""The monthly report read from the store: every figure by SQL, made by `core`'s rules.

`monthly_report(engine, month, site, calendar, options)` and `current_hotspots` read
the events, audit and task tables here; the sections of other features (mediation,
roll calls, camera patrol) are read by their `SectionProvider`s in
`dispatch.reports.sections`. The definitions of every figure are in
`dispatch.reports.core`; the command line is `python -m dispatch.reports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import JSON, ColumnElement, Engine, and_, cast, select, type_coerce

from dispatch.db.store import Store, audit, events
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import DEFAULT_CATEGORIES, Action, Event, EventState
from dispatch.domain.rules import DEFAULT_POLICY, DeadlinePolicy
from dispatch.domain.site import Site
from dispatch.reports.core import (
    ACCEPT_ACTION,
    SOURCE_LABELS_ZH,
    UNKNOWN_PLACE,
    DispatchFigures,
    HotspotItem,
    Labels,
    MonthlyReport,
    Move,
    Rate,
    Section,
    as_utc,
    bind_utc,
    counts,
    cutoff_of,
    hotspot_items,
    is_resolved,
    local_time,
    month_window,
    no_data,
    overdue_items,
    stage_times,
    summarize,
)
from dispatch.reports.hotspots import (
    DEFAULT_HOTSPOT_POLICY,
    HotspotPolicy,
    Occurrence,
    find_hotspots,
    history_start,
)
from dispatch.reports.sections.mediation import MediationSection
from dispatch.reports.sections.meetings import MeetingsSection
from dispatch.reports.sections.patrol import PatrolCameraSection
from dispatch.reports.sections.rollcall import RollcallSection
from dispatch.tasks.core import DispatchTask, TaskAction, TaskTransition
from dispatch.tasks.store import task_history, tasks

# -- sections of other features ---------------------------------------------------------


class SectionProvider(Protocol):
    """Gives a section's figures for [start, end), or None when nothing is recorded."""

    def section(self, engine: Engine, start: datetime, end: datetime) -> Section | None: ...


@dataclass(frozen=True)
class SectionProviders:
    mediation: SectionProvider | None = field(default_factory=MediationSection)
    rollcall: SectionProvider | None = field(default_factory=RollcallSection)
    cameras: SectionProvider | None = field(default_factory=PatrolCameraSection)
    meetings: SectionProvider | None = field(default_factory=MeetingsSection)


def provided(
    provider: SectionProvider | None, title: str, engine: Engine, start: datetime, end: datetime
) -> Section:
    if provider is None:
        return no_data(title)
    got = provider.section(engine, start, end)
    return got if got is not None and got.available else no_data(title)


# -- queries ---------------------------------------------------------------------------


def _engine_of(engine_or_store: Engine | Store) -> Engine:
    return engine_or_store.engine if isinstance(engine_or_store, Store) else engine_or_store


def _cohort(engine: Engine, start: datetime, cutoff: datetime) -> list[Event]:
    q = (
        select(events.c.data)
        .select_from(events.join(audit, audit.c.event_id == events.c.id))
        .where(
            and_(
                audit.c.action == ACCEPT_ACTION,
                audit.c.at >= bind_utc(start),
                audit.c.at < bind_utc(cutoff),
            )
        )
        .order_by(events.c.id)
    )
    with engine.connect() as conn:
        return [Event.model_validate_json(r.data) for r in conn.execute(q)]


def _moves(
    engine: Engine, event_ids: Sequence[str] | None, before: datetime, cal: WorkCalendar
) -> dict[str, list[Move]]:
    """State-changing, verify and grant_extension audit rows before `before`, by event."""
    q = (
        select(audit.c.event_id, audit.c.at, audit.c.action, audit.c.from_state)
        .add_columns(audit.c.to_state, audit.c.note)
        .where(audit.c.at < bind_utc(before))
        .order_by(audit.c.event_id, audit.c.at, audit.c.id)
    )
    if event_ids is not None:
        q = q.where(audit.c.event_id.in_(list(event_ids)))
    out: dict[str, list[Move]] = {}
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
                mv = Move(local_time(r.at, cal), r.action, fs, ts, r.note)
                out.setdefault(r.event_id, []).append(mv)
    return out


def _moved_in(engine: Engine, start: datetime, cutoff: datetime) -> list[str]:
    """Events with a state-changing audit row in [start, cutoff)."""
    q = (
        select(audit.c.event_id)
        .where(
            and_(
                audit.c.at >= bind_utc(start),
                audit.c.at < bind_utc(cutoff),
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
        and_(audit.c.action == action, audit.c.at >= bind_utc(start), audit.c.at < bind_utc(cutoff))
    )
    with engine.connect() as conn:
        return len(conn.execute(q).all())


def _task_rows(engine: Engine, start: datetime, cutoff: datetime) -> list[TaskTransition]:
    """The task history rows in [start, cutoff), in the order written."""
    q = (
        select(task_history.c.data)
        .where(and_(task_history.c.at >= bind_utc(start), task_history.c.at < bind_utc(cutoff)))
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


def _grid_of(dialect: str) -> ColumnElement[str]:
    """The event's `place.grid`, read by the database (NULL where there is none): the
    detector needs that one field, and fetching each event's whole JSON to parse it in
    Python made every hot-spot request (each console's, each minute) read and allocate
    all of the nine weeks' documents. PostgreSQL casts the TEXT column to json; SQLite's
    JSON functions read the text as it is."""
    doc = cast(events.c.data, JSON) if dialect == "postgresql" else type_coerce(events.c.data, JSON)
    grid: ColumnElement[str] = doc[("place", "grid")].as_string()
    return grid


def _occurrences(engine: Engine, since: datetime, cutoff: datetime) -> list[Occurrence]:
    q = (
        select(
            events.c.id, events.c.category, _grid_of(engine.dialect.name).label("grid"), audit.c.at
        )
        .select_from(events.join(audit, audit.c.event_id == events.c.id))
        .where(
            and_(
                audit.c.action == ACCEPT_ACTION,
                audit.c.at >= bind_utc(since),
                audit.c.at < bind_utc(cutoff),
            )
        )
    )
    with engine.connect() as conn:
        return [Occurrence(r.id, as_utc(r.at), r.category, r.grid) for r in conn.execute(q)]


def current_hotspots(
    engine_or_store: Engine | Store,
    site: Site,
    now: datetime,
    policy: HotspotPolicy = DEFAULT_HOTSPOT_POLICY,
    categories: dict[str, str] | None = None,
) -> list[HotspotItem]:
    """The hot-spot warnings at `now` (the dashboard's), as the report lists them."""
    engine = _engine_of(engine_or_store)
    found = find_hotspots(_occurrences(engine, history_start(now, policy), now), now, policy)
    return hotspot_items(found, site, categories or DEFAULT_CATEGORIES)


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
    be timezone-aware. See `dispatch.reports.core` for the definitions.
    """
    opts = options or ReportOptions()
    engine = _engine_of(engine_or_store)
    start, end = month_window(month, calendar)
    cutoff = cutoff_of(start, end, opts.as_of, calendar)
    categories = opts.categories or DEFAULT_CATEGORIES
    labels = Labels(categories, {t.id: t.name for t in site.townships})

    cohort = _cohort(engine, start, cutoff)
    moves = _moves(engine, [e.id for e in cohort], cutoff, calendar)
    overdue = overdue_items(cohort, moves, cutoff, calendar, opts.policy, labels)
    resolved = sum(1 for ev in cohort if is_resolved(moves.get(ev.id, [])))
    stay_moves = _moves(engine, _moved_in(engine, start, cutoff), cutoff, calendar)
    hot = find_hotspots(
        _occurrences(engine, history_start(cutoff, opts.hotspot_policy), cutoff),
        cutoff,
        opts.hotspot_policy,
    )
    sections = opts.providers
    return MonthlyReport(
        county=site.name,
        month=start.date(),
        start=start,
        end=end,
        cutoff=cutoff,
        generated_at=opts.generated_at or cutoff,
        accepted=len(cohort),
        by_category=counts((e.category for e in cohort), categories),
        by_township=counts((e.place.township or UNKNOWN_PLACE for e in cohort), labels.townships),
        by_source=counts((e.source.value for e in cohort), SOURCE_LABELS_ZH),
        resolution=Rate(numerator=resolved, denominator=len(cohort)),
        overdue=Rate(numerator=len(overdue), denominator=len(cohort)),
        overdue_items=tuple(overdue),
        stage_times=stage_times(stay_moves.values(), start, cutoff),
        dispatch=_dispatch_figures(engine, start, cutoff),
        mediation=provided(sections.mediation, "调解情况", engine, start, cutoff),
        rollcall=provided(sections.rollcall, "点名覆盖", engine, start, cutoff),
        cameras=provided(sections.cameras, "视频监控在线率与完好率", engine, start, cutoff),
        meetings=provided(sections.meetings, "视频会议", engine, start, cutoff),
        hotspots=tuple(hotspot_items(hot, site, categories)),
    )
