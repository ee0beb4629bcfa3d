"""WGS-84 lon/lat ↔ Web Mercator (EPSG:3857) metres, and the XYZ tile grid. Pure.

World coordinates are metres with y north-up, as in EPSG:3857. Views that draw with y
down (Qt's scene) negate y themselves. This is the one projection of the map: the
geometry layers and the base-tiles layer both use it, so they line up.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6378137.0
"""The WGS-84 semi-major axis, the sphere radius of Web Mercator."""
HALF_WORLD_M = math.pi * EARTH_RADIUS_M
"""Half the width of the projected world (20 037 508.34 m)."""
MAX_LAT = 85.0511287798066
"""The latitude where the square Web Mercator world ends."""


def lonlat_to_world(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in degrees → (x, y) Web Mercator metres; latitude clamped to ±MAX_LAT."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = EARTH_RADIUS_M * math.radians(lon)
    y = EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def world_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """(x, y) Web Mercator metres → (lon, lat) degrees; the inverse of `lonlat_to_world`."""
    lon = math.degrees(x / EARTH_RADIUS_M)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS_M)) - math.pi / 2)
    return lon, lat


def tile_size_m(z: int) -> float:
    """The width of one XYZ tile at zoom `z`, in world metres."""
    return 2 * HALF_WORLD_M / (1 << z)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in world metres of XYZ tile (z, x, y); y=0 is the north row."""
    size = tile_size_m(z)
    minx = -HALF_WORLD_M + x * size
    maxy = HALF_WORLD_M - y * size
    return minx, maxy - size, minx + size, maxy


def tile_at(z: int, wx: float, wy: float) -> tuple[int, int]:
    """The XYZ (x, y) of the tile at zoom `z` holding world point (wx, wy), clamped."""
    n = 1 << z
    size = tile_size_m(z)
    tx = math.floor((wx + HALF_WORLD_M) / size)
    ty = math.floor((HALF_WORLD_M - wy) / size)
    return max(0, min(n - 1, tx)), max(0, min(n - 1, ty))


def ground_resolution(z: float, tile_px: int = 256) -> float:
    """World metres per pixel at zoom `z` for tiles of `tile_px` pixels."""
    return 2 * HALF_WORLD_M / (tile_px * math.pow(2.0, z))


def scale_factor(lat: float) -> float:
    """World metres per ground metre at `lat` (Mercator stretches by 1/cos(lat))."""
    return 1.0 / math.cos(math.radians(max(-MAX_LAT, min(MAX_LAT, lat))))
