"""Pure checks of a position a phone sent: it is outside data, so every number is
checked before anything is stored, and a refusal says what was wrong (in Chinese, for
the phone page).

`check_fix` refuses what is not a finite number, a longitude outside -180…180, a
latitude outside -90…90, an accuracy that is negative or larger than `MAX_ACCURACY_M`,
and (with the site's extent) a point farther than `NEAR_DEG` degrees outside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MAX_ACCURACY_M = 50_000.0
"""A fix less precise than this (metres) says nothing about where the person is."""
NEAR_DEG = 0.5
"""How far (degrees, ~50 km) outside the site's extent a fix may be and still count."""


class PositionRefused(ValueError):
    """A fix that cannot be stored; `message_zh` is shown on the phone."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


@dataclass(frozen=True, slots=True)
class Extent:
    """The site's extent in degrees (WGS-84)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def near(self, lon: float, lat: float, margin: float = NEAR_DEG) -> bool:
        return (
            self.min_lon - margin <= lon <= self.max_lon + margin
            and self.min_lat - margin <= lat <= self.max_lat + margin
        )


def extent_of(points: Iterable[tuple[float, float]]) -> Extent | None:
    """The extent of (lon, lat) points; None without any."""
    pts = list(points)
    if not pts:
        return None
    lons, lats = [p[0] for p in pts], [p[1] for p in pts]
    return Extent(min(lons), min(lats), max(lons), max(lats))


def check_fix(lon: float, lat: float, accuracy_m: float, extent: Extent | None = None) -> None:
    """Raise `PositionRefused` unless the fix is a usable position (see the module)."""
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (lon, lat, accuracy_m)):
        raise PositionRefused("位置无效：经纬度和精度必须是有限的数字")
    if not -180.0 <= lon <= 180.0:
        raise PositionRefused(f"位置无效：经度 {lon:g} 不在 -180 到 180 之间")
    if not -90.0 <= lat <= 90.0:
        raise PositionRefused(f"位置无效：纬度 {lat:g} 不在 -90 到 90 之间")
    if not 0.0 <= accuracy_m <= MAX_ACCURACY_M:
        raise PositionRefused(
            f"位置无效：精度 {accuracy_m:g} 米不在 0 到 {MAX_ACCURACY_M:g} 米之间"
        )
    if extent is not None and not extent.near(lon, lat):
        raise PositionRefused("位置不在本县范围附近，未保存（请检查手机定位）")
