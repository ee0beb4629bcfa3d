"""The hub's one wall clock: every wall-time reading of the hub goes through here.

`china_now()` (aware, UTC+8) and `utc_now()` read `HUB_CLOCK`, this process's
`WallClock`; the hub hands `china_now` to each service as its `clock` (constructors take
it, tests pass a `FakeClock`). Nothing else in `dispatch/` outside the console's client
calls `datetime.now` or `time.time` (`tests/unit/dispatch/hub/test_clock.py` greps for it).

Wall time is for what people read and what the rules count (deadlines, colours, 催办,
link expiry, schedules). Timeouts, heartbeats, throttles and the timer loop's pace use
the monotonic clock (`time.monotonic`, asyncio's own loop time), which never jumps.

**The wall clock may jump** (an NTP step, an operator fixing the date). `ClockWatch`
notices a jump by comparing the wall and monotonic clocks between two looks; the hub's
timer loop then rechecks every open event at the new time (`HubService.recheck_all`):
colours follow the new time at once, either way, and nothing is done twice, because
each 催办 is recorded with its time and the rules count from it.

**Test mode.** With `HALL_TEST_CLOCK_OFFSET_FILE=PATH` in its environment the process's
wall clock is the system's plus the seconds written in PATH (a number, re-read at most
every `REREAD_S` seconds on the monotonic clock; `write_offset` writes it atomically).
The clock-jump test and anyone who wants an event red without waiting an hour
(`tests.kit.hub`: `HubProcess(clock_offset_file=PATH)`) move a real hub this way. Why
not libfaketime: Debian's 0.9.10 either fakes CLOCK_MONOTONIC too (it then jumps with
the wall clock, which a real NTP step never does, so the test would prove nothing about
the monotonic timeouts) or, with `FAKETIME_DONT_FAKE_MONOTONIC=1`, makes Python's
`time.sleep` fail with EINVAL (its `clock_nanosleep` wrapper); both checked here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

CHINA_TZ = timezone(timedelta(hours=8), "CST")
OFFSET_ENV = "HALL_TEST_CLOCK_OFFSET_FILE"
REREAD_S = 0.2
JUMP_S = 5.0  # a wall step this much beside the monotonic clock is a jump
log = logging.getLogger("hall-hub.clock")


def system_utc() -> datetime:
    """The machine's wall time without the test offset: for what other programs check
    against the machine's own clock (certificate validity, TURN credential expiry)."""
    return datetime.now(UTC)


def parse_offset(text: str) -> float:
    """Seconds from an offset file's text ("7200", "-7200.5"); 0 for empty or bad text
    (a half-written or foreign file never stops the clock)."""
    try:
        value = float(text.strip() or "0")
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and abs(value) < 10 * 365 * 86400 else 0.0


def write_offset(path: Path, seconds: float) -> None:
    """Set a test hub's clock offset (atomically: the hub never reads half a number)."""
    part = path.with_name(path.name + ".part")
    part.write_text(f"{seconds}\n", encoding="ascii")
    os.replace(part, path)


class WallClock:
    """The system's wall time, plus the test offset when an offset file is given."""

    def __init__(
        self,
        offset_file: Path | None = None,
        *,
        system: Callable[[], datetime] = system_utc,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.offset_file = offset_file
        self._system = system
        self._monotonic = monotonic
        self._offset = 0.0
        self._read_at = -math.inf

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> WallClock:
        path = environ.get(OFFSET_ENV, "")
        return cls(Path(path) if path else None)

    def offset_s(self) -> float:
        """The test offset in seconds (0 without an offset file)."""
        if self.offset_file is None:
            return 0.0
        mono = self._monotonic()
        if mono - self._read_at >= REREAD_S:
            self._read_at = mono
            # a file being replaced keeps the last offset: that is not a jump
            with contextlib.suppress(OSError, UnicodeDecodeError):
                self._offset = parse_offset(self.offset_file.read_text(encoding="ascii"))
        return self._offset

    def utc(self) -> datetime:
        now = self._system()
        if self.offset_file is None:
            return now
        return now + timedelta(seconds=self.offset_s())

    def __call__(self) -> datetime:
        """Now in China time (UTC+8), aware."""
        return self.utc().astimezone(CHINA_TZ)


HUB_CLOCK = WallClock.from_environ()


def china_now() -> datetime:
    """This process's wall time in China time (`HUB_CLOCK`)."""
    return HUB_CLOCK()


def utc_now() -> datetime:
    """This process's wall time in UTC (`HUB_CLOCK`)."""
    return HUB_CLOCK.utc()


class ClockWatch:
    """Notices wall-clock jumps: `look()` returns the seconds the wall clock moved beside
    the monotonic clock since the last look (0 below `threshold_s`)."""

    def __init__(
        self,
        wall: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        threshold_s: float = JUMP_S,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self.threshold_s = threshold_s
        self._last: tuple[datetime, float] | None = None

    def look(self) -> float:
        wall, mono = self._wall(), self._monotonic()
        last, self._last = self._last, (wall, mono)
        if last is None:
            return 0.0
        step = (wall - last[0]).total_seconds() - (mono - last[1])
        return step if abs(step) >= self.threshold_s else 0.0
