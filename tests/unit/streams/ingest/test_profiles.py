"""choose_profile: the smallest stream at least as large as the tile, else the largest."""

from __future__ import annotations

import pytest

from streams.ingest.decode import skip_deblocking
from streams.ingest.profiles import choose_profile
from streams.ingest.types import StreamProfile

MAIN = StreamProfile("main", "rtsp://h/cam1/main", 1280, 720)
SUB = StreamProfile("sub", "rtsp://h/cam1/sub", 704, 576)
PROFILES = [MAIN, SUB]


@pytest.mark.parametrize(
    ("tile", "expected"),
    [
        ((480, 270), SUB),  # 16-tile wall
        ((704, 576), SUB),  # exactly the sub-stream
        ((705, 400), MAIN),  # wider than the sub-stream
        ((640, 600), MAIN),  # taller than the sub-stream
        ((1280, 720), MAIN),
        ((1920, 1080), MAIN),  # maximised on a big screen: nothing is enough, take the largest
        ((1, 1), SUB),
    ],
)
def test_choice_by_tile_size(tile: tuple[int, int], expected: StreamProfile) -> None:
    assert choose_profile(PROFILES, *tile) == expected
    assert choose_profile(list(reversed(PROFILES)), *tile) == expected  # order does not matter


def test_single_profile_is_always_chosen() -> None:
    assert choose_profile([MAIN], 10, 10) == MAIN
    assert choose_profile([MAIN], 4000, 3000) == MAIN


def test_three_profiles_pick_the_smallest_sufficient() -> None:
    third = StreamProfile("third", "rtsp://h/cam1/third", 352, 288)
    assert choose_profile([MAIN, SUB, third], 300, 200) == third
    assert choose_profile([MAIN, SUB, third], 400, 200) == SUB


def test_no_profiles_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no stream profiles"):
        choose_profile([], 480, 270)


@pytest.mark.parametrize("tile", [(0, 270), (480, 0), (-1, 5)])
def test_bad_tile_size_is_a_clear_error(tile: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="tile size must be positive"):
        choose_profile(PROFILES, *tile)


@pytest.mark.parametrize(
    ("stream", "tile", "skip"),
    [
        ((640, 360), (384, 216), True),  # 25 tiles on third streams
        ((640, 360), (320, 180), True),  # 36 tiles
        ((640, 360), (480, 270), False),  # 16 tiles: 75 %, edges may show
        ((640, 360), (640, 360), False),
        ((1280, 720), (1920, 1080), False),  # maximised
        ((704, 576), (384, 400), False),  # small in width, not in height
    ],
)
def test_deblocking_is_skipped_only_well_below_the_streams_size(
    stream: tuple[int, int], tile: tuple[int, int], skip: bool
) -> None:
    assert skip_deblocking(stream, tile) is skip
