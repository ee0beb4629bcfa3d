"""A phone's position is outside data: every refusal says what was wrong."""

from __future__ import annotations

import math

import pytest

from dispatch.positions.core import Extent, PositionRefused, check_fix, extent_of

COUNTY = Extent(112.50, 37.80, 112.60, 37.90)


def test_a_fix_inside_the_county_is_accepted() -> None:
    check_fix(112.55, 37.85, 12.0, COUNTY)
    check_fix(112.55, 37.85, 0.0)  # no site: only the ranges


@pytest.mark.parametrize(
    ("lon", "lat", "acc", "words"),
    [
        (math.nan, 37.85, 10.0, "有限的数字"),
        (112.55, math.inf, 10.0, "有限的数字"),
        (112.55, 37.85, -math.inf, "有限的数字"),
        (181.0, 37.85, 10.0, "经度 181"),
        (-180.5, 37.85, 10.0, "经度 -180.5"),
        (112.55, 90.01, 10.0, "纬度 90.01"),
        (112.55, 37.85, -1.0, "精度 -1 米"),
        (112.55, 37.85, 1e9, "精度 1e+09 米"),
        (0.0, 0.0, 10.0, "不在本县范围附近"),  # "null island": a phone's garbage
        (113.2, 37.85, 10.0, "不在本县范围附近"),
    ],
)
def test_garbage_is_refused_with_a_clear_reason(
    lon: float, lat: float, acc: float, words: str
) -> None:
    with pytest.raises(PositionRefused) as got:
        check_fix(lon, lat, acc, COUNTY)
    assert words in got.value.message_zh


def test_not_a_number_at_all_is_refused() -> None:
    with pytest.raises(PositionRefused):
        check_fix("112.5", 37.8, 10.0)  # type: ignore[arg-type]


def test_near_the_county_counts_and_the_extent_of_points() -> None:
    check_fix(112.95, 37.85, 10.0, COUNTY)  # within the 0.5° margin
    assert extent_of([]) is None
    assert extent_of([(1.0, 2.0), (3.0, -1.0)]) == Extent(1.0, -1.0, 3.0, 2.0)
