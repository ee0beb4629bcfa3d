"""The wall bench's reading of the screen: ages, unreadable stamps, frozen tiles (pure part)."""

from __future__ import annotations

import numpy as np

from streams.ingest.stamp import STRIP_FRACTION, stamp_cells
from tests.bench.wall_grab import GrabLog, tile_views


def stamped(ms: int, w: int = 320, h: int = 180) -> np.ndarray:
    """A BGRA tile with the stamp `ms` in its top strip."""
    img = np.full((h, w, 4), 90, np.uint8)
    cells = stamp_cells(ms)
    rows = h // STRIP_FRACTION
    for i, white in enumerate(cells):
        x0, x1 = i * w // len(cells), (i + 1) * w // len(cells)
        img[:rows, x0:x1, :3] = 255 if white else 0
    return img


def test_tiles_are_cut_from_the_screen_where_they_are() -> None:
    screen = np.zeros((360, 640, 4), np.uint8)
    screen[0:180, 320:640] = stamped(1_000)
    screen[180:360, 0:320] = stamped(2_000)
    views = tile_views(screen, [(320, 0, 320, 180), (0, 180, 320, 180), (0, 0, 320, 180)])
    from streams.ingest.stamp import decode_stamp

    assert [decode_stamp(v) for v in views] == [1_000, 2_000, None]


def test_ages_misses_and_a_frozen_tile() -> None:
    log = GrabLog(3)
    # tile 0 moves, tile 1 shows the same picture every time, tile 2 is unreadable once
    log.add(10_000.0, [9_900, 5_000, 9_950])
    log.add(10_250.0, [10_200, 5_000, None])
    log.add(10_500.0, [10_450, 5_000, 10_480])
    out = log.summarise()
    assert out["reads"] == 3
    assert out["samples"] == 8 and out["misses"] == 1
    assert out["tiles_frozen"] == 1  # the screen showed tile 1 stuck, whatever was painted
    assert out["changed_share_min"] == 0.0
    assert out["latency_ms_p95"] == 5_500.0  # the frozen tile's picture is old
    assert out["latency_ms_p50"] == 100.0
