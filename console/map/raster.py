"""A point layer's picture kept in device-pixel tiles, so that a pan is a few blits.

The tiles are squares of `TILE_PX` device pixels fixed to the scene at one scale (tile
(c, r) holds scene x in [c, c+1) × TILE_PX / scale): panning moves the view over the same
tiles, so only tiles never seen before at this scale are painted; a zoom paints the new
scale's tiles; `clear()` throws all away, `drop_near` those around changed markers.
Tiles with nothing on them are remembered as empty and never blitted. At most `limit`
tiles are kept (least recently used go first): 256 tiles of 256 px are 64 MB at most
(tiles with nothing on them cost nothing); enough for the pans of five zoom levels, so
that zooming back out is a blit too.

A tile painted again reuses the pixmap of a tile forgotten before (up to `SPARES` kept
aside): PySide6 6.11 on Python 3.11 keeps 6 references to `None` for every paint
device a QPainter opens for the first time, and markers changing all day made a new
pixmap for each tile around them.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPixmap, QTransform

TILE_PX = 256
SPARES = 16  # forgotten tiles' pixmaps kept for the next tiles painted (4 MB at most)
_GONE = object()
Draw = Callable[[QPainter, QTransform, QRectF], int]
"""Paints into a painter in device pixels: (painter, scene→device transform, the scene
area to draw); returns how many markers it drew."""


def tiles_for(area: QRectF, scale: float) -> tuple[range, range]:
    """The columns and rows of the tiles at `scale` that cover the scene rectangle."""
    size = TILE_PX / scale
    cols = range(math.floor(area.left() / size), math.floor(area.right() / size) + 1)
    rows = range(math.floor(area.top() / size), math.floor(area.bottom() / size) + 1)
    return cols, rows


def tileable(tr: QTransform) -> bool:
    """Whether a painter's transform is a plain uniform scale and a translation (the map
    view's: no rotation, no shear, x and y at the same scale)."""
    plain = tr.isAffine() and tr.m12() == 0 and tr.m21() == 0
    return plain and tr.m11() > 0 and math.isclose(tr.m11(), tr.m22(), rel_tol=1e-9)


class RasterTiles:
    """A layer's tiles at the scales it was painted at; `paint` blits what is visible."""

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._tiles: OrderedDict[tuple[float, int, int], QPixmap | None] = OrderedDict()
        self._spare: list[QPixmap] = []
        self.rendered = 0
        """Tiles painted so far (tests and the benchmark watch it)."""

    def __len__(self) -> int:
        return len(self._tiles)

    @property
    def pictures(self) -> int:
        """How many kept tiles have something on them (the others are never blitted)."""
        return sum(pixmap is not None for pixmap in self._tiles.values())

    def clear(self) -> None:
        for pixmap in self._tiles.values():
            self._keep_spare(pixmap)
        self._tiles.clear()

    def _keep_spare(self, pixmap: QPixmap | None) -> None:
        if pixmap is not None and len(self._spare) < SPARES:
            self._spare.append(pixmap)

    def drop_near(self, points: Iterable[tuple[float, float]], margin_px: float) -> int:
        """Forget, at every scale kept, the tiles within `margin_px` of the scene points
        (markers that changed there); how many were forgotten."""
        dropped = 0
        scales = {key[0] for key in self._tiles}
        for scale in scales:
            size, margin = TILE_PX / scale, margin_px / scale
            for x, y in points:
                for col in range(
                    math.floor((x - margin) / size), math.floor((x + margin) / size) + 1
                ):
                    for row in range(
                        math.floor((y - margin) / size), math.floor((y + margin) / size) + 1
                    ):
                        gone = self._tiles.pop((scale, col, row), _GONE)
                        if gone is not _GONE:
                            dropped += 1
                            if isinstance(gone, QPixmap):
                                self._keep_spare(gone)
        return dropped

    def paint(self, painter: QPainter, area: QRectF, draw: Draw, margin_px: float) -> None:
        """Blit the tiles that cover `area` (scene) under the painter's transform (which
        `tileable` accepts), painting with `draw` those not kept yet."""
        tr = painter.worldTransform()
        scale = tr.m11()
        ox, oy = round(tr.dx()), round(tr.dy())
        cols, rows = tiles_for(area, scale)
        painter.save()
        painter.resetTransform()
        for row in rows:
            for col in cols:
                pixmap = self._tile(scale, col, row, draw, margin_px)
                if pixmap is not None:
                    painter.drawPixmap(QPointF(col * TILE_PX + ox, row * TILE_PX + oy), pixmap)
        painter.restore()

    def _tile(
        self, scale: float, col: int, row: int, draw: Draw, margin_px: float
    ) -> QPixmap | None:
        key = (scale, col, row)
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        pixmap = self._spare.pop() if self._spare else QPixmap(TILE_PX, TILE_PX)
        pixmap.fill(Qt.GlobalColor.transparent)
        size, margin = TILE_PX / scale, margin_px / scale
        area = QRectF(col * size, row * size, size, size).adjusted(-margin, -margin, margin, margin)
        tile_tr = QTransform(scale, 0, 0, scale, -col * TILE_PX, -row * TILE_PX)
        painter = QPainter(pixmap)
        try:
            drawn = draw(painter, tile_tr, area)
        finally:
            painter.end()
        self.rendered += 1
        kept = self._tiles[key] = pixmap if drawn else None
        if not drawn:
            self._keep_spare(pixmap)
        while len(self._tiles) > self._limit:
            self._keep_spare(self._tiles.popitem(last=False)[1])
        return kept
