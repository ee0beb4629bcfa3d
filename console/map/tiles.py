"""The base-tiles layer: raster tiles of an MBTiles package under the map's geometry.

`TileLayer` is a QGraphicsItem in the map's scene, whose coordinates are Web Mercator
metres with y flipped (scene point = (x, SCENE_Y * y), Qt's y grows downwards). It draws,
for the exposed area only, the tiles of the zoom level nearest to the view's scale
(clamped to the package's zoom range: beyond its deepest level the deepest tiles are
scaled up), decoded once and kept in a bounded LRU cache. A package in GCJ-02 is placed
by converting each tile's corners to WGS-84, so that it lies under the site's WGS-84
geometry. No I/O in the constructor: `open_tile_layer()` opens the package.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from console.map.mbtiles import MBTiles, TilesetInfo
from console.map.projection import (
    HALF_WORLD_M,
    lonlat_to_world,
    tile_at,
    tile_bounds,
    world_to_lonlat,
)
from dispatch.domain.gcj02 import gcj_to_wgs, wgs_to_gcj

Datum = Literal["wgs84", "gcj02"]
SCENE_Y = -1.0
"""Scene y = SCENE_Y × world y (north-up metres → Qt's downward y)."""
TILE_PX = 256
MAX_TILES_PER_PAINT = 600
"""Above this many tiles in view (zoomed far out of the package's range) none are drawn."""


def to_scene(x: float, y: float) -> QPointF:
    return QPointF(x, SCENE_Y * y)


def zoom_for_scale(pixels_per_metre: float, min_zoom: int, max_zoom: int) -> int:
    """The tile zoom whose 256-px tiles best match the scale, within [min_zoom, max_zoom]."""
    if pixels_per_metre <= 0 or not math.isfinite(pixels_per_metre):
        return min_zoom
    z = round(math.log2(2 * HALF_WORLD_M * pixels_per_metre / TILE_PX))
    return max(min_zoom, min(max_zoom, z))


def _datum_to_wgs(datum: Datum, lon: float, lat: float) -> tuple[float, float]:
    return gcj_to_wgs(lon, lat) if datum == "gcj02" else (lon, lat)


def _wgs_to_datum(datum: Datum, lon: float, lat: float) -> tuple[float, float]:
    return wgs_to_gcj(lon, lat) if datum == "gcj02" else (lon, lat)


def tile_scene_rect(datum: Datum, z: int, x: int, y: int) -> QRectF:
    """Where XYZ tile (z, x, y) of a package in `datum` lies in the (WGS-84) scene."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    if datum == "wgs84":
        return QRectF(to_scene(minx, maxy), to_scene(maxx, miny))
    west, north = _datum_to_wgs(datum, *world_to_lonlat(minx, maxy))
    east, south = _datum_to_wgs(datum, *world_to_lonlat(maxx, miny))
    return QRectF(to_scene(*lonlat_to_world(west, north)), to_scene(*lonlat_to_world(east, south)))


def tile_range(datum: Datum, z: int, scene_rect: QRectF) -> tuple[range, range]:
    """The columns and rows of the tiles at zoom z that cover a scene rectangle (one spare
    tile around for the datum shift)."""
    corners = []
    for point in (scene_rect.topLeft(), scene_rect.bottomRight()):
        lon, lat = world_to_lonlat(point.x(), point.y() / SCENE_Y)
        corners.append(tile_at(z, *lonlat_to_world(*_wgs_to_datum(datum, lon, lat))))
    (c0, r0), (c1, r1) = corners
    last = (1 << z) - 1
    pad = 1 if datum != "wgs84" else 0
    cols = range(max(0, min(c0, c1) - pad), min(last, max(c0, c1) + pad) + 1)
    rows = range(max(0, min(r0, r1) - pad), min(last, max(r0, r1) + pad) + 1)
    return cols, rows


def painted_area(painter: QPainter) -> QRectF:
    """The part of the scene the painter's device shows (its whole surface, unclipped)."""
    inverse, ok = painter.worldTransform().inverted()
    device = painter.device()
    if not ok or device is None:
        return QRectF()
    return inverse.mapRect(QRectF(0, 0, device.width(), device.height()))


def package_scene_rect(info: TilesetInfo, datum: Datum) -> QRectF:
    """The package's area in the scene (its bounds metadata, else the whole world)."""
    if info.bounds is None:
        return QRectF(to_scene(-HALF_WORLD_M, HALF_WORLD_M), to_scene(HALF_WORLD_M, -HALF_WORLD_M))
    w, s, e, n = info.bounds
    west, north = _datum_to_wgs(datum, w, n)
    east, south = _datum_to_wgs(datum, e, s)
    return QRectF(to_scene(*lonlat_to_world(west, north)), to_scene(*lonlat_to_world(east, south)))


class TileLayer(QGraphicsItem):
    """Draws an open MBTiles package's tiles for the exposed area and zoom."""

    def __init__(
        self,
        source: MBTiles,
        info: TilesetInfo,
        datum: Datum = "wgs84",
        cache_tiles: int = 512,
        parent: QGraphicsItem | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._info = info
        self._datum: Datum = datum
        self._cache: OrderedDict[tuple[int, int, int], tuple[QPixmap | None, QRectF]] = (
            OrderedDict()
        )
        self._cache_tiles = cache_tiles
        self._bounds = package_scene_rect(info, datum).normalized()
        self.tiles_drawn = 0
        """How many tiles the last paint drew (for tests and the benchmark)."""
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(-100)

    @property
    def info(self) -> TilesetInfo:
        return self._info

    def twin(self) -> TileLayer:
        """Another layer over the same open package (a second view's: an item lives in
        one scene), with a cache of its own."""
        return TileLayer(self._source, self._info, self._datum, self._cache_tiles)

    @property
    def cached_tiles(self) -> int:
        """How many tiles (pictures or known absences) the cache holds."""
        return len(self._cache)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def _tile(self, z: int, x: int, y: int) -> tuple[QPixmap | None, QRectF]:
        """The tile's picture (None where the package has none) and its place in the
        scene, from the cache (the datum conversion too is done once per tile)."""
        key = (z, x, y)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        data = self._source.tile(z, x, y)
        pixmap: QPixmap | None = None
        if data is not None:
            pixmap = QPixmap()
            if not pixmap.loadFromData(data):
                pixmap = None
        entry = self._cache[key] = (pixmap, tile_scene_rect(self._datum, z, x, y))
        while len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return entry

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        z = zoom_for_scale(scale, self._info.min_zoom, self._info.max_zoom)
        exposed = option.exposedRect.intersected(self._bounds).intersected(painted_area(painter))
        self.tiles_drawn = 0
        if exposed.isEmpty():
            return
        cols, rows = tile_range(self._datum, z, exposed)
        if len(cols) * len(rows) > MAX_TILES_PER_PAINT:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        seam = 1.0 / scale if scale > 0 else 0.0  # a device pixel of overlap: no seams
        for col, row in ((c, r) for r in rows for c in cols):
            pixmap, place = self._tile(z, col, row)
            if pixmap is not None:
                target = place.adjusted(-seam, -seam, seam, seam)
                painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
                self.tiles_drawn += 1


def open_tile_layer(path: str | Path, datum: Datum = "wgs84") -> TileLayer:
    """Open an MBTiles package and make its layer (raises MBTilesError when unusable)."""
    source = MBTiles(path)
    source.open()
    return TileLayer(source, source.info(), datum)
