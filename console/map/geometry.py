"""Map geometry helpers, pure: centroids, a convex hull, grid-bucket clustering, a grid
index for rectangle queries.

Points are world metres (see `console.map.projection`). Clustering puts markers into
square cells of `cell_m` metres and gives one cluster per occupied cell, at the mean of
its members, with the worst warning colour among them (numpy: 10,000 markers in a few
milliseconds); callers cache the result per zoom level (`ClusterCache`) so that panning
never re-clusters, and find the clusters of an area with array operations on the level's
centres rather than by looking at each one in Python. `GridIndex` buckets points by
cell for rectangle queries (the cameras under a click).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def centroid(ring: Sequence[Point]) -> Point:
    """The area centroid of a polygon ring (the mean of its points if it has no area)."""
    if not ring:
        return (0.0, 0.0)
    a = cx = cy = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i]
        x1, y1 = ring[(i + 1) % n]
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-9:
        return (sum(p[0] for p in ring) / n, sum(p[1] for p in ring) / n)
    return (cx / (3 * a), cy / (3 * a))


def convex_hull(points: Iterable[Point]) -> list[Point]:
    """The convex hull, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Point] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def inside(ring: Sequence[Point], p: Point) -> bool:
    """True when `p` lies inside the polygon ring (even-odd rule)."""
    x, y = p
    hit = False
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i]
        x1, y1 = ring[(i + 1) % n]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


class Cluster(NamedTuple, Generic[K]):
    """A cluster of markers (a named tuple: thousands are made per zoom level)."""

    x: float
    y: float
    members: tuple[K, ...]
    rank: int  # the worst (lowest) rank among the members: 0 red, 1 yellow, 2 green


class Markers(NamedTuple, Generic[K]):
    """Markers as arrays: keys, x, y and rank of each (what `cluster` works on)."""

    keys: list[K]
    xs: npt.NDArray[np.float64]
    ys: npt.NDArray[np.float64]
    ranks: npt.NDArray[np.int64]

    @classmethod
    def of(cls, items: Iterable[tuple[K, Point, int]]) -> Markers[K]:
        rows = list(items)
        n = len(rows)
        return cls(
            [r[0] for r in rows],
            np.fromiter((r[1][0] for r in rows), np.float64, n),
            np.fromiter((r[1][1] for r in rows), np.float64, n),
            np.fromiter((r[2] for r in rows), np.int64, n),
        )


Source = Iterable[tuple[K, Point, int]] | Callable[[], Markers[K]]
"""(key, point, rank) items, or a function giving them as arrays (made once, kept by the
caller, for the clustering of several zoom levels)."""


def cluster(items: Iterable[tuple[K, Point, int]] | Markers[K], cell_m: float) -> list[Cluster[K]]:
    """One cluster per occupied `cell_m` square of (key, point, rank) items; members keep
    the order they were given in."""
    markers = items if isinstance(items, Markers) else Markers.of(items)
    n = len(markers.keys)
    if n == 0:
        return []
    xs, ys, ranks = markers.xs, markers.ys, markers.ranks
    cx = np.floor(xs / cell_m).astype(np.int64)
    cy = np.floor(ys / cell_m).astype(np.int64)
    order = np.lexsort((cy, cx))  # stable: a cell's members in their given order
    scx, scy = cx[order], cy[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (scx[1:] != scx[:-1]) | (scy[1:] != scy[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    mean_x = np.add.reduceat(xs[order], starts) / counts
    mean_y = np.add.reduceat(ys[order], starts) / counts
    worst = np.minimum.reduceat(ranks[order], starts)
    given = markers.keys
    keys = [given[i] for i in order.tolist()]
    ends = [*starts.tolist()[1:], n]
    return [
        Cluster(x, y, tuple(keys[a:b]), r)
        for x, y, r, a, b in zip(
            mean_x.tolist(), mean_y.tolist(), worst.tolist(), starts.tolist(), ends, strict=True
        )
    ]


class GridIndex(Generic[V]):
    """Values bucketed by the `cell_m` square their point lies in; `query` gives the values
    of the cells a rectangle touches (a superset of those inside: callers test exactly)."""

    def __init__(self, items: Iterable[tuple[V, Point]], cell_m: float) -> None:
        self.cell_m = cell_m
        self._cells: dict[tuple[int, int], list[V]] = {}
        self._count = 0
        for value, (x, y) in items:
            key = (math.floor(x / cell_m), math.floor(y / cell_m))
            self._cells.setdefault(key, []).append(value)
            self._count += 1
        cols = [c for c, _ in self._cells] or [0]
        rows = [r for _, r in self._cells] or [0]
        self._extent = (min(cols), min(rows), max(cols), max(rows))

    def __len__(self) -> int:
        return self._count

    def query(self, minx: float, miny: float, maxx: float, maxy: float) -> list[V]:
        c_lo, r_lo, c_hi, r_hi = self._extent
        c0 = max(c_lo, math.floor(minx / self.cell_m))
        c1 = min(c_hi, math.floor(maxx / self.cell_m))
        r0 = max(r_lo, math.floor(miny / self.cell_m))
        r1 = min(r_hi, math.floor(maxy / self.cell_m))
        out: list[V] = []
        if c0 > c1 or r0 > r1:
            return out
        if (c1 - c0 + 1) * (r1 - r0 + 1) > len(self._cells):
            for (c, r), values in self._cells.items():
                if c0 <= c <= c1 and r0 <= r <= r1:
                    out.extend(values)
            return out
        for c in range(c0, c1 + 1):
            for r in range(r0, r1 + 1):
                out.extend(self._cells.get((c, r), ()))
        return out


def cell_of(p: Point, cell_m: float) -> tuple[int, int]:
    return (math.floor(p[0] / cell_m), math.floor(p[1] / cell_m))


class Level(Generic[K]):
    """One zoom level's clusters, with where each cell's cluster is in the list (made at
    the first incremental change) and their centres as arrays (made when asked)."""

    def __init__(self, clusters: list[Cluster[K]], cell_m: float) -> None:
        self.clusters = clusters
        self.cell_m = cell_m
        self._by_cell: dict[tuple[int, int], int] | None = None
        self._centres: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None

    def centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        if self._centres is None:
            n = len(self.clusters)
            self._centres = (
                np.fromiter((c.x for c in self.clusters), np.float64, n),
                np.fromiter((c.y for c in self.clusters), np.float64, n),
            )
        return self._centres

    def recluster(
        self,
        cells: Iterable[tuple[int, int]],
        moved: Iterable[K],
        where: Mapping[K, tuple[Point, int]],
    ) -> list[Point]:
        """Make the clusters of `cells` again from `where` (every marker's point and rank
        now), the markers in `moved` being the ones that changed; the centres of the
        clusters before and after (what must be repainted)."""
        if self._by_cell is None:
            self._by_cell = {
                cell_of((c.x, c.y), self.cell_m): i for i, c in enumerate(self.clusters)
            }
        by_cell, clusters = self._by_cell, self.clusters
        moved_by_cell: dict[tuple[int, int], list[K]] = {}
        for key in moved:
            found = where.get(key)
            if found is not None:
                moved_by_cell.setdefault(cell_of(found[0], self.cell_m), []).append(key)
        touched: list[Point] = []
        for cell in set(cells):
            i = by_cell.get(cell)
            before = clusters[i] if i is not None else None
            members = [
                k
                for k in (before.members if before is not None else ())
                if k in where and cell_of(where[k][0], self.cell_m) == cell
            ]
            members += [k for k in moved_by_cell.get(cell, ()) if k not in members]
            if before is not None:
                touched.append((before.x, before.y))
            if members:
                pts = [where[k][0] for k in members]
                after = Cluster(
                    sum(p[0] for p in pts) / len(pts),
                    sum(p[1] for p in pts) / len(pts),
                    tuple(members),
                    min(where[k][1] for k in members),
                )
                touched.append((after.x, after.y))
                if i is None:
                    by_cell[cell] = len(clusters)
                    clusters.append(after)
                else:
                    clusters[i] = after
            elif i is not None:  # the cell is empty now: the last cluster takes its place
                last = clusters.pop()
                del by_cell[cell]
                if i < len(clusters):
                    clusters[i] = last
                    by_cell[cell_of((last.x, last.y), self.cell_m)] = i
        self._centres = None
        return touched


class ClusterCache(Generic[K]):
    """Clusters per zoom level for one version of the markers (`Level`); a new version
    clears it, unless `update` brought the levels to it."""

    def __init__(self) -> None:
        self._version = -1
        self._levels: dict[int, Level[K]] = {}

    def _level(self, version: int, level: int, cell_m: float, items: Source[K]) -> Level[K]:
        if version != self._version:
            self._version = version
            self._levels.clear()
        found = self._levels.get(level)
        if found is None:
            markers = items() if callable(items) else items
            found = self._levels[level] = Level(cluster(markers, cell_m), cell_m)
        return found

    def get(self, version: int, level: int, cell_m: float, items: Source[K]) -> list[Cluster[K]]:
        return self._level(version, level, cell_m, items).clusters

    def near(
        self,
        version: int,
        level: int,
        cell_m: float,
        items: Source[K],
        area: tuple[float, float, float, float],
    ) -> list[Cluster[K]]:
        """The level's clusters inside the world rectangle `area` (minx, miny, maxx,
        maxy), found with array operations on their centres."""
        found = self._level(version, level, cell_m, items)
        xs, ys = found.centres()
        minx, miny, maxx, maxy = area
        hits = np.flatnonzero((xs >= minx) & (xs <= maxx) & (ys >= miny) & (ys <= maxy))
        return [found.clusters[i] for i in hits.tolist()]

    def update(
        self,
        old_version: int,
        new_version: int,
        changed: Mapping[K, tuple[Point | None, Point | None]],
        where: Mapping[K, tuple[Point, int]],
    ) -> list[Point] | None:
        """Bring the levels of `old_version` to `new_version` where only the markers in
        `changed` (their point before and after, None where absent) differ; `where` has
        every marker's point and rank now. The centres of the clusters that changed, or
        None when the cache did not hold `old_version` (it is cleared then)."""
        if self._version != old_version:
            self._levels.clear()
            self._version = new_version
            return None
        touched: list[Point] = []
        for level in self._levels.values():
            cells = [
                cell_of(p, level.cell_m) for pair in changed.values() for p in pair if p is not None
            ]
            touched += level.recluster(cells, changed, where)
        self._version = new_version
        return touched
