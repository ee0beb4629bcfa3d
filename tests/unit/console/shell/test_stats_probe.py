"""The console's soak probe, without a window: the stamp read from a small tile's pixels
(its border over the picture's edge columns) and the stats file's lines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from console.shell.stats import ConsoleStats, read_stats
from console.shell.stats_probe import big_containers, next_grab_ms, tile_stamp, type_counts
from tests.unit.streams.ingest.test_stamp import MS, bgra, luma_picture

BORDER = 49  # the tile's border grey


@pytest.mark.parametrize("width", [206, 207, 208, 250, 480])
def test_stamp_reads_from_a_tile_with_its_border(width: int) -> None:
    tile = bgra(luma_picture(MS, width, 248))
    tile[:, 0, :3] = BORDER
    tile[:, -1, :3] = BORDER
    tile[0, :, :3] = BORDER
    assert tile_stamp(tile) == MS


def test_a_tile_without_a_stamp_reads_none() -> None:
    tile = bgra(luma_picture(MS, 208, 248))
    tile[:20] = 0
    assert tile_stamp(tile) is None


def test_grabs_meet_the_frames_at_every_point_of_their_cycle() -> None:
    """A grab every 1,000 ms exactly meets 25 fps pictures 0 ms into their 40 ms cycle each
    time; the drawn waits spread the grabs over the whole cycle, 1 s apart on average."""
    rng = random.Random(16)
    waits = [next_grab_ms(1.0, rng) for _ in range(600)]
    assert min(waits) >= 750 and max(waits) <= 1250
    assert 980 <= sum(waits) / len(waits) <= 1020
    at = 0
    phases = [0] * 8  # 5 ms bins of the 40 ms frame cycle
    for w in waits:
        at += w
        phases[at % 40 // 5] += 1
    # a fixed 1,000 ms would put all 600 grabs in bin 0 (1000 * k % 40 == 0)
    assert min(phases) >= 600 // 8 // 2, phases


def test_stats_lines_skip_a_torn_or_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "stats.jsonl"
    assert read_stats(path) == []
    line = ConsoleStats(t=1.0, none_refs=5, tiles=16, tiles_with_picture=15, painted_frames=10,
                        latency_ms=[80.5], grabs=1, stamp_misses=0)  # fmt: skip
    path.write_text(line.model_dump_json() + '\n{"type": "x"}\n' + line.model_dump_json()[:20])
    assert read_stats(path) == [line]


def test_type_counts_name_the_most_numerous_types_first() -> None:
    class Leaf:
        pass

    objects: list[object] = [Leaf() for _ in range(5)] + [1.5, 2.5] + ["x"]
    counts = type_counts(objects, top=2)
    assert list(counts.items()) == [
        (f"{__name__}.test_type_counts_name_the_most_numerous_types_first.<locals>.Leaf", 5),
        ("builtins.float", 2),
    ]


def test_big_containers_are_found_with_their_holders_even_when_untracked() -> None:
    class Holder:
        def __init__(self) -> None:
            self.tombstones = {f"E{i}": None for i in range(3000)}  # untracked by gc
            self.small = [None] * 10

    h = Holder()
    found = big_containers([h], min_len=2000)
    assert found == [{"type": "dict", "len": 3000, "held_by": Holder.__qualname__}]
    assert big_containers([h], min_len=5000) == []
