"""The recording's format: clock times, segments, the index, retention, spans (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.playback.nvr import clock
from streams.simulator.recording import (
    RecordingError,
    SegmentWriter,
    parse_clock,
    segments,
    spans,
    units_from,
)

T0 = parse_clock("20261202T140000Z")


def test_clock_round_trip_and_bad_input() -> None:
    assert T0 == 1796220000000
    assert parse_clock("20261202T140000.250Z") == T0 + 250
    assert clock(T0 + 250) == "20261202T140000.250Z"
    assert parse_clock(clock(T0)) == T0
    for bad in ("2026-12-02T14:00:00Z", "20261302T140000Z", "20261202T140000", ""):
        with pytest.raises(RecordingError):
            parse_clock(bad)


def _record(folder: Path, start: int, seconds: int, fps: int = 5, gop: int = 5) -> SegmentWriter:
    w = SegmentWriter(folder, retain_s=600, segment_s=60)
    for n in range(seconds * fps):
        w.add(start + n * 1000 // fps, bytes([n % 256]) * 10, key=n % gop == 0)
    return w


def test_segments_index_and_units_from(tmp_path: Path) -> None:
    w = _record(tmp_path, T0, 150)
    w.close()
    assert segments(tmp_path) == [T0, T0 + 60_000, T0 + 120_000]
    assert spans(tmp_path) == [(T0, T0 + 150_000 - 200)]
    got = list(units_from(tmp_path, T0 + 61_500, T0 + 63_000))
    # from the key frame at or before the start, to the end, within one segment
    assert got[0][1].ms == T0 + 61_000 and got[0][1].key
    assert got[-1][1].ms == T0 + 63_000
    assert all(p.name == f"{T0 + 60_000}.h264" for p, _u in got)
    keys = list(units_from(tmp_path, T0 + 59_000, T0 + 62_000, keys_only=True))
    assert [u.ms for _p, u in keys] == [T0 + 59_000, T0 + 60_000, T0 + 61_000, T0 + 62_000]


def test_gaps_make_separate_spans(tmp_path: Path) -> None:
    _record(tmp_path, T0, 30).close()
    _record(tmp_path, T0 + 300_000, 30).close()
    assert spans(tmp_path) == [(T0, T0 + 29_800), (T0 + 300_000, T0 + 329_800)]
    # a start inside the gap plays from the next recording
    first = next(iter(units_from(tmp_path, T0 + 100_000, None)))
    assert first[1].ms == T0 + 300_000


def test_retention_drops_old_segments(tmp_path: Path) -> None:
    w = SegmentWriter(tmp_path, retain_s=120, segment_s=60)
    for n in range(0, 400):
        w.add(T0 + n * 1000, b"x", key=True)
    w.close()
    starts = segments(tmp_path)
    assert starts[0] >= T0 + 399_000 - 120_000 - 60_000
    assert len(list(tmp_path.iterdir())) == 2 * len(starts)


def test_no_recording_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no recording"):
        list(units_from(tmp_path / "nothing", T0, None))
