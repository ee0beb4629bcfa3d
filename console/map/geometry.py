"""Map geometry helpers, pure: centroids, a convex hull, grid-bucket clustering, a grid
index for rectangle queries.

Points are world metres (see `console.map.projection`). Clustering puts markers into
square cells of `cell_m` metres and gives one cluster per occupied cell, at the mean of
its members, with the worst warning colour among them (numpy: 10,000 markers in a few
milliseconds); callers cache the result per zoom level (`ClusterCache`) so that panning
never re-clusters, and find the clusters of an area through the level's `GridIndex`
rather than by looking at every one.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

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


@dataclass(frozen=True, slots=True)
class Cluster(Generic[K]):
    x: float
    y: float
    members: tuple[K, ...]
    rank: int  # the worst (lowest) rank among the members: 0 red, 1 yellow, 2 green


def cluster(items: Iterable[tuple[K, Point, int]], cell_m: float) -> list[Cluster[K]]:
    """One cluster per occupied `cell_m` square of (key, point, rank) items; members keep
    the order they were given in."""
    rows = list(items)
    n = len(rows)
    if n == 0:
        return []
    xs = np.fromiter((r[1][0] for r in rows), np.float64, n)
    ys = np.fromiter((r[1][1] for r in rows), np.float64, n)
    ranks = np.fromiter((r[2] for r in rows), np.int64, n)
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
    keys = [rows[i][0] for i in order.tolist()]
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


class ClusterCache(Generic[K]):
    """Clusters per zoom level for one version of the markers, each level with a grid index
    of its clusters; a new version clears it."""

    INDEX_CELLS = 8
    """A level's index cell, in cluster cells."""

    def __init__(self) -> None:
        self._version = -1
        self._levels: dict[int, list[Cluster[K]]] = {}
        self._indexes: dict[int, GridIndex[Cluster[K]]] = {}

    def get(
        self, version: int, level: int, cell_m: float, items: Iterable[tuple[K, Point, int]]
    ) -> list[Cluster[K]]:
        if version != self._version:
            self._version = version
            self._levels.clear()
            self._indexes.clear()
        found = self._levels.get(level)
        if found is None:
            found = self._levels[level] = cluster(items, cell_m)
        return found

    def near(
        self,
        version: int,
        level: int,
        cell_m: float,
        items: Iterable[tuple[K, Point, int]],
        area: tuple[float, float, float, float],
    ) -> list[Cluster[K]]:
        """The level's clusters in or near the world rectangle `area` (minx, miny, maxx,
        maxy), found through the level's index."""
        clusters = self.get(version, level, cell_m, items)
        index = self._indexes.get(level)
        if index is None:
            index = self._indexes[level] = GridIndex(
                ((c, (c.x, c.y)) for c in clusters), cell_m * self.INDEX_CELLS
            )
        return index.query(*area)
