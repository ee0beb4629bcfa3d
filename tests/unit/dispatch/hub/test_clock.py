"""The hub's one wall clock (`dispatch.hub.clock`): the test offset file, read again at
most every REREAD_S on the monotonic clock; jumps noticed beside the monotonic clock; and
no other wall-time reading anywhere in the hub's code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dispatch.hub.clock import (
    OFFSET_ENV,
    REREAD_S,
    ClockWatch,
    WallClock,
    parse_offset,
    write_offset,
)
from tests.kit.paths import ROOT

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


class Mono:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_offsets_parse_and_bad_text_is_no_jump() -> None:
    assert parse_offset("7200\n") == 7200.0
    assert parse_offset("-7200.5") == -7200.5
    for bad in ("", "two hours", "nan", "inf", "1e300"):
        assert parse_offset(bad) == 0.0, bad


def test_the_offset_file_moves_the_clock_read_again_at_most_every_reread_s(
    tmp_path: Path,
) -> None:
    path = tmp_path / "offset"
    mono = Mono()
    clock = WallClock(path, system=lambda: T0, monotonic=mono)
    assert clock.utc() == T0  # no file yet: no offset
    write_offset(path, 7200)
    mono.t += REREAD_S
    assert clock.utc() == T0 + timedelta(hours=2)
    assert clock().utcoffset() == timedelta(hours=8) and clock() == T0 + timedelta(hours=2)
    write_offset(path, -3600)
    assert clock.utc() == T0 + timedelta(hours=2)  # not read again yet
    mono.t += REREAD_S
    assert clock.utc() == T0 - timedelta(hours=1)
    path.unlink()  # a file being replaced keeps the last offset
    mono.t += REREAD_S
    assert clock.utc() == T0 - timedelta(hours=1)


def test_without_the_environment_variable_there_is_no_offset(tmp_path: Path) -> None:
    assert WallClock.from_environ({}).offset_file is None
    assert WallClock.from_environ({OFFSET_ENV: str(tmp_path / "x")}).offset_file == tmp_path / "x"


def test_the_watch_sees_jumps_either_way_and_not_a_slow_loop() -> None:
    mono = Mono()
    wall = [T0]
    watch = ClockWatch(lambda: wall[0], mono, threshold_s=5)
    assert watch.look() == 0.0
    mono.t += 30  # a loaded machine: both clocks moved 30 s
    wall[0] += timedelta(seconds=30)
    assert watch.look() == 0.0
    mono.t += 0.5
    wall[0] += timedelta(hours=2, seconds=0.5)
    assert watch.look() == 7200.0
    mono.t += 0.5
    wall[0] -= timedelta(hours=2, seconds=-0.5)
    assert watch.look() == -7200.0
    assert watch.look() == 0.0


WALL_READS = re.compile(r"datetime\.now\(|\bdt\.datetime\.now\(|time\.time\(|date\.today\(")


def test_the_hub_reads_wall_time_only_through_its_clock() -> None:
    """Everything in dispatch/ but the console's client goes through dispatch.hub.clock."""
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in sorted((ROOT / "dispatch").rglob("*.py"))
        if p.name != "clock.py" and "client" not in p.relative_to(ROOT / "dispatch").parts
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if WALL_READS.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, "wall time read beside dispatch.hub.clock:\n" + "\n".join(found)
