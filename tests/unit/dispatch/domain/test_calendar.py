"""Working days with China's holidays and makeup workdays (调休) from resources/calendar/cn.toml."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.calendar import PLAIN, CalendarError, WorkCalendar, parse_utc_offset
from tests.kit.paths import ROOT

SH = ZoneInfo("Asia/Shanghai")
CN_TOML = ROOT / "resources" / "calendar" / "cn.toml"


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar.from_mapping(tomllib.loads(CN_TOML.read_text(encoding="utf-8")))


def test_shipped_calendar_covers_2025_and_2026(cn: WorkCalendar) -> None:
    assert cn.years == {2025, 2026}
    assert cn.names[date(2025, 10, 1)] == "国庆节、中秋节"
    assert cn.names[date(2026, 2, 14)] == "春节调休"


@pytest.mark.parametrize("year", [2025, 2026])
def test_each_year_loses_exactly_the_13_statutory_holidays(cn: WorkCalendar, year: int) -> None:
    # Since 2025 the law gives 13 public holidays a year; 调休 only moves days around.
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    days = [d for d in days if d.year == year]
    lost = sum(1 for d in days if PLAIN.is_workday(d) and not cn.is_workday(d))
    gained = sum(1 for d in days if cn.is_workday(d) and not PLAIN.is_workday(d))
    assert lost - gained == 13


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        # National Day 2025: Oct 1-8 off, Sun Sep 28 and Sat Oct 11 worked.
        ("2025-09-28", True),
        ("2025-09-30", True),
        ("2025-10-01", False),
        ("2025-10-06", False),
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2025-10-11", True),
        ("2025-10-12", False),
        # Spring Festival 2025: Jan 28 - Feb 4 off, Sun Jan 26 and Sat Feb 8 worked.
        ("2025-01-26", True),
        ("2025-01-27", True),
        ("2025-01-28", False),
        ("2025-02-04", False),
        ("2025-02-05", True),
        ("2025-02-08", True),
        ("2025-01-01", False),
        ("2025-04-27", True),
        ("2025-05-05", False),
        ("2025-06-02", False),
        # 2026: New Year Jan 1-3 (Sun Jan 4 worked), Spring Festival Feb 15-23
        # (Sat Feb 14 and Sat Feb 28 worked), National Day Oct 1-7 (Sun Sep 20, Sat Oct 10).
        ("2026-01-02", False),
        ("2026-01-04", True),
        ("2026-02-14", True),
        ("2026-02-16", False),
        ("2026-02-23", False),
        ("2026-02-24", True),
        ("2026-02-28", True),
        ("2026-05-09", True),
        ("2026-06-19", False),
        ("2026-09-20", True),
        ("2026-09-25", False),
        ("2026-10-07", False),
        ("2026-10-10", True),
        # ordinary weeks
        ("2025-06-11", True),
        ("2025-06-14", False),
        ("2025-06-15", False),
    ],
)
def test_is_workday(cn: WorkCalendar, day: str, workday: bool) -> None:
    assert cn.is_workday(date.fromisoformat(day)) is workday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # an ordinary week: Friday + 3 skips the weekend
        (sh(2025, 6, 6, 10), 3, sh(2025, 6, 11, 10)),
        (sh(2025, 6, 6, 10), 1, sh(2025, 6, 9, 10)),
        # National Day: Tuesday before the holiday + 3 lands on the makeup Saturday
        (sh(2025, 9, 30, 14, 30), 3, sh(2025, 10, 11, 14, 30)),
        (sh(2025, 9, 30, 14, 30), 1, sh(2025, 10, 9, 14, 30)),
        # the makeup Sunday before it is a working day of its own
        (sh(2025, 9, 26, 17), 1, sh(2025, 9, 28, 17)),
        (sh(2025, 9, 28, 9), 1, sh(2025, 9, 29, 9)),
        # start on a Saturday: counts from 00:00 of the next working day (the makeup Sunday)
        (sh(2025, 9, 27, 9), 1, sh(2025, 9, 29, 0)),
        # start inside the holiday: counts from 00:00 of Thu Oct 9
        (sh(2025, 10, 3, 16), 3, sh(2025, 10, 13, 0)),
        (sh(2025, 10, 3, 16), 0, sh(2025, 10, 9, 0)),
        # Spring Festival 2025
        (sh(2025, 1, 27, 9), 3, sh(2025, 2, 7, 9)),
        (sh(2025, 1, 24, 17), 1, sh(2025, 1, 26, 17)),
        (sh(2025, 2, 7, 11), 1, sh(2025, 2, 8, 11)),
        # Spring Festival 2026
        (sh(2026, 2, 13, 10), 2, sh(2026, 2, 24, 10)),
        (sh(2026, 2, 27, 10), 1, sh(2026, 2, 28, 10)),
        (sh(2026, 2, 27, 10), 2, sh(2026, 3, 2, 10)),
        # New Year 2026 and across the year end
        (sh(2025, 12, 31, 8), 1, sh(2026, 1, 4, 8)),
        # zero days on a working day is the start itself
        (sh(2025, 6, 11, 13, 5), 0, sh(2025, 6, 11, 13, 5)),
    ],
)
def test_add_working_days(cn: WorkCalendar, start: datetime, days: int, expected: datetime) -> None:
    result = cn.add_working_days(start, days)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=8)
    assert cn.working_time_between(start, result) == timedelta(days=days)


def test_add_working_days_uses_the_local_date_of_utc_input(cn: WorkCalendar) -> None:
    # 2025-10-08 17:00 UTC is Thursday Oct 9 01:00 in China: a working day, not the holiday.
    start = datetime(2025, 10, 8, 17, tzinfo=UTC)
    assert cn.add_working_days(start, 1) == sh(2025, 10, 10, 1)
    assert cn.add_working_days(datetime(2025, 9, 30, 2, tzinfo=UTC), 3) == sh(2025, 10, 11, 10)


def test_plain_calendar_has_weekends_only() -> None:
    assert PLAIN.add_working_days(sh(2025, 10, 1, 9), 1) == sh(2025, 10, 2, 9)
    assert not PLAIN.is_workday(date(2025, 9, 28))


def test_bad_arguments(cn: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="days must be >= 0"):
        cn.add_working_days(sh(2025, 6, 6), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        cn.add_working_days(datetime(2025, 6, 6, 9), 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        cn.working_time_between(datetime(2025, 6, 6, 9), sh(2025, 6, 7))


def test_working_time_between_counts_only_working_days(cn: WorkCalendar) -> None:
    # Friday 18:00 to Monday 06:00 in an ordinary week: 6 h on Friday + 6 h on Monday.
    assert cn.working_time_between(sh(2025, 6, 13, 18), sh(2025, 6, 16, 6)) == timedelta(hours=12)
    # the whole National Day holiday contributes nothing
    assert cn.working_time_between(sh(2025, 10, 1), sh(2025, 10, 9)) == timedelta(0)
    assert cn.working_time_between(sh(2025, 10, 9), sh(2025, 10, 1)) == timedelta(0)
    assert cn.working_time_between(sh(2025, 6, 16, 6), sh(2025, 6, 13, 18)) == -timedelta(hours=12)


def test_add_working_time_jumps_over_the_holiday(cn: WorkCalendar) -> None:
    start = sh(2025, 9, 30, 20)
    # exactly the rest of Sep 30: the earliest such instant is the end of that day
    assert cn.add_working_time(start, timedelta(hours=4)) == sh(2025, 10, 1, 0)
    assert cn.add_working_time(start, timedelta(hours=5)) == sh(2025, 10, 9, 1)
    assert cn.add_working_time(start, timedelta(0)) == start
    # from inside a holiday the clock starts at the next working day
    assert cn.add_working_time(sh(2025, 10, 2, 12), timedelta(minutes=1)) == sh(2025, 10, 9, 0, 1)


instants = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SH)
)


@settings(max_examples=300, deadline=None)
@given(start=instants, days=st.integers(0, 25))
def test_add_working_days_is_exactly_n_days_of_working_time(
    cn: WorkCalendar, start: datetime, days: int
) -> None:
    end = cn.add_working_days(start, days)
    assert end >= start
    assert cn.working_time_between(start, end) == timedelta(days=days)
    assert cn.is_workday(end.astimezone(SH).date()) or end.astimezone(SH).time().hour == 0
    if cn.is_workday(start.date()):
        assert end.astimezone(SH).timetz().replace(tzinfo=None) == start.time()


@settings(max_examples=300, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_working_time_is_additive(cn: WorkCalendar, a: datetime, b: datetime, c: datetime) -> None:
    ab = cn.working_time_between(a, b)
    assert ab + cn.working_time_between(b, c) == cn.working_time_between(a, c)
    assert timedelta(0) <= abs(ab) <= abs(b - a)


@settings(max_examples=300, deadline=None)
@given(
    start=instants,
    amount=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=20)),
)
def test_add_working_time_is_the_earliest_instant(
    cn: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    end = cn.add_working_time(start, amount)
    assert cn.working_time_between(start, end) == amount
    assert cn.working_time_between(start, end - timedelta(microseconds=1)) < amount


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "holiday": [{"name": "国庆节", "first": date(2025, 10, 1), "last": date(2025, 10, 8)}],
        "workday": [{"name": "调休", "date": date(2025, 10, 11)}],
    }
    data.update(changes)
    return data


def test_from_mapping_accepts_iso_strings_and_options() -> None:
    cal = WorkCalendar.from_mapping(
        {
            "utc_offset": "+05:30",
            "weekend": [5, 6],  # Friday and Saturday
            "holiday": [{"name": "x", "first": "2025-03-03"}],
            "workday": [{"name": "y", "date": "2025-03-07"}],
        }
    )
    assert cal.holidays == {date(2025, 3, 3)}
    assert cal.is_workday(date(2025, 3, 9))  # a Sunday
    assert not cal.is_workday(date(2025, 3, 8))  # a Saturday
    assert cal.is_workday(date(2025, 3, 7))  # a makeup Friday
    assert cal.tz == timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (minimal(holidays=[]), "unknown keys: holidays"),
        (
            minimal(holiday=[{"name": "x", "first": date(2025, 5, 5), "last": date(2025, 5, 1)}]),
            r"holiday\[0\] \(x\): last 2025-05-01 is before first 2025-05-05",
        ),
        (
            minimal(holiday=[{"name": "x", "first": "2025-5-1"}]),
            r"holiday\[0\].first: '2025-5-1' is not a date",
        ),
        (
            minimal(holiday=[{"name": "x", "first": datetime(2025, 5, 1, 9)}]),
            "expected a date, got a date and time",
        ),
        (minimal(holiday=[{"name": "x", "first": 20250501}]), "expected a date, got int"),
        (minimal(holiday=[{"name": "x"}]), r"holiday\[0\].first: expected a date, got NoneType"),
        (
            minimal(holiday=[{"name": "x", "first": date(2025, 1, 1), "last": date(2025, 3, 1)}]),
            "longer than 31 days",
        ),
        (
            minimal(holiday=[{"name": "x", "first": date(2025, 1, 1), "day": 1}]),
            r"holiday\[0\]: unknown keys day",
        ),
        (
            minimal(
                holiday=[
                    {"name": "a", "first": date(2025, 5, 1), "last": date(2025, 5, 5)},
                    {"name": "b", "first": date(2025, 5, 5)},
                ]
            ),
            r"holiday\[1\] \(b\): 2025-05-05 is already a holiday",
        ),
        (
            minimal(workday=[{"name": "z", "date": date(2025, 10, 3)}]),
            "2025-10-03 is also a holiday",
        ),
        (
            minimal(workday=[{"date": date(2025, 9, 28)}, {"date": date(2025, 9, 28)}]),
            r"workday\[1\] \(\): 2025-09-28 is listed twice",
        ),
        (
            minimal(workday={"date": date(2025, 9, 28)}),
            r"expected a list of tables \(\[\[workday\]\]\)",
        ),
        (minimal(utc_offset="UTC+8"), "not an offset like"),
        (minimal(utc_offset=8), "expected a string"),
        (minimal(weekend=[0, 7]), "ISO weekdays 1..7"),
        (minimal(weekend=[1, 2, 3, 4, 5, 6, 7]), "weekend must be"),
        (minimal(holiday=[{"name": 3, "first": date(2025, 1, 1)}]), r"holiday\[0\].name"),
    ],
)
def test_from_mapping_errors_say_where(data: dict[str, Any], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        WorkCalendar.from_mapping(data)


def test_direct_construction_refuses_contradictions() -> None:
    with pytest.raises(CalendarError, match="both holiday and makeup workday: 2025-10-01"):
        WorkCalendar(frozenset({date(2025, 10, 1)}), frozenset({date(2025, 10, 1)}))


@pytest.mark.parametrize(("text", "hours"), [("+08:00", 8.0), ("-03:30", -3.5), ("+00:00", 0.0)])
def test_parse_utc_offset(text: str, hours: float) -> None:
    offset = parse_utc_offset(text).utcoffset(None)
    assert offset is not None and offset.total_seconds() == hours * 3600
    with pytest.raises(CalendarError):
        parse_utc_offset("+15:00")
