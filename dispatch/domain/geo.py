"""Where an event is: its grid (point in polygon), the nearest cameras, the people responsible.

Pure: no I/O, no clock reads. Coordinates are WGS-84 degrees, always in (lon, lat) order
as in GeoJSON and in `dispatch.domain.site.Grid.polygon`.

- `point_in_polygon`: ray casting (even-odd rule). A point on an edge or a vertex counts
  as inside; "on" means within `EDGE_TOLERANCE_DEG` (about 0.1 mm) of the edge, so that
  a point computed as the midpoint of an edge is on it despite rounding. Holes are not
  supported (a grid is one outer ring). A ring may or may not repeat its first point.
- `grid_for_point`: the grid containing the point; where grids overlap (or the point
  lies on a shared edge), the one with the smallest area (to the square metre), then
  the smallest id.
- `nearest_cameras`: great-circle (haversine) distance in metres, nearest first, ties
  broken by camera id.
- `responsible_people`: the chain used to dispatch and escalate: grid leader, deputy,
  village supervisor(s), township supervisor (the township centre), county.

`dispatch.domain.site.Person` carries no area of its own, so a supervisor is tied to a village or
township by, in this order: an explicit `areas` mapping (person id -> village or township
id), else the convention of the site files that a supervisor's name starts with the name
of its village or township ("城关镇综治中心" belongs to 城关镇). A person with role
`county` belongs to the whole site.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel

from dispatch.domain.model import Place
from dispatch.domain.site import Camera, Grid, Person, Site
from dispatch.domain.strict import FROZEN

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), for haversine distances."""

EDGE_TOLERANCE_DEG = 1e-9
"""How close (in degrees, about 0.1 mm) a point must be to an edge to count as on it."""

Point = tuple[float, float]


class GeoError(ValueError):
    """Coordinates or arguments that cannot be used; the message names the culprit."""


# -- helpers ------------------------------------------------------------------------------


def check_point(lon: float, lat: float) -> None:
    """GeoError unless (lon, lat) are finite WGS-84 degrees in range."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeoError(f"coordinates must be finite numbers, got ({lon!r}, {lat!r}) (坐标无效)")
    if not -180.0 <= lon <= 180.0:
        raise GeoError(f"longitude {lon} is outside -180..180 (经度超出范围)")
    if not -90.0 <= lat <= 90.0:
        raise GeoError(f"latitude {lat} is outside -90..90 (纬度超出范围)")


def _ring(polygon: Sequence[Point]) -> list[Point]:
    """The ring's vertices without a repeated closing point."""
    pts = list(polygon)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    return pts


def _edges(ring: Sequence[Point]) -> Iterable[tuple[Point, Point]]:
    n = len(ring)
    for i in range(n):
        yield ring[i], ring[(i + 1) % n]


def _on_segment(x: float, y: float, a: Point, b: Point, tol: float) -> bool:
    (ax, ay), (bx, by) = a, b
    if not (min(ax, bx) - tol <= x <= max(ax, bx) + tol):
        return False
    if not (min(ay, by) - tol <= y <= max(ay, by) + tol):
        return False
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length == 0.0:
        return math.hypot(x - ax, y - ay) <= tol
    # distance from the line through a and b
    return abs(dx * (y - ay) - dy * (x - ax)) / length <= tol


def on_boundary(lon: float, lat: float, polygon: Sequence[Point]) -> bool:
    """Whether the point lies on an edge or a vertex of the ring (within the tolerance)."""
    ring = _ring(polygon)
    if len(ring) == 1:
        return _on_segment(lon, lat, ring[0], ring[0], EDGE_TOLERANCE_DEG)
    return any(_on_segment(lon, lat, a, b, EDGE_TOLERANCE_DEG) for a, b in _edges(ring))


def point_in_polygon(lon: float, lat: float, polygon: Sequence[Point]) -> bool:
    """Whether (lon, lat) lies inside the ring or on its boundary (even-odd ray casting).

    A ring with fewer than three distinct vertices has no inside: only points on it count.
    """
    ring = _ring(polygon)
    if not ring:
        return False
    if on_boundary(lon, lat, ring):
        return True
    if len(set(ring)) < 3:
        return False
    inside = False
    for (ax, ay), (bx, by) in _edges(ring):
        # the half-open test (ay > lat) != (by > lat) counts a vertex on the ray once
        if (ay > lat) != (by > lat):
            x_cross = ax + (lat - ay) * (bx - ax) / (by - ay)
            if lon < x_cross:
                inside = not inside
    return inside


def polygon_area_m2(polygon: Sequence[Point]) -> float:
    """The ring's area in square metres (shoelace on a local equirectangular projection).

    Good to a fraction of a percent for grid-sized rings; used to rank overlapping grids.
    """
    ring = _ring(polygon)
    if len(ring) < 3:
        return 0.0
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    kx = math.radians(1.0) * EARTH_RADIUS_M * math.cos(lat0)
    ky = math.radians(1.0) * EARTH_RADIUS_M
    ox, oy = ring[0]  # relative to the first vertex: no cancellation of large numbers
    twice = 0.0
    for (ax, ay), (bx, by) in _edges(ring):
        twice += ((ax - ox) * kx) * ((by - oy) * ky) - ((bx - ox) * kx) * ((ay - oy) * ky)
    return abs(twice) / 2.0


def polygon_centre(polygon: Sequence[Point]) -> Point | None:
    """The mean of the ring's vertices (a point to look for cameras from), or None."""
    ring = _ring(polygon)
    if not ring:
        return None
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """The great-circle distance between two points in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# -- grids ----------------------------------------------------------------------------------


def bbox(polygon: Sequence[Point]) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the ring, or None for an empty one."""
    if not polygon:
        return None
    lons = [p[0] for p in polygon]
    lats = [p[1] for p in polygon]
    return (min(lons), min(lats), max(lons), max(lats))


class GridIndex:
    """The grids of a site with their bounding boxes, for many look-ups (build it once).

    Pure computation in the constructor, no I/O. Grids without a polygon are left out.
    """

    def __init__(self, grids: Sequence[Grid]) -> None:
        self._entries: list[tuple[Grid, tuple[float, float, float, float]]] = []
        for g in grids:
            box = bbox(g.polygon)
            if box is not None:
                self._entries.append((g, box))

    def grids_for_point(self, lon: float, lat: float) -> list[Grid]:
        """Every grid containing the point, smallest area first (then by id)."""
        check_point(lon, lat)
        tol = EDGE_TOLERANCE_DEG
        hits = [
            g
            for g, (x0, y0, x1, y1) in self._entries
            if x0 - tol <= lon <= x1 + tol
            and y0 - tol <= lat <= y1 + tol
            and point_in_polygon(lon, lat, g.polygon)
        ]
        # areas rounded to 1 m² so that equal grids drawn at different places tie on the id
        return sorted(hits, key=lambda g: (round(polygon_area_m2(g.polygon)), g.id))

    def grid_for_point(self, lon: float, lat: float) -> Grid | None:
        hits = self.grids_for_point(lon, lat)
        return hits[0] if hits else None


def grids_for_point(site: Site, lon: float, lat: float) -> list[Grid]:
    """Every grid containing the point, smallest area first (then by id).

    Builds a `GridIndex` each call; a caller with many look-ups keeps its own index.
    """
    return GridIndex(site.grids).grids_for_point(lon, lat)


def grid_for_point(site: Site, lon: float, lat: float) -> Grid | None:
    """The grid containing (lon, lat); the smallest one where several do; None outside all."""
    return GridIndex(site.grids).grid_for_point(lon, lat)


def find_grid(site: Site, grid_id: str) -> Grid | None:
    return next((g for g in site.grids if g.id == grid_id), None)


def grid_for_place(site: Site, place: Place) -> Grid | None:
    """The grid of an event's place: the one named, if the site knows it, else by point.

    A named grid the site does not know is ignored (the coordinates decide); the caller
    may compare `place.grid` with the result to warn about it.
    """
    if place.grid is not None:
        named = find_grid(site, place.grid)
        if named is not None:
            return named
    if place.lon is not None and place.lat is not None:
        return grid_for_point(site, place.lon, place.lat)
    return None


def place_point(site: Site, place: Place) -> Point | None:
    """A point for the place: its coordinates, else the centre of its grid, else None."""
    if place.lon is not None and place.lat is not None:
        return (place.lon, place.lat)
    grid = grid_for_place(site, place)
    if grid is None:
        return None
    return polygon_centre(grid.polygon)


def describe_place(site: Site, place: Place) -> str:
    """The place in Chinese words for an instruction: address, else grid, else coordinates."""
    if place.address.strip():
        return place.address.strip()
    grid = grid_for_place(site, place)
    if grid is not None:
        return f"{site.village_name(grid.village)}{grid.name}"
    if place.lon is not None and place.lat is not None:
        ew = "东经" if place.lon >= 0 else "西经"
        ns = "北纬" if place.lat >= 0 else "南纬"
        return f"{ew}{abs(place.lon):.5f}° {ns}{abs(place.lat):.5f}°"
    return "地点待核实"


# -- cameras --------------------------------------------------------------------------------


def nearest_cameras(
    site: Site, lon: float, lat: float, n: int = 4, max_m: float | None = None
) -> list[tuple[Camera, float]]:
    """Up to `n` cameras nearest to (lon, lat) with their distance in metres, nearest first.

    `max_m` leaves out cameras farther away than that. Distances equal to the millimetre
    are ordered by camera id so that the linkage layout is stable.
    """
    check_point(lon, lat)
    if n < 0:
        raise GeoError(f"n must not be negative, got {n}")
    if max_m is not None and not (math.isfinite(max_m) and max_m >= 0):
        raise GeoError(f"max_m must be a non-negative number of metres, got {max_m!r}")
    ranked = sorted(
        ((c, haversine_m(lon, lat, c.lon, c.lat)) for c in site.cameras),
        key=lambda cd: (round(cd[1], 3), cd[0].id),  # ties to the millimetre, then by id
    )
    if max_m is not None:
        ranked = [cd for cd in ranked if cd[1] <= max_m]
    return ranked[:n]


# -- people ---------------------------------------------------------------------------------


class ResponsibleChain(BaseModel):
    """Who is responsible for a grid, for dispatch (leader) and escalation (the rest).

    Any of them may be missing; `village_supervisors` may hold several people.
    """

    model_config = FROZEN

    grid_id: str
    village_id: str
    township_id: str | None
    leader: Person | None = None
    deputy: Person | None = None
    village_supervisors: tuple[Person, ...] = ()
    township_supervisor: Person | None = None
    county: Person | None = None

    def suggested(self) -> Person | None:
        """Whom one-click dispatch sends to: the leader, else the deputy, else up the chain."""
        for p in (self.leader, self.deputy, *self.village_supervisors, self.township_supervisor):
            if p is not None:
                return p
        return self.county

    def people(self) -> list[Person]:
        """Everyone in the chain, bottom up, without repeats."""
        seen: set[str] = set()
        out: list[Person] = []
        for p in (
            self.leader,
            self.deputy,
            *self.village_supervisors,
            self.township_supervisor,
            self.county,
        ):
            if p is not None and p.id not in seen:
                seen.add(p.id)
                out.append(p)
        return out


def _belongs(person: Person, area_id: str, area_name: str, areas: Mapping[str, str]) -> bool:
    if person.id in areas:
        return areas[person.id] == area_id
    return bool(area_name) and person.name.startswith(area_name)


def responsible_people(
    site: Site, grid_id: str, *, areas: Mapping[str, str] | None = None
) -> ResponsibleChain:
    """The responsible chain of a grid; KeyError for a grid the site does not have.

    `areas` maps a supervisor's person id to the id of its village or township (see the
    module's docstring); people who are missing leave their place in the chain empty.
    Where several township supervisors or county people qualify, the first in the site
    file is taken.
    """
    grid = find_grid(site, grid_id)
    if grid is None:
        raise KeyError(f"unknown grid {grid_id!r} (未知网格)")
    links = areas or {}
    by_id = {p.id: p for p in site.people}
    village = next((v for v in site.villages if v.id == grid.village), None)
    township_id = village.township if village is not None else None
    village_name = village.name if village is not None else ""
    township_name = site.township_name(township_id) if township_id is not None else ""

    def of_role(role: str) -> list[Person]:
        return [p for p in site.people if p.role == role]

    village_sups = tuple(
        p for p in of_role("village_supervisor") if _belongs(p, grid.village, village_name, links)
    )
    township_sup = (
        next(
            (
                p
                for p in of_role("township_supervisor")
                if _belongs(p, township_id, township_name, links)
            ),
            None,
        )
        if township_id is not None
        else None
    )
    county = next(iter(of_role("county")), None)
    return ResponsibleChain(
        grid_id=grid.id,
        village_id=grid.village,
        township_id=township_id,
        leader=by_id.get(grid.leader) if grid.leader is not None else None,
        deputy=by_id.get(grid.deputy) if grid.deputy is not None else None,
        village_supervisors=village_sups,
        township_supervisor=township_sup,
        county=county,
    )
