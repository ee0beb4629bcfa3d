"""Point in polygon, grid look-up, nearest cameras and the responsible chain."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch.domain.geo import (
    EARTH_RADIUS_M,
    GeoError,
    GridIndex,
    bbox,
    describe_place,
    grid_for_place,
    grid_for_point,
    grids_for_point,
    haversine_m,
    nearest_cameras,
    on_boundary,
    place_point,
    point_in_polygon,
    polygon_area_m2,
    polygon_centre,
    responsible_people,
)
from dispatch.domain.model import Place
from dispatch.domain.site import Site, demo_site_path, load_site, parse_site

SQUARE = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]
# a U opening upwards: the notch x in (1, 3), y in (1, 4) is outside
U_SHAPE = [
    (0.0, 0.0),
    (4.0, 0.0),
    (4.0, 4.0),
    (3.0, 4.0),
    (3.0, 1.0),
    (1.0, 1.0),
    (1.0, 4.0),
    (0.0, 4.0),
]
# a star-like concave ring with vertices at the same latitude as test points
ZIGZAG = [(0.0, 0.0), (2.0, 1.0), (4.0, 0.0), (4.0, 3.0), (2.0, 2.0), (0.0, 3.0)]


DEMO = load_site(demo_site_path())


@pytest.fixture(scope="module")
def demo() -> Site:
    return DEMO


# -- point in polygon -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((2.0, 2.0), True),
        ((0.5, 3.9), True),
        ((-0.1, 2.0), False),
        ((4.1, 2.0), False),
        ((2.0, -1e-6), False),
        ((2.0, 4.000001), False),
        ((100.0, 100.0), False),
    ],
)
def test_square_inside_and_outside(point: tuple[float, float], inside: bool) -> None:
    assert point_in_polygon(*point, SQUARE) is inside


@pytest.mark.parametrize(
    "point",
    [
        *[(2.0, 0.0), (4.0, 2.0), (2.0, 4.0), (0.0, 2.0)],  # edge midpoints
        *[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)],  # vertices
    ],
)
def test_square_boundary_counts_inside(point: tuple[float, float]) -> None:
    assert on_boundary(*point, SQUARE)
    assert point_in_polygon(*point, SQUARE)


def test_closed_and_open_rings_agree() -> None:
    closed = [*SQUARE, SQUARE[0]]
    for p in [(2.0, 2.0), (4.0, 4.0), (5.0, 2.0), (2.0, 0.0)]:
        assert point_in_polygon(*p, closed) == point_in_polygon(*p, SQUARE)


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((2.0, 2.0), False),  # in the notch
        ((2.0, 3.99), False),
        ((0.5, 2.0), True),  # left arm
        ((3.5, 2.0), True),  # right arm
        ((2.0, 0.5), True),  # bottom bar
        ((2.0, 1.0), True),  # notch floor (an edge)
        ((1.0, 2.5), True),  # notch wall (an edge)
        ((3.0, 4.0), True),  # vertex at the notch's mouth
        ((2.0, 4.0), False),  # across the mouth: not an edge
        ((-1.0, 1.0), False),  # ray along the line of the notch floor
    ],
)
def test_concave_u(point: tuple[float, float], inside: bool) -> None:
    assert point_in_polygon(*point, U_SHAPE) is inside


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((2.0, 1.5), True),
        ((2.0, 0.5), False),  # below the lower V
        ((2.0, 2.5), False),  # above the upper V
        ((1.0, 1.0), True),  # the ray through the vertex (2, 1) must count once
        ((3.0, 2.0), True),  # the ray through the vertex (2, 2)... from the right: no vertex
        ((-1.0, 1.0), False),  # left of everything, ray through vertex (2, 1)
        ((-1.0, 2.0), False),  # ray through vertex (2, 2)
        ((2.0, 1.0), True),  # the vertex itself
        ((1.0, 0.5), True),  # on the edge (0,0)-(2,1)
    ],
)
def test_concave_zigzag_and_rays_through_vertices(point: tuple[float, float], inside: bool) -> None:
    assert point_in_polygon(*point, ZIGZAG) is inside


def test_midpoint_of_a_slanted_edge_is_on_it_despite_rounding() -> None:
    ring = [(112.5401, 37.8703), (112.5477, 37.8791), (112.5399, 37.8788)]
    a, b = ring[0], ring[1]
    for t in (0.1, 1 / 3, 0.5, 0.77):
        p = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        assert on_boundary(*p, ring), t
        assert point_in_polygon(*p, ring), t
    # 1 µ° (about 10 cm) off the edge, outwards, is outside
    mid = ((a[0] + b[0]) / 2 + 1e-6, (a[1] + b[1]) / 2 - 1e-6)
    assert not point_in_polygon(*mid, ring)


@pytest.mark.parametrize(
    "ring",
    [[], [(1.0, 1.0)], [(0.0, 0.0), (2.0, 2.0)], [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]],
)
def test_degenerate_rings_have_no_inside(ring: list[tuple[float, float]]) -> None:
    assert not point_in_polygon(0.5, 0.2, ring)
    assert polygon_area_m2(ring) == 0.0
    if ring:
        assert point_in_polygon(*ring[0], ring)  # on it still counts


coord = st.floats(min_value=-50, max_value=50, allow_nan=False)


@given(x0=coord, y0=coord, w=st.floats(0.001, 20), h=st.floats(0.001, 20), px=coord, py=coord)
def test_rectangle_matches_bounds(
    x0: float, y0: float, w: float, h: float, px: float, py: float
) -> None:
    ring = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
    inside_bounds = x0 <= px <= x0 + w and y0 <= py <= y0 + h
    # away from the boundary the answer must be the plain bounds test
    margin = min(abs(px - x0), abs(px - x0 - w), abs(py - y0), abs(py - y0 - h))
    assume(margin > 1e-6)
    assert point_in_polygon(px, py, ring) is inside_bounds


@given(
    k=st.integers(0, len(U_SHAPE) - 1),
    t=st.floats(0, 1),
    rot=st.integers(0, len(U_SHAPE) - 1),
    reverse=st.booleans(),
)
def test_every_boundary_point_of_the_u_is_inside_in_any_ring_order(
    k: int, t: float, rot: int, reverse: bool
) -> None:
    a, b = U_SHAPE[k], U_SHAPE[(k + 1) % len(U_SHAPE)]
    p = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
    ring = U_SHAPE[rot:] + U_SHAPE[:rot]
    if reverse:
        ring = ring[::-1]
    assert point_in_polygon(*p, ring)


@given(px=st.floats(-1, 5), py=st.floats(-1, 5), rot=st.integers(0, 7), reverse=st.booleans())
def test_ring_order_does_not_matter(px: float, py: float, rot: int, reverse: bool) -> None:
    ring = U_SHAPE[rot:] + U_SHAPE[:rot]
    if reverse:
        ring = ring[::-1]
    assert point_in_polygon(px, py, ring) == point_in_polygon(px, py, U_SHAPE)


def test_area_of_a_demo_grid_is_about_half_a_square_kilometre(demo: Site) -> None:
    grid = next(g for g in demo.grids if g.id == "v01g1")
    # 0.005° of longitude at 37.874° N by 0.008° of latitude
    expected = (math.radians(0.005) * EARTH_RADIUS_M * math.cos(math.radians(37.874))) * (
        math.radians(0.008) * EARTH_RADIUS_M
    )
    assert polygon_area_m2(grid.polygon) == pytest.approx(expected, rel=1e-3)
    assert 380_000 < expected < 400_000


def test_polygon_centre() -> None:
    assert polygon_centre([*SQUARE, SQUARE[0]]) == (2.0, 2.0)
    assert polygon_centre([]) is None


# -- grids ------------------------------------------------------------------------------


def test_demo_point_finds_its_grid(demo: Site) -> None:
    grid = grid_for_point(demo, 112.5420, 37.8730)
    assert grid is not None and grid.id == "v01g1"
    grid = grid_for_point(demo, 112.5995, 37.9250)
    assert grid is not None and grid.id == "v08g2"


def test_shared_edge_goes_to_the_smallest_id_of_equal_grids(demo: Site) -> None:
    hits = grids_for_point(demo, 112.5450, 37.8740)
    assert [g.id for g in hits] == ["v01g1", "v01g2"]
    grid = grid_for_point(demo, 112.5450, 37.8740)
    assert grid is not None and grid.id == "v01g1"


@given(lon=st.floats(112.495, 112.605), lat=st.floats(37.865, 37.930))
def test_the_index_agrees_with_testing_every_polygon(lon: float, lat: float) -> None:
    brute = [g.id for g in DEMO.grids if point_in_polygon(lon, lat, g.polygon)]
    found = [g.id for g in GridIndex(DEMO.grids).grids_for_point(lon, lat)]
    assert sorted(found) == sorted(brute)
    assert len(found) <= 2  # the demo's grids only touch along shared edges


def test_bbox() -> None:
    assert bbox(U_SHAPE) == (0.0, 0.0, 4.0, 4.0)
    assert bbox([]) is None


def test_outside_every_grid_is_none(demo: Site) -> None:
    assert grid_for_point(demo, 112.5510, 37.8740) is None  # the gap between v01 and v02
    assert grid_for_point(demo, 0.0, 0.0) is None


def site_with(**extra: Any) -> Site:
    data: dict[str, Any] = {
        "name": "测试县",
        "townships": [{"id": "t1", "name": "城关镇"}, {"id": "t2", "name": "城关"}],
        "villages": [
            {"id": "v1", "name": "东街社区", "township": "t1"},
            {"id": "v2", "name": "东街", "township": "t2"},
        ],
    }
    data.update(extra)
    return parse_site(data)


def test_smallest_overlapping_grid_wins() -> None:
    big = [(0.0, 0.0), (0.1, 0.0), (0.1, 0.1), (0.0, 0.1)]
    small = [(0.04, 0.04), (0.06, 0.04), (0.06, 0.06), (0.04, 0.06)]
    site = site_with(
        grids=[
            {"id": "a_big", "name": "大", "village": "v1", "polygon": big},
            {"id": "z_small", "name": "小", "village": "v1", "polygon": small},
            {"id": "empty", "name": "无边界", "village": "v1"},
        ]
    )
    inner = grid_for_point(site, 0.05, 0.05)
    assert inner is not None and inner.id == "z_small"
    edge = grid_for_point(site, 0.04, 0.05)  # on the small one's edge
    assert edge is not None and edge.id == "z_small"
    outer = grid_for_point(site, 0.01, 0.01)
    assert outer is not None and outer.id == "a_big"
    assert grid_for_point(site, 0.2, 0.2) is None


@pytest.mark.parametrize(
    ("lon", "lat", "word"),
    [
        (math.nan, 30.0, "finite"),
        (120.0, math.inf, "finite"),
        (181.0, 30.0, "longitude"),
        (120.0, -90.5, "latitude"),
    ],
)
def test_bad_coordinates_are_refused(demo: Site, lon: float, lat: float, word: str) -> None:
    with pytest.raises(GeoError, match=word):
        grid_for_point(demo, lon, lat)
    with pytest.raises(GeoError, match=word):
        nearest_cameras(demo, lon, lat)


def test_grid_for_place_prefers_a_known_named_grid(demo: Site) -> None:
    in_v01g1 = {"lon": 112.5420, "lat": 37.8730}
    named = grid_for_place(demo, Place(grid="v02g2", **in_v01g1))
    assert named is not None and named.id == "v02g2"
    unknown = grid_for_place(demo, Place(grid="nope", **in_v01g1))
    assert unknown is not None and unknown.id == "v01g1"
    assert grid_for_place(demo, Place(address="东街1号")) is None


def test_place_point_and_description(demo: Site) -> None:
    assert place_point(demo, Place(lon=112.1, lat=37.2)) == (112.1, 37.2)
    centre = place_point(demo, Place(grid="v01g1"))
    assert centre == pytest.approx((112.5425, 37.8740))
    assert place_point(demo, Place()) is None
    assert describe_place(demo, Place(address=" 东街12号 ", grid="v01g1")) == "东街12号"
    assert describe_place(demo, Place(grid="v01g1")) == "东街社区东街社区第1网格"
    assert describe_place(demo, Place(lon=112.5, lat=37.0)) == "东经112.50000° 北纬37.00000°"
    assert describe_place(demo, Place(lon=-70.25, lat=-33.5)) == "西经70.25000° 南纬33.50000°"
    assert describe_place(demo, Place()) == "地点待核实"


# -- cameras ----------------------------------------------------------------------------


def test_haversine_known_distances() -> None:
    assert haversine_m(0, 0, 0, 1) == pytest.approx(EARTH_RADIUS_M * math.pi / 180)
    assert haversine_m(0, 0, 180, 0) == pytest.approx(EARTH_RADIUS_M * math.pi)
    assert haversine_m(10, 10, 10, 10) == 0.0
    # Beijing Tiananmen to Shanghai People's Square: about 1,067 km
    assert haversine_m(116.3975, 39.9087, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.01)


def test_nearest_cameras_of_the_demo(demo: Site) -> None:
    near = nearest_cameras(demo, 112.5420, 37.8730, n=3)
    assert near[0][0].id == "cam1" and near[0][1] == pytest.approx(0.0, abs=1e-6)
    dists = [d for _, d in near]
    assert dists == sorted(dists) and len(near) == 3
    brute = sorted((haversine_m(112.5420, 37.8730, c.lon, c.lat), c.id) for c in demo.cameras)[:3]
    assert [c.id for c, _ in near] == [cid for _, cid in brute]


def test_nearest_cameras_limits(demo: Site) -> None:
    assert nearest_cameras(demo, 112.5420, 37.8730, n=0) == []
    everything = nearest_cameras(demo, 112.5420, 37.8730, n=100)
    assert len(everything) == len(demo.cameras)
    within = nearest_cameras(demo, 112.5420, 37.8730, n=100, max_m=1500)
    assert within and all(d <= 1500 for _, d in within)
    assert len(within) < len(everything)
    assert nearest_cameras(demo, 0.0, 0.0, max_m=1000) == []
    with pytest.raises(GeoError, match="negative"):
        nearest_cameras(demo, 112.5, 37.8, n=-1)
    with pytest.raises(GeoError, match="max_m"):
        nearest_cameras(demo, 112.5, 37.8, max_m=-5)
    with pytest.raises(GeoError, match="max_m"):
        nearest_cameras(demo, 112.5, 37.8, max_m=math.nan)


def _cam(cid: str, lon: float, lat: float) -> dict[str, Any]:
    stream = {"url": f"rtsp://127.0.0.1/{cid}", "width": 704, "height": 576}
    return {"id": cid, "name": cid, "township": "t1", "lon": lon, "lat": lat,
            "main": stream, "sub": stream}  # fmt: skip


def test_equally_distant_cameras_are_ordered_by_id() -> None:
    # on the equator, 0.001° east, west and north are the same great-circle distance
    site = site_with(
        cameras=[
            _cam("c3", 0.001, 0.0),
            _cam("c0", 0.002, 0.0),
            _cam("c1", -0.001, 0.0),
            _cam("c2", 0.0, 0.001),
        ]
    )
    near = nearest_cameras(site, 0.0, 0.0, n=3)
    assert [c.id for c, _ in near] == ["c1", "c2", "c3"]
    assert nearest_cameras(site, 0.0, 0.0, n=4)[-1][0].id == "c0"
    assert nearest_cameras(site_with(), 0.0, 0.0) == []


def test_distances_equal_but_for_rounding_still_order_by_id() -> None:
    # both cameras lie 0.001105° of longitude from the point, east and west; in floating
    # point the east one comes out about a nanometre nearer
    site = site_with(
        cameras=[_cam("b_east", 112.543205, 37.8733), _cam("a_west", 112.540995, 37.8733)]
    )
    east, west = (haversine_m(112.5421, 37.8733, c.lon, c.lat) for c in site.cameras)
    assert east != west and east == pytest.approx(west, abs=1e-6)
    assert [c.id for c, _ in nearest_cameras(site, 112.5421, 37.8733)] == ["a_west", "b_east"]


# -- people -----------------------------------------------------------------------------


def test_demo_chain_finds_the_township_centre_by_name(demo: Site) -> None:
    chain = responsible_people(demo, "v01g1")
    assert chain.leader is not None and chain.leader.id == "p00"
    assert chain.deputy is not None and chain.deputy.id == "p01"
    assert chain.township_id == "t01" and chain.village_id == "v01"
    assert chain.township_supervisor is not None and chain.township_supervisor.id == "st01"
    assert chain.village_supervisors == ()
    assert chain.county is None
    assert [p.id for p in chain.people()] == ["p00", "p01", "st01"]
    assert chain.suggested() is not None and chain.suggested().id == "p00"  # type: ignore[union-attr]
    other = responsible_people(demo, "v04g1")
    assert other.township_supervisor is not None and other.township_supervisor.id == "st02"


PEOPLE = [
    {"id": "L", "name": "网格长甲", "role": "grid_leader"},
    {"id": "D", "name": "副网格长乙", "role": "deputy"},
    {"id": "VS1", "name": "东街社区书记", "role": "village_supervisor"},
    {"id": "VS2", "name": "东街社区主任", "role": "village_supervisor"},
    {"id": "VSX", "name": "西街社区书记", "role": "village_supervisor"},
    {"id": "TS1", "name": "城关综治中心", "role": "township_supervisor"},
    {"id": "TS2", "name": "城关镇综治中心", "role": "township_supervisor"},
    {"id": "C", "name": "县综治中心", "role": "county"},
    {"id": "C2", "name": "县委政法委", "role": "county"},
]


def test_full_chain_by_names_and_by_explicit_areas() -> None:
    site = site_with(
        people=PEOPLE,
        grids=[{"id": "g1", "name": "第1网格", "village": "v1", "leader": "L", "deputy": "D"}],
    )
    chain = responsible_people(site, "g1")
    assert [p.id for p in chain.village_supervisors] == ["VS1", "VS2"]
    # "城关综治中心" is not a centre of 城关镇 by name; "城关镇综治中心" is
    assert chain.township_supervisor is not None and chain.township_supervisor.id == "TS2"
    assert chain.county is not None and chain.county.id == "C"  # the first one
    # an explicit mapping overrides the names in both directions
    mapped = responsible_people(site, "g1", areas={"TS1": "t1", "TS2": "t2", "VS2": "v2"})
    assert mapped.township_supervisor is not None and mapped.township_supervisor.id == "TS1"
    assert [p.id for p in mapped.village_supervisors] == ["VS1"]


def test_chain_with_missing_people() -> None:
    site = site_with(
        people=[{"id": "D", "name": "副网格长", "role": "deputy"}],
        grids=[
            {"id": "g0", "name": "空网格", "village": "v1"},
            {"id": "g1", "name": "只有副网格长", "village": "v1", "deputy": "D"},
        ],
    )
    empty = responsible_people(site, "g0")
    assert empty.people() == [] and empty.suggested() is None
    assert empty.leader is None and empty.township_supervisor is None and empty.county is None
    only_deputy = responsible_people(site, "g1")
    assert only_deputy.suggested() is not None
    assert only_deputy.suggested().id == "D"  # type: ignore[union-attr]
    with pytest.raises(KeyError, match="unknown grid"):
        responsible_people(site, "nope")
