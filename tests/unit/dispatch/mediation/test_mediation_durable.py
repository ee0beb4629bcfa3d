"""Pure helpers of the durable mediation sessions (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dispatch.mediation.core import close_crashed, recording_line

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def test_an_interval_left_open_by_a_crash_ends_at_the_last_known_alive_time() -> None:
    closed = (T0, T0 + timedelta(minutes=1))
    open_ = (T0 + timedelta(minutes=2), None)
    alive = T0 + timedelta(minutes=3)
    assert close_crashed([closed, open_], alive) == [closed, (open_[0], alive)]
    # alive time before the join (written a moment before it): never a negative interval
    assert close_crashed([open_], T0) == [(open_[0], open_[0])]
    # no alive time known: a zero-length interval, not an invented one
    assert close_crashed([open_], None) == [(open_[0], open_[0])]
    assert close_crashed([closed], alive) == [closed]
    assert close_crashed([], alive) == []


def test_recording_line_names_every_file_with_its_hash() -> None:
    assert recording_line([]) == ""
    line = recording_line([(Path("/r/M-1.mp4"), "a" * 64), (Path("/r/M-2.mp4"), "b" * 64)])
    assert line == "；录像 M-1.mp4 SHA-256 aaaaaaaaaaaa…、M-2.mp4 SHA-256 bbbbbbbbbbbb…"
