"""The map's QGraphicsItems: grid polygons, labels, and the two point layers.

Scene coordinates are world metres with y negated (Qt's y points down). The camera and
event layers are one item each that paints only what is exposed, in device pixels, so
that 5,000 cameras and 10,000 events are two items rather than 15,000; they find what is
drawn in an area through a grid index (cameras) or the zoom level's cluster index
(events), never by looking at every point. Both are cached by Qt in device coordinates
(`DeviceCoordinateCache`): a pan blits the cached picture and paints only the newly
exposed strip; a zoom or a change of their data paints them again. What changes often
(flashing and highlighted events) is a small uncached layer of its own (`MarkLayer`) so
that it never throws the events' picture away. Labels are `QGraphicsSimpleTextItem`s
(never rich text): site names are outside text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPolygonItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from console.kit.plain import inert_bidi
from console.map.geometry import Cluster, ClusterCache, GridIndex, Markers, Point
from console.map.model import CameraState, EventMarker, MapModel, MarkerChange
from console.map.raster import RasterTiles, tileable
from console.map.squares import CameraArrays, squares
from console.map.tiles import painted_area

WARNING = {0: QColor("#e02020"), 1: QColor("#f0b400"), 2: QColor("#2e9e44")}
"""Warning colours by rank: red, yellow, green."""
CAMERA = {
    CameraState.ONLINE: QColor("#1f6fd1"),
    CameraState.OFFLINE: QColor("#7a7a7a"),
    CameraState.FAULTY: QColor("#c15cff"),
    CameraState.UNKNOWN: QColor("#9fb7d6"),
}
TOWN_FILL = ["#dbe9d4", "#e8e0cc", "#d4e3ec", "#eddade", "#e4e9cf", "#dcd8ea"]
CLUSTER_PX = 44.0
"""Markers closer than about this many pixels are drawn as one cluster."""


def scene_point(p: Point) -> QPointF:
    return QPointF(p[0], -p[1])


def polygon(ring: tuple[Point, ...]) -> QPolygonF:
    return QPolygonF([scene_point(p) for p in ring])


def zoom_level(scale: float) -> int:
    """A discrete zoom level (scale = pixels per metre) for the cluster cache."""
    return math.floor(math.log2(max(scale, 1e-9)) * 2)


def cell_metres(level: int) -> float:
    return CLUSTER_PX / math.pow(2.0, level / 2)


def label(
    text: str, size: float, colour: str, bold: bool = False, above: bool = False
) -> QGraphicsSimpleTextItem:
    """A plain-text label of constant pixel size, centred on its position (or just
    above it when `above`)."""
    item = QGraphicsSimpleTextItem(inert_bidi(text))
    font = QFont()
    font.setPointSizeF(size)
    font.setBold(bold)
    item.setFont(font)
    item.setBrush(QColor(colour))
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    r = item.boundingRect()
    dy = -r.height() - 2 if above else -r.height() / 2
    item.setTransform(QTransform.fromTranslate(-r.width() / 2, dy))
    return item


def grid_item(ring: tuple[Point, ...], fill: str) -> QGraphicsPolygonItem:
    item = QGraphicsPolygonItem(polygon(ring))
    pen = QPen(QColor("#5b6b7c"), 1.0)
    pen.setCosmetic(True)
    item.setPen(pen)
    item.setBrush(QColor(fill))
    return item


def world_area(scene: QRectF) -> tuple[float, float, float, float]:
    """A scene rectangle as a world one: (minx, miny, maxx, maxy), y north-up."""
    return (scene.left(), -scene.bottom(), scene.right(), -scene.top())


class PointLayer(QGraphicsItem):
    """A layer of many small points painted in device pixels by `draw`. A `cached` layer
    keeps its picture in device tiles (`console.map.raster`): pans blit them, a zoom
    paints the new scale's, `invalidate()` (new data) paints them all again."""

    FONT_PT: float | None = 8.0
    BOLD = True
    MARGIN_PX = 50.0
    """Markers this close outside the area painted are drawn too (they reach into it)."""

    def __init__(self, bounds: QRectF, *, cached: bool = False) -> None:
        super().__init__()
        self._bounds = bounds.adjusted(-2000, -2000, 2000, 2000)
        self.raster = RasterTiles() if cached else None
        self.painted = 0  # paints so far (tests and the benchmark watch it)
        # exposedRect is then the area being repainted, not the whole layer
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def scale_of(self, painter: QPainter) -> float:
        return math.hypot(painter.worldTransform().m11(), painter.worldTransform().m12())

    def invalidate(self) -> None:
        """The layer's data changed: its kept picture is thrown away and it repaints."""
        if self.raster is not None:
            self.raster.clear()
        self.update()

    def draw(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        """Paint what lies in `area` (scene) at its device point under `tr`, the painter in
        device pixels; returns how many markers were drawn."""
        raise NotImplementedError

    def prepare(self, painter: QPainter) -> None:
        """The layers' paint prologue: antialiased, in the layer's font."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.FONT_PT is not None:
            font = QFont()
            font.setPointSizeF(self.FONT_PT)
            font.setBold(self.BOLD)
            painter.setFont(font)

    def _draw_prepared(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        self.prepare(painter)
        return self.draw(painter, tr, area)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        self.painted += 1
        tr = painter.worldTransform()
        area = option.exposedRect.intersected(painted_area(painter))
        if area.isEmpty():
            return
        if self.raster is not None and tileable(tr):
            self.raster.paint(painter, area, self._draw_prepared, self.MARGIN_PX)
            return
        scale = self.scale_of(painter)
        margin = self.MARGIN_PX / scale if scale > 0 else 0.0
        painter.save()
        try:
            painter.resetTransform()
            self._draw_prepared(painter, tr, area.adjusted(-margin, -margin, margin, margin))
        finally:
            painter.restore()


CAMERA_PX = 10.0
"""A camera's square, in pixels; cameras closer than half of it share one square."""
CAMERA_RANK = {
    CameraState.FAULTY: 0,
    CameraState.OFFLINE: 1,
    CameraState.UNKNOWN: 2,
    CameraState.ONLINE: 3,
}
"""Which state a shared square shows: the most alarming."""


CAMERA_INDEX_M = 400.0
"""The camera index's cell, in world metres (clicks look up the cameras near them)."""
RANK_STATE = {rank: state for state, rank in CAMERA_RANK.items()}


def camera_arrays(model: MapModel) -> CameraArrays:
    return CameraArrays.of((c.at, CAMERA_RANK[c.state]) for c in model.cameras.values())


def visible_camera_rects(
    model: MapModel,
    tr: QTransform,
    exposed: QRectF,
    arrays: CameraArrays | None = None,
) -> dict[CameraState, list[QRectF]]:
    """The squares to paint, by state: cameras inside `exposed` (scene), in device pixels
    of `tr` (no rotation), one square per occupied cell of half a square (the most
    alarming state wins; `console.map.squares`), so that a county-wide view of thousands
    of cameras draws what can be seen at once rather than every camera. `arrays`: the
    model's cameras as arrays, when the caller keeps them."""
    cams = arrays if arrays is not None else camera_arrays(model)
    area = (exposed.left(), exposed.top(), exposed.right(), exposed.bottom())
    scale = (tr.m11(), tr.m22(), tr.dx(), tr.dy())
    half = CAMERA_PX / 2
    out: dict[CameraState, list[QRectF]] = {}
    for rank, (px, py) in squares(cams, scale, area, CAMERA_PX / 2).items():
        out[RANK_STATE[rank]] = [
            QRectF(x - half, y - half, CAMERA_PX, CAMERA_PX)
            for x, y in zip(px.tolist(), py.tolist(), strict=True)
        ]
    return out


class CameraLayer(PointLayer):
    FONT_PT = None
    MARGIN_PX = CAMERA_PX

    def __init__(self, model: MapModel, bounds: QRectF) -> None:
        super().__init__(bounds, cached=True)
        self.model = model
        self._index: GridIndex[str] | None = None
        self._arrays: CameraArrays | None = None

    @property
    def index(self) -> GridIndex[str]:
        """The cameras by place (built at first use; cameras do not move)."""
        if self._index is None or len(self._index) != len(self.model.cameras):
            cams = self.model.cameras.values()
            self._index = GridIndex(((c.id, c.at) for c in cams), CAMERA_INDEX_M)
        return self._index

    def invalidate(self) -> None:
        self._arrays = None  # states changed
        super().invalidate()

    def draw(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        if self._arrays is None:
            self._arrays = camera_arrays(self.model)
        # axis-aligned squares need no antialiasing (it made them the layer's main cost)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(QPen(QColor("white"), 1.5))
        drawn = 0
        for state, rects in visible_camera_rects(self.model, tr, area, self._arrays).items():
            painter.setBrush(CAMERA[state])
            painter.drawRects(rects)
            drawn += len(rects)
        return drawn

    def hit(self, scene: QPointF, scale: float, radius_px: float = 8.0) -> str | None:
        best, best_d = None, radius_px / scale
        r = best_d
        near = self.index.query(scene.x() - r, -scene.y() - r, scene.x() + r, -scene.y() + r)
        for cid in near:
            sp = scene_point(self.model.cameras[cid].at)
            d = math.hypot(sp.x() - scene.x(), sp.y() - scene.y())
            if d <= best_d:
                best, best_d = cid, d
        return best


def visible_clusters(
    clusters: list[Cluster[str]], tr: QTransform, exposed: QRectF
) -> tuple[dict[int, list[QPointF]], list[tuple[Cluster[str], QPointF]]]:
    """The clusters inside `exposed` (scene) at their device points under `tr` (no
    rotation): single markers by rank, and the clusters of several."""
    sx, sy, dx, dy = tr.m11(), tr.m22(), tr.dx(), tr.dy()
    left, right, top, bottom = exposed.left(), exposed.right(), exposed.top(), exposed.bottom()
    singles: dict[int, list[QPointF]] = {}
    groups: list[tuple[Cluster[str], QPointF]] = []
    for c in clusters:
        x, y = c.x, -c.y
        if not (left <= x <= right and top <= y <= bottom):
            continue
        d = QPointF(x * sx + dx, y * sy + dy)
        if len(c.members) == 1:
            singles.setdefault(c.rank, []).append(d)
        else:
            groups.append((c, d))
    return singles, groups


class _Where(Mapping[str, tuple[Point, int]]):
    """The markers' points and ranks, as `ClusterCache.update` reads them."""

    def __init__(self, events: Mapping[str, EventMarker]) -> None:
        self._events = events

    def __getitem__(self, key: str) -> tuple[Point, int]:
        m = self._events[key]
        return (m.at, m.rank)

    def __iter__(self) -> Iterator[str]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)


class EventLayer(PointLayer):
    """Events in their warning colour, clustered per zoom level (cached)."""

    MARGIN_PX = 24.0  # a cluster's circle is at most 18 px in radius, with its rim

    def __init__(self, model: MapModel, bounds: QRectF) -> None:
        super().__init__(bounds, cached=True)
        self.model = model
        self._cache: ClusterCache[str] = ClusterCache()
        self._arrays: tuple[int, Markers[str]] | None = None

    INCREMENTAL_MAX = 500
    """Up to this many changed markers only the clusters and tiles they touch are made
    again; more, and the layer is painted anew."""

    def markers_changed(self, changes: Mapping[str, MarkerChange], old_version: int) -> None:
        """The model's markers went from `old_version` to its version now by `changes`."""
        if self.raster is None or len(changes) > self.INCREMENTAL_MAX:
            self.invalidate()
            return
        moved = {eid: (b.at if b else None, a.at if a else None) for eid, (b, a) in changes.items()}
        where = _Where(self.model.events)
        touched = self._cache.update(old_version, self.model.events_version, moved, where)
        if touched is None:
            self.invalidate()
            return
        points = [(x, -y) for x, y in touched] + [
            (p[0], -p[1]) for pair in moved.values() for p in pair if p
        ]
        self.raster.drop_near(points, self.MARGIN_PX)
        self.update()

    def _markers(self) -> Markers[str]:
        """The model's markers as arrays, made once per version of them (for the
        clustering of each zoom level first seen)."""
        version = self.model.events_version
        if self._arrays is None or self._arrays[0] != version:
            items = ((m.id, m.at, m.rank) for m in self.model.events.values())
            self._arrays = (version, Markers.of(items))
        return self._arrays[1]

    def clusters(self, scale: float) -> list[Cluster[str]]:
        level = zoom_level(scale)
        return self._cache.get(self.model.events_version, level, cell_metres(level), self._markers)

    def draw(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        level = zoom_level(math.hypot(tr.m11(), tr.m12()))
        version, cell = self.model.events_version, cell_metres(level)
        near = self._cache.near(version, level, cell, self._markers, world_area(area))
        singles, groups = visible_clusters(near, tr, area)
        for rank in sorted(singles, reverse=True):  # red on top
            # one call per colour: round points of the marker's diameter, white rim first
            painter.setPen(
                QPen(QColor("white"), 13.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            )
            painter.drawPoints(singles[rank])
            painter.setPen(
                QPen(WARNING[rank], 10.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            )
            painter.drawPoints(singles[rank])
        for c, d in groups:
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(WARNING[c.rank])
            r = 9.0 + min(9.0, math.log2(len(c.members)) * 1.5)
            painter.drawEllipse(d, r, r)
            painter.setPen(QColor("black" if c.rank == 1 else "white"))
            painter.drawText(
                QRectF(d.x() - r, d.y() - r, 2 * r, 2 * r),
                Qt.AlignmentFlag.AlignCenter,
                str(len(c.members)),
            )
        return sum(len(pts) for pts in singles.values()) + len(groups)

    def hit(self, scene: QPointF, scale: float, radius_px: float = 10.0) -> list[str]:
        """The events of the marker or cluster under `scene`, nearest first; [] if none."""
        best: list[str] = []
        best_d = radius_px / scale
        level = zoom_level(scale)
        reach = 18.0 / scale
        area = (scene.x() - reach, -scene.y() - reach, scene.x() + reach, -scene.y() + reach)
        version, cell = self.model.events_version, cell_metres(level)
        for c in self._cache.near(version, level, cell, self._markers, area):
            d = math.hypot(c.x - scene.x(), -c.y - scene.y())
            r = (radius_px if len(c.members) == 1 else 18.0) / scale
            if d <= max(r, best_d) and (not best or d < best_d):
                best, best_d = list(c.members), d
        return best


class MarkLayer(PointLayer):
    """The highlighted and the flashing events, drawn over the events' layer with a ring;
    not cached (it changes with each flash and is a handful of markers)."""

    FONT_PT = None

    def __init__(self, model: MapModel, bounds: QRectF, flashing: Callable[[], set[str]]) -> None:
        super().__init__(bounds)
        self.model = model
        self._flashing = flashing
        self.flash_on = True

    def draw(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        flashing = self._flashing()
        drawn = 0
        for eid in self.model.highlighted | flashing:
            m = self.model.events.get(eid)
            if m is None or not area.contains(scene_point(m.at)):
                continue
            drawn += 1
            d = tr.map(scene_point(m.at))
            if eid in flashing:
                r = 14.0 if self.flash_on else 9.0
                painter.setPen(QPen(WARNING[m.rank], 3.0))
                fill = QBrush(WARNING[m.rank]) if self.flash_on else QBrush()
                painter.setBrush(fill)
                painter.drawEllipse(d, r, r)
            if eid in self.model.highlighted:
                painter.setPen(QPen(QColor("#00c8ff"), 3.0))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(d, 11.0, 11.0)
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(WARNING[m.rank])
            painter.drawEllipse(d, 6.0, 6.0)
        return drawn


ROLL_OK = QColor("#2e9e44")
ROLL_MISSED = QColor("#e02020")


class RollcallLayer(PointLayer):
    """Each village centre's last roll-call result: a ringed badge, ✓ reached, ✗ not."""

    def __init__(self, model: MapModel, bounds: QRectF) -> None:
        super().__init__(bounds)
        self.model = model

    def draw(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        for vid, result in self.model.rollcall.items():
            place = self.model.villages[vid]
            d = tr.map(scene_point(place.at))
            d = QPointF(d.x(), d.y() - 18)  # above the village's name
            colour = ROLL_OK if result.reached else ROLL_MISSED
            painter.setPen(QPen(colour, 2.0))
            painter.setBrush(QColor("white"))
            painter.drawEllipse(d, 8.0, 8.0)
            painter.setPen(colour)
            painter.drawText(
                QRectF(d.x() - 8, d.y() - 8, 16, 16),
                Qt.AlignmentFlag.AlignCenter,
                "✓" if result.reached else "✗",
            )
        return len(self.model.rollcall)


LEADER = QColor("#0a7f8f")
LEADER_FADED = 0.4
"""The opacity of a leader's position older than half the age limit."""


class LeaderLayer(PointLayer):
    """Grid leaders' last shared positions: a marker and "name time（本人同意共享）",
    faded (`LEADER_FADED`) when older than half the age limit."""

    BOLD = False

    def __init__(self, model: MapModel, bounds: QRectF, text: Callable[[str, str], str]) -> None:
        super().__init__(bounds)
        self.model = model
        self._text = text

    def draw(self, painter: QPainter, tr: QTransform, area: QRectF) -> int:
        opacity = painter.opacity()
        for mark in self.model.leaders.values():
            d = tr.map(scene_point(mark.at))
            painter.setOpacity(opacity * (LEADER_FADED if mark.faded else 1.0))
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(LEADER)
            painter.drawPolygon(
                QPolygonF(
                    [
                        QPointF(d.x(), d.y()),
                        QPointF(d.x() - 6, d.y() - 14),
                        QPointF(d.x() + 6, d.y() - 14),
                    ]
                )
            )
            painter.setPen(LEADER)
            # drawText is plain text; direction controls shown, not obeyed
            text = inert_bidi(self._text(mark.name, mark.when))
            painter.drawText(QPointF(d.x() + 8, d.y() - 6), text)
        return len(self.model.leaders)
