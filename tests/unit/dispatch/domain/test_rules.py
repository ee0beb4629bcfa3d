"""Deadlines, three colours, 催办 reminders and the escalation ladder, with explicit times."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import Colour, Event, EventSource, EventState, Priority
from dispatch.domain.rules import (
    DEFAULT_LADDER,
    DeadlinePolicy,
    StageName,
    check_ladder,
    colour,
    deadline,
    escalation_step,
    is_overdue,
    next_colour_change,
    next_escalation_at,
    next_reminder_at,
    queue_key,
    reminder_due,
    stage,
)
from tests.kit.paths import ROOT

SH = ZoneInfo("Asia/Shanghai")
CN_TOML = ROOT / "resources" / "calendar" / "cn.toml"
US = timedelta(microseconds=1)
S = EventState
G, Y, R = Colour.GREEN, Colour.YELLOW, Colour.RED


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar.from_mapping(tomllib.loads(CN_TOML.read_text(encoding="utf-8")))


def event(state: EventState, at: datetime, **fields: Any) -> Event:
    """An event whose current stage started at `at`."""
    data: dict[str, Any] = {
        "id": "E-1",
        "source": EventSource.HOTLINE_12345,
        "category": "wages",
        "title": "欠薪",
        "state": state,
        "reported_at": at,
        "accepted_at": at,
        "updated_at": at,
    }
    if state in (S.ROUTED, S.HANDLING, S.FEEDBACK, S.ARCHIVED):
        data |= {"assignee": "劳动保障所", "routed_at": at}
    if state in (S.FEEDBACK, S.ARCHIVED):
        data["resolved_at"] = at
    if state is S.ARCHIVED:
        data["archived_at"] = at
    data.update(fields)
    return Event(**data)


# -- routing: 1 wall-clock hour --------------------------------------------------------


def test_routing_deadline_is_one_wall_clock_hour_even_on_a_holiday(cn: WorkCalendar) -> None:
    ev = event(S.ACCEPTED, sh(2025, 10, 1, 9))
    st_ = stage(ev, cn)
    assert st_ is not None and st_.name is StageName.ROUTING and not st_.working
    assert deadline(ev, cn) == sh(2025, 10, 1, 10)
    assert deadline(event(S.REGISTERED, sh(2025, 10, 1, 9)), cn) == sh(2025, 10, 1, 10)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (sh(2025, 10, 1, 9), G),
        (sh(2025, 10, 1, 9, 45) - US, G),
        (sh(2025, 10, 1, 9, 45), Y),  # exactly a quarter of the hour left
        (sh(2025, 10, 1, 10) - US, Y),
        (sh(2025, 10, 1, 10), R),  # exactly at the deadline
        (sh(2025, 10, 3, 10), R),
        (sh(2025, 10, 1, 8), G),  # before the stage began (a skewed clock)
    ],
)
def test_routing_colour_boundaries(cn: WorkCalendar, now: datetime, expected: Colour) -> None:
    assert colour(event(S.ACCEPTED, sh(2025, 10, 1, 9)), now, cn) is expected


def test_routing_next_colour_change(cn: WorkCalendar) -> None:
    ev = event(S.REGISTERED, sh(2025, 10, 1, 9))
    assert next_colour_change(ev, sh(2025, 10, 1, 9), cn) == sh(2025, 10, 1, 9, 45)
    assert next_colour_change(ev, sh(2025, 10, 1, 9, 45), cn) == sh(2025, 10, 1, 10)
    assert next_colour_change(ev, sh(2025, 10, 1, 10), cn) is None


def test_routing_after_a_return_counts_from_the_return(cn: WorkCalendar) -> None:
    ev = event(S.REGISTERED, sh(2025, 6, 10, 9), returned_at=sh(2025, 6, 12, 14))
    assert deadline(ev, cn) == sh(2025, 6, 12, 15)
    assert colour(ev, sh(2025, 6, 12, 14, 30), cn) is G


def test_yellow_share_is_configurable(cn: WorkCalendar) -> None:
    ev = event(S.ACCEPTED, sh(2025, 6, 10, 9))
    assert colour(ev, sh(2025, 6, 10, 9, 30), cn, yellow_share=0.5) is Y
    assert colour(ev, sh(2025, 6, 10, 9, 30) - US, cn, yellow_share=0.5) is G
    assert colour(ev, sh(2025, 6, 10, 10) - US, cn, yellow_share=0.0) is G
    assert next_colour_change(ev, sh(2025, 6, 10, 9), cn, 0.0) == sh(2025, 6, 10, 10)
    assert colour(ev, sh(2025, 6, 10, 9), cn, yellow_share=1.0) is Y
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="yellow_share"):
            colour(ev, sh(2025, 6, 10, 9), cn, yellow_share=bad)


# -- resolution: working days ----------------------------------------------------------


def test_resolution_over_a_makeup_sunday(cn: WorkCalendar) -> None:
    # Routed Friday Sep 26 10:00; Sat 27 off, Sun 28 a makeup workday, Mon 29, Tue 30.
    ev = event(S.ROUTED, sh(2025, 9, 26, 10))
    assert deadline(ev, cn) == sh(2025, 9, 30, 10)
    # 72 working hours; yellow once 18 remain: Fri 14 h + Sun 24 h + Mon 16 h elapsed.
    assert colour(ev, sh(2025, 9, 29, 16) - US, cn) is G
    assert colour(ev, sh(2025, 9, 29, 16), cn) is Y
    assert next_colour_change(ev, sh(2025, 9, 27, 12), cn) == sh(2025, 9, 29, 16)
    assert colour(ev, sh(2025, 9, 30, 10), cn) is R


def test_resolution_across_national_day(cn: WorkCalendar) -> None:
    # Routed Tuesday Sep 30 10:00: Oct 1-8 off; Thu 9, Fri 10 and the makeup Saturday 11.
    ev = event(S.HANDLING, sh(2025, 9, 30, 10))
    assert deadline(ev, cn) == sh(2025, 10, 11, 10)
    # Eight days of holiday use up none of the time: still green at its end.
    assert colour(ev, sh(2025, 10, 8, 23, 59), cn) is G
    assert colour(ev, sh(2025, 10, 10, 16) - US, cn) is G
    assert colour(ev, sh(2025, 10, 10, 16), cn) is Y
    assert colour(ev, sh(2025, 10, 11, 10) - US, cn) is Y
    assert colour(ev, sh(2025, 10, 11, 10), cn) is R
    assert is_overdue(ev, sh(2025, 10, 11, 10), cn)
    assert not is_overdue(ev, sh(2025, 10, 11, 10) - US, cn)


def test_resolution_across_spring_festival_with_an_extension(cn: WorkCalendar) -> None:
    # Routed Thu Feb 12 2026, multi-department, 2 extra days: 5 working days:
    # Fri 13, Sat 14 (makeup), [Feb 15-23 off], Tue 24, Wed 25, Thu 26.
    ev = event(S.HANDLING, sh(2026, 2, 12, 9), multi_department=True, extension_days=2)
    assert deadline(ev, cn) == sh(2026, 2, 26, 9)
    assert deadline(ev.model_copy(update={"extension_days": 0}), cn) == sh(2026, 2, 24, 9)


def test_resolution_started_on_a_holiday_counts_from_the_next_working_day(
    cn: WorkCalendar,
) -> None:
    ev = event(S.ROUTED, sh(2025, 10, 3, 16))
    assert deadline(ev, cn) == sh(2025, 10, 13, 0)


def test_single_and_multi_department_limits_are_separate(cn: WorkCalendar) -> None:
    policy = DeadlinePolicy(resolution_days_single=2, resolution_days_multi=5)
    single = event(S.ROUTED, sh(2025, 6, 9, 10))
    multi = single.model_copy(update={"multi_department": True})
    assert deadline(single, cn, policy) == sh(2025, 6, 11, 10)
    assert deadline(multi, cn, policy) == sh(2025, 6, 16, 10)
    assert deadline(single, cn) == deadline(multi, cn) == sh(2025, 6, 12, 10)


def test_feedback_stage_and_archived(cn: WorkCalendar) -> None:
    # Fed back Fri Dec 26 2025 18:00: Mon 29, Tue 30, Wed 31.
    ev = event(S.FEEDBACK, sh(2025, 12, 26, 18))
    assert deadline(ev, cn) == sh(2025, 12, 31, 18)
    assert deadline(ev, cn, DeadlinePolicy(feedback_days=None)) is None
    assert colour(ev, sh(2026, 3, 1), cn, policy=DeadlinePolicy(feedback_days=None)) is G
    done = event(S.ARCHIVED, sh(2025, 12, 26, 18))
    assert deadline(done, cn) is None
    assert colour(done, sh(2030, 1, 1), cn) is G
    assert next_colour_change(done, sh(2030, 1, 1), cn) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"routing": timedelta(0)},
        {"resolution_days_single": 0},
        {"resolution_days_multi": -1},
        {"feedback_days": 0},
        {"remind_every_routing": timedelta(0)},
        {"remind_every_working_days": 0},
    ],
)
def test_policy_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        DeadlinePolicy(**kwargs)


def test_naive_now_is_refused(cn: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        colour(event(S.ACCEPTED, sh(2025, 6, 9)), datetime(2025, 6, 9, 9), cn)


# -- next_colour_change is consistent with colour ---------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(SH)
)


@settings(max_examples=400, deadline=None)
@given(
    state=st.sampled_from([S.ACCEPTED, S.REGISTERED, S.ROUTED, S.HANDLING, S.FEEDBACK]),
    start=starts,
    multi=st.booleans(),
    extension=st.integers(0, 5),
    share=st.floats(0.0, 1.0),
    offset=st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(days=20)),
)
def test_next_colour_change_is_where_the_colour_changes(
    cn: WorkCalendar,
    state: EventState,
    start: datetime,
    multi: bool,
    extension: int,
    share: float,
    offset: timedelta,
) -> None:
    ev = event(state, start, multi_department=multi, extension_days=extension)
    st_ = stage(ev, cn)
    assert st_ is not None
    elapsed = cn.working_time_between if st_.working else (lambda a, b: b - a)
    assert elapsed(st_.start, st_.deadline) == st_.length
    now = start + offset
    current = colour(ev, now, cn, share)
    change = next_colour_change(ev, now, cn, share)
    if change is None:
        assert current is R
        assert colour(ev, now + timedelta(days=400), cn, share) is R
        return
    assert change > now
    assert colour(ev, change - US, cn, share) is current
    assert colour(ev, change, cn, share) is not current
    midway = now + (change - now) / 2
    assert colour(ev, midway, cn, share) is current


# -- 催办 reminders --------------------------------------------------------------------


def test_routing_reminders_repeat_hourly(cn: WorkCalendar) -> None:
    ev = event(S.ACCEPTED, sh(2025, 6, 10, 9))
    assert not reminder_due(ev, None, sh(2025, 6, 10, 10) - US, cn)
    assert reminder_due(ev, None, sh(2025, 6, 10, 10), cn)
    last = sh(2025, 6, 10, 10)
    assert not reminder_due(ev, last, sh(2025, 6, 10, 11) - US, cn)
    assert reminder_due(ev, last, sh(2025, 6, 10, 11), cn)
    # a reminder from an earlier stage does not count against this one
    assert reminder_due(ev, sh(2025, 6, 9, 12), sh(2025, 6, 10, 10), cn)
    policy = DeadlinePolicy(remind_every_routing=timedelta(minutes=15))
    assert next_reminder_at(ev, last, cn, policy) == sh(2025, 6, 10, 10, 15)


def test_resolution_reminders_repeat_each_working_day(cn: WorkCalendar) -> None:
    ev = event(S.HANDLING, sh(2025, 9, 26, 10))  # deadline Tue Sep 30 10:00
    assert next_reminder_at(ev, None, cn) == sh(2025, 9, 30, 10)
    # reminded at the deadline: next on Thu Oct 9 (after National Day), same time
    assert next_reminder_at(ev, sh(2025, 9, 30, 10), cn) == sh(2025, 10, 9, 10)
    assert not reminder_due(ev, sh(2025, 9, 30, 10), sh(2025, 10, 8, 12), cn)
    assert reminder_due(ev, sh(2025, 9, 30, 10), sh(2025, 10, 9, 10), cn)


def test_an_extension_postpones_reminders(cn: WorkCalendar) -> None:
    ev = event(S.HANDLING, sh(2025, 6, 9, 10), extension_days=2)  # Thu 12 -> Mon 16
    assert not reminder_due(ev, sh(2025, 6, 12, 10), sh(2025, 6, 13, 10), cn)
    assert reminder_due(ev, sh(2025, 6, 12, 10), sh(2025, 6, 16, 10), cn)


def test_no_reminders_without_a_deadline(cn: WorkCalendar) -> None:
    done = event(S.ARCHIVED, sh(2025, 6, 9, 10))
    assert not reminder_due(done, None, sh(2030, 1, 1), cn)
    assert next_reminder_at(done, None, cn) is None


# -- the queue order --------------------------------------------------------------------


def test_queue_key_orders_red_yellow_green_then_deadline(cn: WorkCalendar) -> None:
    now = sh(2025, 6, 10, 12)
    events = {
        "green-late": event(S.ROUTED, sh(2025, 6, 10, 11)),
        "green-early": event(S.ROUTED, sh(2025, 6, 10, 9)),
        "yellow": event(S.ACCEPTED, sh(2025, 6, 10, 11, 10)),
        "red-new": event(S.ACCEPTED, sh(2025, 6, 10, 10, 30)),
        "red-old": event(S.ACCEPTED, sh(2025, 6, 9, 9)),
        "archived": event(S.ARCHIVED, sh(2025, 6, 1)),
    }
    events = {k: v.model_copy(update={"id": k}) for k, v in events.items()}
    order = sorted(events, key=lambda k: queue_key(events[k], now, cn))
    assert order == ["red-old", "red-new", "yellow", "green-early", "green-late", "archived"]


# -- escalation ladder -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "waited", "step"),
    [
        (Priority.EMERGENCY, timedelta(0), 0),
        (Priority.EMERGENCY, timedelta(minutes=2) - US, 0),
        (Priority.EMERGENCY, timedelta(minutes=2), 1),
        (Priority.EMERGENCY, timedelta(minutes=5), 2),
        (Priority.EMERGENCY, timedelta(minutes=10), 3),
        (Priority.EMERGENCY, timedelta(days=2), 3),
        (Priority.URGENT, timedelta(minutes=14), 1),
        (Priority.ROUTINE, timedelta(minutes=29), 0),
        (Priority.ROUTINE, timedelta(hours=2), 2),
        (Priority.ROUTINE, timedelta(hours=-1), 0),
    ],
)
def test_escalation_step(priority: Priority, waited: timedelta, step: int) -> None:
    since = sh(2025, 6, 10, 9)
    assert escalation_step(priority, since, since + waited) == step


def test_next_escalation_at() -> None:
    since = sh(2025, 6, 10, 9)
    assert next_escalation_at(Priority.URGENT, since, since) == sh(2025, 6, 10, 9, 5)
    assert next_escalation_at(Priority.URGENT, since, sh(2025, 6, 10, 9, 5)) == sh(
        2025, 6, 10, 9, 15
    )
    assert next_escalation_at(Priority.URGENT, since, sh(2025, 6, 10, 9, 30)) is None


def test_ladder_check() -> None:
    check_ladder(DEFAULT_LADDER)
    minutes = [timedelta(minutes=m) for m in (1, 2)]
    full = dict.fromkeys(Priority, tuple(minutes))
    check_ladder(full)
    with pytest.raises(ValueError, match="no steps for priority urgent"):
        check_ladder({k: v for k, v in full.items() if k is not Priority.URGENT})
    with pytest.raises(ValueError, match="must increase"):
        check_ladder({**full, Priority.ROUTINE: (minutes[1], minutes[0])})
    with pytest.raises(ValueError, match="must be positive"):
        check_ladder({**full, Priority.ROUTINE: (timedelta(0),)})


def test_calendar_years_cover_the_tests(cn: WorkCalendar) -> None:
    assert {2025, 2026} <= cn.years
    assert not cn.is_workday(date(2026, 2, 20))
