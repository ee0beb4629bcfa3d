"""`FakeClock`: the one fake clock of the tests, trio-style (passed in, moved by the test).

`clock()` is the wall time (an aware `datetime`, what the services take as `clock`);
`clock.monotonic()` is seconds on a monotonic scale (what the wall controller takes).
Both move together, only when the test calls `advance()` or `set()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # a Monday, 09:00 Beijing time


class FakeClock:
    def __init__(self, start: datetime = T0, monotonic_start: float = 1000.0) -> None:
        self._start = start
        self._now = start
        self._monotonic_start = monotonic_start

    def __call__(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic_start + (self._now - self._start).total_seconds()

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by `seconds` plus any `timedelta` keywords; returns the new time."""
        step = timedelta(seconds=seconds, **delta)
        if step < timedelta(0):
            raise ValueError(f"a clock does not go back: {step}")
        self._now += step
        return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to `when` (not before now); returns it."""
        if when < self._now:
            raise ValueError(f"a clock does not go back: {when} < {self._now}")
        self._now = when
        return self._now
