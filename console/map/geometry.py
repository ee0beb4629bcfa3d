"""Map geometry helpers, pure: centroids, a convex hull, grid-bucket clustering.

Points are world metres (see `console.map.projection`). Clustering puts markers into
square cells of `cell_m` metres and gives one cluster per occupied cell, at the mean of
its members, with the worst warning colour among them; callers cache the result per zoom
level (`ClusterCache`) so that panning never re-clusters.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Point = tuple[float, float]
K = TypeVar("K", bound=Hashable)


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
    """One cluster per occupied `cell_m` square of (key, point, rank) items."""
    cells: dict[tuple[int, int], tuple[list[K], list[float], list[float], list[int]]] = {}
    for key, (x, y), rank in items:
        cell = (math.floor(x / cell_m), math.floor(y / cell_m))
        keys, xs, ys, ranks = cells.setdefault(cell, ([], [], [], []))
        keys.append(key)
        xs.append(x)
        ys.append(y)
        ranks.append(rank)
    return [
        Cluster(sum(xs) / len(xs), sum(ys) / len(ys), tuple(keys), min(ranks))
        for keys, xs, ys, ranks in cells.values()
    ]


class ClusterCache(Generic[K]):
    """Clusters per zoom level for one version of the markers; a new version clears it."""

    def __init__(self) -> None:
        self._version = -1
        self._levels: dict[int, list[Cluster[K]]] = {}

    def get(
        self, version: int, level: int, cell_m: float, items: Iterable[tuple[K, Point, int]]
    ) -> list[Cluster[K]]:
        if version != self._version:
            self._version = version
            self._levels.clear()
        found = self._levels.get(level)
        if found is None:
            found = self._levels[level] = cluster(items, cell_m)
        return found
