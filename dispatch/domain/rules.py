"""Deadlines of the current stage, three-colour warnings, 催办 reminders and escalation.

Pure: no I/O, no clock reads; `now` is always passed in.

Stages and their limits (`DeadlinePolicy`, all configurable):

- routing (states accepted and registered): routed within 1 hour (wall clock) of
  acceptance, or of the last 退单 return when there was one.
- resolution (states routed and handling): handled and fed back within 3 working days of
  routing, plus the extension days granted. The issue asks for 3 working days; the
  brief leaves the single-department limit open. We keep 3 for single-department cases
  too: a single-department case is never the harder one, so a longer limit would
  contradict the issue, and a shorter one would be an invention. Both are configurable
  (`resolution_days_single`, `resolution_days_multi`).
- feedback (state feedback): on-site verification (核查) and call-back (回访) done and the
  event archived within 3 working days of the feedback (`feedback_days`; None: no limit).
- archived: no deadline, always green.

Colours over a stage that runs from `start` to `deadline` (working-day stages count
working time, see `dispatch.domain.calendar`; the routing stage counts wall-clock time):
green on [start, yellow_from), yellow on [yellow_from, deadline), red from the deadline
on, where `yellow_from` is the first instant at which no more than `yellow_share` of the
stage's time remains. The intervals are closed on the left so that a timer set for
`next_colour_change` sees the new colour when it fires.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.domain.calendar import DAY, WorkCalendar
from dispatch.domain.model import Colour, Event, EventState, Priority


class StageName(StrEnum):
    ROUTING = "routing"  # 分流时限
    RESOLUTION = "resolution"  # 办结时限
    FEEDBACK = "feedback"  # 核查回访时限


@dataclass(frozen=True)
class DeadlinePolicy:
    routing: timedelta = timedelta(hours=1)
    resolution_days_single: int = 3
    resolution_days_multi: int = 3
    feedback_days: int | None = 3
    remind_every_routing: timedelta = timedelta(hours=1)
    """How often an overdue routing stage gets another 催办."""
    remind_every_working_days: int = 1
    """How often an overdue working-day stage gets another 催办 (same time, next working day)."""

    def __post_init__(self) -> None:
        if self.routing <= timedelta(0):
            raise ValueError(f"routing limit must be positive, got {self.routing}")
        if self.remind_every_routing <= timedelta(0):
            raise ValueError("remind_every_routing must be positive")
        days = {
            "resolution_days_single": self.resolution_days_single,
            "resolution_days_multi": self.resolution_days_multi,
            "remind_every_working_days": self.remind_every_working_days,
        }
        if self.feedback_days is not None:
            days["feedback_days"] = self.feedback_days
        for name, value in days.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1 working day, got {value}")


DEFAULT_POLICY = DeadlinePolicy()


@dataclass(frozen=True)
class Stage:
    name: StageName
    start: datetime
    deadline: datetime
    working: bool
    """True: the stage's time is working time (calendar); False: wall-clock time."""
    length: timedelta
    """The stage's time: wall-clock, or working time (n working days are n × 24 h)."""


def _resolution_days(event: Event, policy: DeadlinePolicy) -> int:
    base = policy.resolution_days_multi if event.multi_department else policy.resolution_days_single
    return base + event.extension_days


def stage(event: Event, cal: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY) -> Stage | None:
    """The current stage with its start and deadline, or None (archived, or no limit)."""
    match event.state:
        case EventState.ACCEPTED | EventState.REGISTERED:
            start = event.accepted_at
            if event.returned_at is not None and event.returned_at > start:
                start = event.returned_at
            end = start + policy.routing
            return Stage(StageName.ROUTING, start, end, working=False, length=policy.routing)
        case EventState.ROUTED | EventState.HANDLING:
            start = event.routed_at or event.updated_at
            days = _resolution_days(event, policy)
            end = cal.add_working_days(start, days)
            return Stage(StageName.RESOLUTION, start, end, working=True, length=days * DAY)
        case EventState.FEEDBACK:
            if policy.feedback_days is None:
                return None
            start = event.resolved_at or event.updated_at
            end = cal.add_working_days(start, policy.feedback_days)
            length = policy.feedback_days * DAY
            return Stage(StageName.FEEDBACK, start, end, working=True, length=length)
        case _:
            return None


def deadline(
    event: Event, cal: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> datetime | None:
    """The deadline of the current stage, or None when there is none."""
    st = stage(event, cal, policy)
    return st.deadline if st is not None else None


def _check_share(yellow_share: float) -> None:
    if not 0.0 <= yellow_share <= 1.0:
        raise ValueError(f"yellow_share must be within 0..1, got {yellow_share}")


def yellow_from(st: Stage, cal: WorkCalendar, yellow_share: float = 0.25) -> datetime:
    """The first instant at which no more than `yellow_share` of the stage's time remains."""
    _check_share(yellow_share)
    left = st.length * yellow_share
    if not st.working:
        return st.deadline - left
    # add_working_days puts exactly `length` of working time between start and deadline
    return cal.add_working_time(st.start, st.length - left)


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")


def colour(
    event: Event,
    now: datetime,
    cal: WorkCalendar,
    yellow_share: float = 0.25,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Colour:
    """Green, yellow (little time left) or red (overdue) for the current stage."""
    _check_now(now)
    _check_share(yellow_share)
    st = stage(event, cal, policy)
    if st is None:
        return Colour.GREEN
    if now >= st.deadline:
        return Colour.RED
    if now >= yellow_from(st, cal, yellow_share):
        return Colour.YELLOW
    return Colour.GREEN


def next_colour_change(
    event: Event,
    now: datetime,
    cal: WorkCalendar,
    yellow_share: float = 0.25,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> datetime | None:
    """The first instant after `now` at which `colour` changes (unless the event does).

    None when it never changes by itself (red already, archived, or no limit). The colour
    at the returned instant is already the new one.
    """
    _check_now(now)
    st = stage(event, cal, policy)
    if st is None or now >= st.deadline:
        return None
    yellow = yellow_from(st, cal, yellow_share)
    if now < yellow < st.deadline:
        return yellow
    return st.deadline


def is_overdue(
    event: Event, now: datetime, cal: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> bool:
    _check_now(now)
    end = deadline(event, cal, policy)
    return end is not None and now >= end


def next_reminder_at(
    event: Event,
    last_reminder_at: datetime | None,
    cal: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> datetime | None:
    """When the next 催办 is due: at the deadline, then every repeat interval after the last.

    A reminder from before the current deadline belongs to an earlier stage (or to a
    deadline since extended) and does not count. None when the stage has no deadline.
    """
    st = stage(event, cal, policy)
    if st is None:
        return None
    if last_reminder_at is None or last_reminder_at < st.deadline:
        return st.deadline
    if st.working:
        return cal.add_working_days(last_reminder_at, policy.remind_every_working_days)
    return last_reminder_at + policy.remind_every_routing


def reminder_due(
    event: Event,
    last_reminder_at: datetime | None,
    now: datetime,
    cal: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> bool:
    """Whether the hub should write a 催办 (Action.REMIND) into the event's timeline now."""
    _check_now(now)
    due = next_reminder_at(event, last_reminder_at, cal, policy)
    return due is not None and now >= due


_COLOUR_RANK = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2}


def queue_key(
    event: Event,
    now: datetime,
    cal: WorkCalendar,
    yellow_share: float = 0.25,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> tuple[int, float, str]:
    """Sort key of the event queue: red, yellow, green; then the nearest deadline first."""
    end = deadline(event, cal, policy)
    rank = _COLOUR_RANK[colour(event, now, cal, yellow_share, policy)]
    return rank, end.timestamp() if end is not None else float("inf"), event.id


# -- escalation ladder for unacknowledged items ---------------------------------------

EscalationLadder = Mapping[Priority, tuple[timedelta, ...]]


def _minutes(*values: int) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=v) for v in values)


DEFAULT_LADDER: EscalationLadder = {
    # step 1: remind the addressee again; 2: tell the duty supervisor (带班领导);
    # 3: tell the township/county leadership. Times after the item was sent.
    Priority.EMERGENCY: _minutes(2, 5, 10),
    Priority.URGENT: _minutes(5, 15, 30),
    Priority.ROUTINE: _minutes(30, 120, 240),
}


def check_ladder(ladder: EscalationLadder) -> None:
    """ValueError unless every priority has positive, strictly increasing step times."""
    for priority in Priority:
        steps = ladder.get(priority)
        if steps is None:
            raise ValueError(f"escalation ladder has no steps for priority {priority}")
        if any(s <= timedelta(0) for s in steps):
            raise ValueError(f"escalation steps for {priority} must be positive")
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError(f"escalation steps for {priority} must increase")


def escalation_step(
    priority: Priority,
    since: datetime,
    now: datetime,
    ladder: EscalationLadder = DEFAULT_LADDER,
) -> int:
    """How many steps of the ladder an item unacknowledged since `since` has reached (0..n)."""
    _check_now(now)
    _check_now(since)
    waited = now - since
    return sum(1 for step in ladder[priority] if waited >= step)


def next_escalation_at(
    priority: Priority,
    since: datetime,
    now: datetime,
    ladder: EscalationLadder = DEFAULT_LADDER,
) -> datetime | None:
    """When the next step is reached (for a timer), or None after the last step."""
    _check_now(now)
    for step in ladder[priority]:
        if since + step > now:
            return since + step
    return None
