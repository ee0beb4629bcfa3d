"""Working days: weekends, public holidays and the makeup workdays (调休) of the Chinese calendar.

Pure: no I/O, no clock reads. The hub reads `resources/calendar/cn.toml` and passes the
parsed mapping to `WorkCalendar.from_mapping`.

Definitions used by the deadlines (`dispatch.domain.rules`):

- A day is a working day if it is a makeup workday (a weekend day declared a workday),
  or else if it is neither a holiday nor a weekend day. Dates are local dates in the
  calendar's time zone (China Standard Time, UTC+8, by default).
- Working time is the time that falls on working days, whole days of 24 hours: the
  time of day does not matter (a county centre is staffed round the clock; what the
  limits count is calendar working days, not office hours).
- `add_working_days(start, n)` lands at the same time of day on the n-th working day
  after the day of `start`. A `start` on a non-working day counts from 00:00 of the next
  working day, as if the report had come in at the very start of it: Saturday 15:00
  plus 3 working days is Thursday 00:00 (the end of Wednesday) in a normal week. Either
  way exactly n × 24 hours of working time lie between `start` and the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
"""China Standard Time. China has had no daylight saving time since 1991."""

DAY = timedelta(days=1)
MAX_HOLIDAY_SPAN_DAYS = 31
_MAX_SEARCH_DAYS = 3660
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


class CalendarError(ValueError):
    """A calendar definition that cannot be used; the message says where and why."""


def _as_date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        raise CalendarError(f"{where}: expected a date, got a date and time {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CalendarError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None
    raise CalendarError(f"{where}: expected a date, got {type(value).__name__}")


def parse_utc_offset(text: str) -> timezone:
    """'+08:00' -> a fixed-offset timezone; CalendarError for anything else."""
    m = _OFFSET.match(text)
    if m is None:
        raise CalendarError(f"utc_offset: {text!r} is not an offset like +08:00")
    sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3))
    if hours > 14 or minutes > 59:
        raise CalendarError(f"utc_offset: {text!r} is out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def _days(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += DAY


def _check_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {dt!r}")


@dataclass(frozen=True)
class WorkCalendar:
    """Which local dates are working days. Immutable; build it with `from_mapping`."""

    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    tz: timezone = CHINA_TZ
    """A fixed UTC offset (China has had no daylight saving time since 1991), so that
    local days are always 24 hours long and local arithmetic is exact."""
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
    names: Mapping[date, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_workdays
        if both:
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise CalendarError(f"dates both holiday and makeup workday: {days}")
        if not self.weekend <= frozenset(range(7)) or len(self.weekend) == 7:
            raise CalendarError(f"weekend must be some of the weekdays 0..6, got {self.weekend}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> WorkCalendar:
        """Build from the parsed TOML (dates as `date` or 'YYYY-MM-DD' strings).

        Keys: `utc_offset` ("+08:00"), `weekend` (ISO weekdays, 1 = Monday; default
        [6, 7]), `holiday` (a list of {name, first, last}) and `workday` (a list of
        {date, name}). Unknown keys are errors, so a typo does not silently drop days.
        """
        unknown = set(data) - {"utc_offset", "weekend", "holiday", "workday", "source"}
        if unknown:
            raise CalendarError(f"unknown keys: {', '.join(sorted(unknown))}")
        tz = CHINA_TZ
        if "utc_offset" in data:
            offset = data["utc_offset"]
            if not isinstance(offset, str):
                raise CalendarError("utc_offset: expected a string like +08:00")
            tz = parse_utc_offset(offset)
        weekend = frozenset({5, 6})
        if "weekend" in data:
            raw = data["weekend"]
            if not isinstance(raw, list) or not all(
                isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 7 for x in raw
            ):
                raise CalendarError("weekend: expected a list of ISO weekdays 1..7")
            weekend = frozenset(x - 1 for x in raw)
        names: dict[date, str] = {}
        holidays: set[date] = set()
        for i, item in enumerate(_table_list(data, "holiday")):
            where = f"holiday[{i}]"
            _only_keys(item, {"name", "first", "last"}, where)
            name = _name(item, where)
            first = _as_date(item.get("first"), f"{where}.first")
            last = _as_date(item.get("last", first), f"{where}.last")
            if last < first:
                raise CalendarError(f"{where} ({name}): last {last} is before first {first}")
            if (last - first).days >= MAX_HOLIDAY_SPAN_DAYS:
                raise CalendarError(
                    f"{where} ({name}): {first}..{last} is longer than {MAX_HOLIDAY_SPAN_DAYS} days"
                )
            for d in _days(first, last):
                if d in holidays:
                    raise CalendarError(f"{where} ({name}): {d} is already a holiday")
                holidays.add(d)
                names[d] = name
        workdays: set[date] = set()
        for i, item in enumerate(_table_list(data, "workday")):
            where = f"workday[{i}]"
            _only_keys(item, {"name", "date"}, where)
            name = _name(item, where)
            d = _as_date(item.get("date"), f"{where}.date")
            if d in workdays:
                raise CalendarError(f"{where} ({name}): {d} is listed twice")
            if d in holidays:
                raise CalendarError(f"{where} ({name}): {d} is also a holiday")
            workdays.add(d)
            names[d] = name
        return cls(frozenset(holidays), frozenset(workdays), tz, weekend, names)

    @property
    def years(self) -> frozenset[int]:
        """The years the calendar has holidays or makeup workdays for."""
        return frozenset(d.year for d in self.holidays | self.makeup_workdays)

    def is_workday(self, d: date) -> bool:
        if d in self.makeup_workdays:
            return True
        return d not in self.holidays and d.weekday() not in self.weekend

    def local(self, dt: datetime) -> datetime:
        _check_aware(dt, "datetime")
        return dt.astimezone(self.tz)

    def day_start(self, d: date) -> datetime:
        """00:00 of the local date `d`, aware, in the calendar's time zone."""
        return datetime.combine(d, time(0), tzinfo=self.tz)

    def next_workday(self, d: date) -> date:
        """The first working day strictly after `d`."""
        for _ in range(_MAX_SEARCH_DAYS):
            d += DAY
            if self.is_workday(d):
                return d
        raise CalendarError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same time of day on the `days`-th working day after the day of `start`.

        A `start` on a non-working day counts from 00:00 of the next working day. With
        `days == 0` the result is `start` (or that 00:00). The result is in `tz`.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        local = self.local(start)
        d = local.date()
        if not self.is_workday(d):
            d = self.next_workday(d)
            local = self.day_start(d)
        for _ in range(days):
            d = self.next_workday(d)
        return datetime.combine(d, local.timetz())

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time in [a, b); negative when b is before a."""
        _check_aware(a, "a")
        _check_aware(b, "b")
        if b < a:
            return -self.working_time_between(b, a)
        la, lb = self.local(a), self.local(b)
        total = timedelta(0)
        for d in _days(la.date(), lb.date()):
            if not self.is_workday(d):
                continue
            lo = max(la, self.day_start(d))
            hi = min(lb, self.day_start(d + DAY))
            if hi > lo:
                total += hi - lo
        return total

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        return self.working_time_between(a, b).total_seconds()

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant t >= start with `amount` of working time in [start, t)."""
        local = self.local(start)
        if amount <= timedelta(0):
            return local
        left = amount
        d = local.date()
        for _ in range(_MAX_SEARCH_DAYS + amount.days * 3):
            if self.is_workday(d):
                lo = max(local, self.day_start(d))
                hi = self.day_start(d + DAY)
                available = hi - lo
                if left <= available:
                    return lo + left
                left -= available
            d += DAY
        raise CalendarError(f"no working time left within reach of {start.isoformat()}")


def _table_list(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
        raise CalendarError(f"{key}: expected a list of tables ([[{key}]])")
    return raw


def _only_keys(item: Mapping[str, object], allowed: set[str], where: str) -> None:
    unknown = set(item) - allowed
    if unknown:
        raise CalendarError(f"{where}: unknown keys {', '.join(sorted(unknown))}")


def _name(item: Mapping[str, object], where: str) -> str:
    name = item.get("name", "")
    if not isinstance(name, str):
        raise CalendarError(f"{where}.name: expected a string")
    return name


PLAIN = WorkCalendar()
"""Weekends only, no holidays: for tests and as the fallback of a hub without a calendar."""
