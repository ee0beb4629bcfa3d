"""Which cameras the map draws, as numpy: one square per occupied half-square pixel cell.

A county view holds thousands of cameras within a few pixels of each other; drawing one
square per cell of half a square (cells fixed to the scene, so that pans and tiles agree),
in the most alarming state among the cameras in it, draws what can be seen. `CameraArrays`
holds the cameras' scene points and state ranks as arrays (rebuilt when states change),
so that a paint filters and picks with a few array operations instead of a Python loop
over every camera. Pure: no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console.map.geometry import Point

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CameraArrays:
    """Scene points (x, y with y down) and ranks (0 most alarming) of the cameras."""

    xs: Floats
    ys: Floats
    ranks: Ints

    @classmethod
    def of(cls, cameras: Iterable[tuple[Point, int]]) -> CameraArrays:
        rows = list(cameras)
        n = len(rows)
        xs = np.fromiter((at[0] for at, _ in rows), np.float64, n)
        ys = np.fromiter((-at[1] for at, _ in rows), np.float64, n)
        return cls(xs, ys, np.fromiter((r for _, r in rows), np.int64, n))


def squares(
    cams: CameraArrays,
    scale: tuple[float, float, float, float],
    area: tuple[float, float, float, float],
    cell_px: float,
) -> Mapping[int, tuple[Floats, Floats]]:
    """The device points (centres) to draw, by rank: cameras inside the scene rectangle
    `area` (left, top, right, bottom) under the transform `scale` (sx, sy, dx, dy), one per
    occupied `cell_px` cell (cells counted from the scene's origin), the most alarming
    (lowest rank) of the cell's cameras; ranks in drawing order (most alarming last)."""
    sx, sy, dx, dy = scale
    left, top, right, bottom = area
    xs, ys = cams.xs, cams.ys
    inside = np.flatnonzero((xs >= left) & (xs <= right) & (ys >= top) & (ys <= bottom))
    if inside.size == 0:
        return {}
    x, y, rank = xs[inside], ys[inside], cams.ranks[inside]
    kx = np.floor(x * sx / cell_px).astype(np.int64)
    ky = np.floor(y * sy / cell_px).astype(np.int64)
    order = np.lexsort((rank, ky, kx))  # by cell, the most alarming first in each
    kx, ky = kx[order], ky[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (kx[1:] != kx[:-1]) | (ky[1:] != ky[:-1])
    pick = order[first]
    px, py, pr = x[pick] * sx + dx, y[pick] * sy + dy, rank[pick]
    return {int(r): (px[pr == r], py[pr == r]) for r in sorted(set(pr.tolist()), reverse=True)}
