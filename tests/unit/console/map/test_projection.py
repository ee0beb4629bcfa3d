import math

import pytest

from console.map.projection import (
    HALF_WORLD_M,
    ground_resolution,
    lonlat_to_world,
    scale_factor,
    tile_at,
    tile_bounds,
    world_to_lonlat,
)


def test_origin_and_known_point() -> None:
    assert lonlat_to_world(0.0, 0.0) == pytest.approx((0.0, 0.0), abs=1e-6)
    # EPSG:3857 of (lon 10, lat 50), the value pyproj/PostGIS give
    x, y = lonlat_to_world(10.0, 50.0)
    assert x == pytest.approx(1113194.9079327357, abs=0.01)
    assert y == pytest.approx(6446275.841017158, abs=0.01)


def test_edges_of_the_world() -> None:
    x, y = lonlat_to_world(180.0, 85.0511287798066)
    assert x == pytest.approx(HALF_WORLD_M)
    assert y == pytest.approx(HALF_WORLD_M, rel=1e-9)
    assert lonlat_to_world(0.0, 90.0)[1] == pytest.approx(HALF_WORLD_M, rel=1e-9)  # clamped


@pytest.mark.parametrize("lon,lat", [(0, 0), (112.5, 35.2), (-70.1, -33.4), (179.9, 84.9)])
def test_round_trip(lon: float, lat: float) -> None:
    back = world_to_lonlat(*lonlat_to_world(lon, lat))
    assert back == pytest.approx((lon, lat), abs=1e-9)


def test_north_is_up() -> None:
    assert lonlat_to_world(0, 10)[1] > lonlat_to_world(0, 9)[1]


def test_tile_bounds_and_tile_at_agree() -> None:
    assert tile_bounds(0, 0, 0) == pytest.approx(
        (-HALF_WORLD_M, -HALF_WORLD_M, HALF_WORLD_M, HALF_WORLD_M)
    )
    minx, miny, maxx, maxy = tile_bounds(1, 1, 0)  # north-east quarter
    assert (minx, miny) == pytest.approx((0.0, 0.0), abs=1e-6)
    assert (maxx, maxy) == pytest.approx((HALF_WORLD_M, HALF_WORLD_M))
    wx, wy = lonlat_to_world(116.391, 39.907)
    tx, ty = tile_at(12, wx, wy)
    assert (tx, ty) == (3372, 1552)  # the slippy-map tile holding Beijing at z12
    bx0, by0, bx1, by1 = tile_bounds(12, tx, ty)
    assert bx0 <= wx < bx1 and by0 < wy <= by1


def test_resolution_and_scale() -> None:
    assert ground_resolution(0) == pytest.approx(156543.034, rel=1e-6)
    assert scale_factor(60.0) == pytest.approx(2.0)
    assert math.isfinite(scale_factor(90.0))
