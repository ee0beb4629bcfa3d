"""The monthly report's figures and how they are made from rows: pure, no I/O.

The report's value types (`MonthlyReport` and its parts, `HotspotItem`, `Section`) are
defined here and travel on the wire through `dispatch.reports.messages`; the rows are
read by `dispatch.reports.store`. Hot-spot detection itself is `dispatch.reports.hotspots`.

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

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import BaseModel

from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import Action, Event, EventSource, EventState
from dispatch.domain.rules import DeadlinePolicy
from dispatch.domain.site import Site
from dispatch.domain.strict import FROZEN
from dispatch.events.core import STATE_LABELS_ZH
from dispatch.reports.hotspots import Hotspot

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
    model_config = FROZEN


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


HOTSPOT_IDS_MAX = 200
"""The most event ids one hot-spot warning carries: its newest. A hot spot's count
has no ceiling (a village flooded with reports, the soak's 18,000 an hour in one grid),
and every console asks for the warnings each minute: with all of its ids the reply,
the hub's work and the console's list grew with every event of the week. A duty officer
opens the newest; `count` still says how many there are."""


class HotspotItem(_Frozen):
    kind: str
    key: str
    label: str
    count: int
    baseline: float
    p_value: float
    event_ids: tuple[str, ...]  # the newest `HOTSPOT_IDS_MAX` of the `count`, oldest first


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
    meetings: Section = Section(title="视频会议", available=False)
    hotspots: tuple[HotspotItem, ...]


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


def counts(values: Iterable[str], labels: Mapping[str, str]) -> tuple[Count, ...]:
    c = Counter(values)
    return tuple(
        Count(key=k, label=labels.get(k, k), count=n)
        for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def as_utc(dt: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def bind_utc(dt: datetime) -> datetime:
    """Times are stored as UTC (SQLite keeps them naive): bind bounds in UTC too."""
    return dt.astimezone(UTC)


def local_time(dt: datetime, cal: WorkCalendar) -> datetime:
    return as_utc(dt).astimezone(cal.tz)


@dataclass(frozen=True)
class Move:
    at: datetime
    action: str
    from_state: EventState | None
    to_state: EventState | None
    note: str


@dataclass(frozen=True)
class StageSpan:
    name: str  # routing | resolution | feedback
    start: datetime
    end: datetime | None  # None: still open at the cut-off
    extension_days: int


def stage_spans(moves: Sequence[Move]) -> list[StageSpan]:
    """The deadline stages an event went through, from its state-changing audit rows
    (and its grant_extension rows), in time order."""
    spans: list[StageSpan] = []
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
            spans.append(StageSpan(current[0], current[1], mv.at, ext))
        ext = 0
        current = (nxt, mv.at) if nxt != "archived" else None
    if current is not None:
        spans.append(StageSpan(current[0], current[1], None, ext))
    return spans


def stage_deadline(
    span: StageSpan, multi: bool, cal: WorkCalendar, policy: DeadlinePolicy
) -> datetime | None:
    if span.name == "routing":
        return span.start + policy.routing
    if span.name == "resolution":
        base = policy.resolution_days_multi if multi else policy.resolution_days_single
        return cal.add_working_days(span.start, base + span.extension_days)
    if policy.feedback_days is None:
        return None
    return cal.add_working_days(span.start, policy.feedback_days)


def worst_overdue(
    moves: Sequence[Move], multi: bool, cutoff: datetime, cal: WorkCalendar, policy: DeadlinePolicy
) -> tuple[StageSpan, datetime, float] | None:
    worst: tuple[StageSpan, datetime, float] | None = None
    for span in stage_spans(moves):
        dl = stage_deadline(span, multi, cal, policy)
        if dl is None:
            continue
        end = span.end if span.end is not None else cutoff
        if end >= dl:
            over = (end - dl).total_seconds()
            if worst is None or over > worst[2]:
                worst = (span, dl, over)
    return worst


def stays(moves: Sequence[Move], start: datetime, cutoff: datetime) -> list[tuple[str, float]]:
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


def no_data(title: str) -> Section:
    return Section(title=title, available=False, note=f"{NO_DATA_ZH} / {NO_DATA_EN}")


def hotspot_items(
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
                event_ids=h.event_ids[-HOTSPOT_IDS_MAX:],
            )
        )
    return out


def cutoff_of(
    start: datetime, end: datetime, as_of: datetime | None, cal: WorkCalendar
) -> datetime:
    """The report's cut-off: the month's end, or `as_of` (timezone-aware) if earlier."""
    if as_of is None:
        return end
    if as_of.tzinfo is None:
        raise ReportError(f"as_of must be timezone-aware, got {as_of!r}")
    if as_of <= start:
        raise ReportError(f"as_of {as_of.isoformat()} is before the month starts")
    return min(end, as_of.astimezone(cal.tz))


def is_resolved(moves: Sequence[Move]) -> bool:
    """Archived, or verified on site after feedback."""
    return any(
        (m.to_state is EventState.ARCHIVED and m.from_state is not EventState.ARCHIVED)
        or m.action == Action.VERIFY.value
        for m in moves
    )


@dataclass(frozen=True)
class Labels:
    """Names the report shows for ids: categories and townships."""

    categories: Mapping[str, str]
    townships: Mapping[str, str]

    def township(self, township: str | None) -> str:
        return self.townships.get(township or "", township or UNKNOWN_PLACE)


def overdue_items(
    cohort: Sequence[Event],
    moves: Mapping[str, Sequence[Move]],
    cutoff: datetime,
    cal: WorkCalendar,
    policy: DeadlinePolicy,
    labels: Labels,
) -> list[OverdueItem]:
    """The cohort's events with a stage past its limit, the worst stage each, worst first."""
    out: list[OverdueItem] = []
    for ev in cohort:
        worst = worst_overdue(moves.get(ev.id, []), ev.multi_department, cutoff, cal, policy)
        if worst is None:
            continue
        span, dl, over = worst
        out.append(
            OverdueItem(
                event_id=ev.id,
                title=ev.title,
                category=labels.categories.get(ev.category, ev.category),
                township=labels.township(ev.place.township),
                stage=span.name,
                deadline=dl,
                overdue_by_s=over,
                still_open=span.end is None,
            )
        )
    out.sort(key=lambda o: (-o.overdue_by_s, o.event_id))
    return out


def stage_times(
    moves: Iterable[Sequence[Move]], start: datetime, cutoff: datetime
) -> tuple[StageTime, ...]:
    """Time spent in each state, over the stays that ended in [start, cutoff)."""
    by_state: dict[str, list[float]] = {}
    for mv in moves:
        for state, secs in stays(mv, start, cutoff):
            by_state.setdefault(state, []).append(secs)
    return tuple(
        StageTime(state=s, label=STATE_LABELS_ZH[s], durations=summarize(by_state.get(s.value, [])))
        for s in STATE_ORDER
    )
