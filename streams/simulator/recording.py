"""The simulator's recording on disk: segments of H.264 access units and an index of times.

Pure standard library: the server (system Python, no numpy) loads this file by path, and
the venv side reads the same format (tests, the bench).

Layout under the recording folder::

    <camera id>/<start ms>.h264   access units (Annex-B byte stream) of one segment
    <camera id>/<start ms>.idx    one record per access unit: ms, offset, size, key

A segment holds `SEGMENT_S` seconds (a new one starts at the first key frame after
that), so a 2-hour recording is 120 files a camera and a jump needs only the index of
one segment. The index record is `INDEX` (little-endian: Unix ms of the picture, byte
offset in the segment, size, 1 for a key frame). Every key frame starts with its
SPS/PPS, so playback can start at any key frame of any segment.
"""

from __future__ import annotations

import bisect
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

SEGMENT_S = 60
RETAIN_S = 2 * 3600 + 10 * 60  # at least the last 2 hours, plus the segment being written
INDEX = struct.Struct("<QQIB")
GAP_MS = 3000  # units further apart than this: no recording between them
RECORD_GOP = 25  # a key frame every second: x8 playback then shows 8 pictures a second
_SEGMENT_RE = re.compile(r"^(\d{13})\.idx$")
_CLOCK_RE = re.compile(r"^(\d{8})T(\d{6})(?:\.(\d{1,3}))?Z$")


class RecordingError(ValueError):
    """A request the recording cannot answer; the message says what and why."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One access unit of the recording."""

    ms: int
    offset: int
    size: int
    key: bool


def parse_clock(text: str) -> int:
    """Unix ms of an ISO 8601 basic UTC time (`20261202T140500Z`, optional `.mmm`);
    the other way is `streams.playback.nvr.clock`."""
    m = _CLOCK_RE.match(text.strip())
    if m is None:
        raise RecordingError(f"not a time of the form YYYYMMDDTHHMMSSZ: {text!r}")
    try:
        when = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        raise RecordingError(f"not a valid date and time: {text!r}") from None
    frac = int((m.group(3) or "0").ljust(3, "0"))
    return int(when.replace(tzinfo=UTC).timestamp()) * 1000 + frac


def read_index(path: Path) -> list[Unit]:
    """The records of one `.idx` file (a torn last record is left out)."""
    data = path.read_bytes()
    usable = len(data) - len(data) % INDEX.size
    return [
        Unit(ms, off, size, bool(key)) for ms, off, size, key in INDEX.iter_unpack(data[:usable])
    ]


def segments(folder: Path) -> list[int]:
    """Start ms of the camera's segments, oldest first."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for n in names if (m := _SEGMENT_RE.match(n)))


def spans(folder: Path, gap_ms: int = GAP_MS) -> list[tuple[int, int]]:
    """Where recording exists: (first ms, last ms) runs, merged across segments that
    follow each other closer than `gap_ms`."""
    out: list[tuple[int, int]] = []
    for start in segments(folder):
        units = read_index(folder / f"{start}.idx")
        if not units:
            continue
        first, last = units[0].ms, units[-1].ms
        if out and first - out[-1][1] <= gap_ms:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def units_from(
    folder: Path, start_ms: int, end_ms: int | None, keys_only: bool = False
) -> Iterator[tuple[Path, Unit]]:
    """(segment path, Unit) from the key frame at or before `start_ms` (or the first
    after it, when recording starts later) to `end_ms`, across segments."""
    starts = segments(folder)
    if not starts:
        raise RecordingError("no recording")
    i = max(0, bisect.bisect_right(starts, start_ms) - 1)
    first = True
    for seg in starts[i:]:
        if end_ms is not None and seg > end_ms:
            return
        units = read_index(folder / f"{seg}.idx")
        data_path = folder / f"{seg}.h264"
        if first:
            units = _from_key(units, start_ms)
            first = False
        for u in units:
            if end_ms is not None and u.ms > end_ms:
                return
            if keys_only and not u.key:
                continue
            yield data_path, u


def _from_key(units: list[Unit], start_ms: int) -> list[Unit]:
    """Units from the last key frame at or before `start_ms` (else from the first key);
    none when the segment ends before `start_ms` (a gap: play from the next one)."""
    if units and units[-1].ms + GAP_MS < start_ms:
        return []
    begin = None
    for n, u in enumerate(units):
        if u.ms > start_ms:
            break
        if u.key:
            begin = n
    if begin is None:
        begin = next((n for n, u in enumerate(units) if u.key), len(units))
    return units[begin:]


class SegmentWriter:
    """Appends access units to one camera's segments; drops segments past retention.

    `add(ms, data, key)` is called from one thread (the recorder's streaming thread).
    """

    def __init__(self, folder: Path, retain_s: int = RETAIN_S, segment_s: int = SEGMENT_S):
        self.folder = folder
        self.retain_ms = retain_s * 1000
        self.segment_ms = segment_s * 1000
        self._start: int | None = None
        self._data: BinaryIO | None = None
        self._index: BinaryIO | None = None
        self._offset = 0
        self.units = 0

    def add(self, ms: int, data: bytes, key: bool) -> None:
        if key and (self._start is None or ms - self._start >= self.segment_ms):
            self._open(ms)
        if self._data is None or self._index is None:
            return  # nothing before the first key frame
        self._data.write(data)
        self._data.flush()
        self._index.write(INDEX.pack(ms, self._offset, len(data), 1 if key else 0))
        self._index.flush()
        self._offset += len(data)
        self.units += 1

    def _open(self, ms: int) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._start = ms
        self._data = open(self.folder / f"{ms}.h264", "wb")  # noqa: SIM115
        self._index = open(self.folder / f"{ms}.idx", "wb")  # noqa: SIM115
        self._offset = 0
        self._expire(ms)

    def _expire(self, now_ms: int) -> None:
        for start in segments(self.folder):
            if start < now_ms - self.retain_ms:
                for suffix in (".idx", ".h264"):
                    (self.folder / f"{start}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        for f in (self._data, self._index):
            if f is not None:
                f.close()
        self._data = self._index = None
