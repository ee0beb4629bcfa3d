"""The map view: a QGraphicsView over the site's geometry, cameras and events.

Wheel and +/- zoom under the mouse, arrows and a left drag pan, Home fits the county,
Shift+drag draws a rectangle whose cameras are `camerasPicked`. A click on a camera is
`cameraClicked(id)`, on an event (or a cluster: its first member) `eventClicked(id)`;
the context menu of an event offers "派单…" (`dispatchRequested(id)`).
The view observes its `MapModel` (`console.kit.qt_observe.follow`) and holds no state
beyond what it draws and which events flash.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QWidget,
)

from console.kit.plain import plain_tooltip
from console.kit.qt_observe import follow
from console.map.items import (
    TOWN_FILL,
    CameraLayer,
    EventLayer,
    LeaderLayer,
    MarkLayer,
    RollcallLayer,
    grid_item,
    label,
    polygon,
    scene_point,
)
from console.map.model import Layer, MapModel
from console.map.overlay import paint_legend, paint_scale_bar
from console.map.projection import scale_factor, world_to_lonlat
from console.map.strings import t

FLASH_S = 10.0
"""How long a new red event flashes."""
GRID_OPACITY_ON_TILES = 0.55
"""How opaque the grids are over base tiles."""
MIN_SCALE, MAX_SCALE = 1e-4, 20.0  # pixels per world metre


class MapView(QGraphicsView):
    cameraClicked = Signal(str)
    eventClicked = Signal(str)
    camerasPicked = Signal(list)
    dispatchRequested = Signal(str)

    def __init__(self, model: MapModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapView")
        self.model = model
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(Qt.GlobalColor.white)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self._flash_until: dict[str, float] = {}
        self._events_version = model.events_version  # the markers' version drawn
        self.painted_hook: Callable[[], None] | None = None
        """Called after each repaint of the viewport (the benchmark times markers by it)."""
        self._pick: QRectF | None = None
        self._fitted = False  # the county is fitted at the first real size
        self._layers: dict[Layer, list[QGraphicsItem]] = {layer: [] for layer in Layer}
        self._build()
        self._flasher = QTimer(self)
        self._flasher.setInterval(300)
        self._flasher.timeout.connect(self._flash_step)
        self.rubberBandChanged.connect(self._on_band)
        follow(self, model.layers_changed, self._apply_layer)
        follow(self, model.cameras_changed, lambda _ids: self.cameras.invalidate())
        follow(self, model.events_changed, lambda _v: self._events_changed())
        follow(self, model.highlight_changed, lambda _ids: self.marks.update())
        follow(self, model.hotspots_changed, lambda _ids: self._shade_hotspots())
        follow(self, model.flash, self.start_flash)
        follow(self, model.rollcall_changed, lambda _: self.roll.update())
        follow(self, model.leaders_changed, lambda _: self.leaders.update())

    # ------------------------------------------------------------ building
    def _build(self) -> None:
        scene = self.scene()
        minx, miny, maxx, maxy = self.model.bounds()
        bounds = QRectF(minx, -maxy, maxx - minx, maxy - miny)
        pad = max(bounds.width(), bounds.height(), 100.0)
        scene.setSceneRect(bounds.adjusted(-pad, -pad, pad, pad))
        towns = sorted({g.township for g in self.model.grids})
        fills = {tid: TOWN_FILL[i % len(TOWN_FILL)] for i, tid in enumerate(towns)}
        self.grid_items: dict[str, QGraphicsPolygonItem] = {}
        for g in self.model.grids:
            item = grid_item(g.ring, fills.get(g.township, TOWN_FILL[0]))
            tip = g.name + ("\n" + t("leader", name=g.leader) if g.leader else "")
            item.setToolTip(plain_tooltip(tip))
            scene.addItem(item)
            self.grid_items[g.id] = item
            self._layers[Layer.GRIDS].append(item)
        if len(self.model.outline) >= 3:
            outline = scene.addPolygon(polygon(self.model.outline))
            pen = outline.pen()
            pen.setWidthF(2.0)
            pen.setCosmetic(True)
            pen.setColor(Qt.GlobalColor.darkGray)
            pen.setStyle(Qt.PenStyle.DashLine)
            outline.setPen(pen)
            self._layers[Layer.OUTLINE].append(outline)
        for place in self.model.places:
            if place.kind not in ("township", "village"):
                continue
            town = place.kind == "township"
            colour = "#203040" if town else "#404850"
            text = label(place.name, 12 if town else 9, colour, bold=town, above=town)
            text.setPos(scene_point(place.at))
            text.setZValue(5 if town else 4)
            scene.addItem(text)
            self._layers[Layer.TOWNSHIPS if town else Layer.LABELS].append(text)
        self.events = EventLayer(self.model, bounds)
        self.events.setZValue(20)
        self.marks = MarkLayer(self.model, bounds, self.flashing)
        self.marks.setZValue(21)
        self.cameras = CameraLayer(self.model, bounds)
        self.cameras.setZValue(10)
        scene.addItem(self.cameras)
        scene.addItem(self.events)
        scene.addItem(self.marks)
        self._layers[Layer.CAMERAS].append(self.cameras)
        self._layers[Layer.EVENTS] += [self.events, self.marks]
        self.roll = RollcallLayer(self.model, bounds)
        self.roll.setZValue(15)
        scene.addItem(self.roll)
        self._layers[Layer.ROLLCALL].append(self.roll)
        self.leaders = LeaderLayer(
            self.model, bounds, lambda name, when: t("leader_at", name=name, when=when)
        )
        self.leaders.setZValue(12)
        scene.addItem(self.leaders)
        self._layers[Layer.LEADERS].append(self.leaders)
        self._shade_hotspots()

    def _events_changed(self) -> None:
        self.events.markers_changed(self.model.event_changes, self._events_version)
        self._events_version = self.model.events_version
        self.marks.update()

    def set_base(self, item: QGraphicsItem) -> None:
        """Put the base tiles (`console.map.tiles.TileLayer`) under the geometry; the
        grids turn translucent so that the tiles show through."""
        item.setZValue(-100)
        item.setVisible(self.model.layers[Layer.BASE])
        self.scene().addItem(item)
        self._layers[Layer.BASE].append(item)
        for grid in self.grid_items.values():
            grid.setOpacity(GRID_OPACITY_ON_TILES)

    def _apply_layer(self, layer: Layer) -> None:
        for item in self._layers[layer]:
            item.setVisible(self.model.layers[layer])
        if layer is Layer.HOTSPOTS:
            self._shade_hotspots()
        self.viewport().update()  # the legend shows the rows of the layers switched on

    def _shade_hotspots(self) -> None:
        on = self.model.layers[Layer.HOTSPOTS]
        for gid, item in self.grid_items.items():
            hot = on and gid in self.model.hotspots
            brush = item.brush()
            brush.setStyle(Qt.BrushStyle.BDiagPattern if hot else Qt.BrushStyle.SolidPattern)
            item.setBrush(brush)
            item.setZValue(1 if hot else 0)
            if hot:
                pen = item.pen()
                pen.setColor(Qt.GlobalColor.red)
                item.setPen(pen)

    # ------------------------------------------------------------ zoom and pan
    @property
    def scale_px_per_m(self) -> float:
        return self.transform().m11()

    def fit_county(self) -> None:
        minx, miny, maxx, maxy = self.model.bounds()
        rect = QRectF(minx, -maxy, maxx - minx, maxy - miny)
        self.fitInView(rect.adjusted(-200, -200, 200, 200), Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        s = self.scale_px_per_m
        factor = max(MIN_SCALE / s, min(MAX_SCALE / s, factor))
        self.scale(factor, factor)

    def centre_on_world(self, x: float, y: float, scale: float | None = None) -> None:
        if scale is not None:
            self.zoom(scale / self.scale_px_per_m)
        self.centerOn(QPointF(x, -y))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._fitted and self.viewport().width() > 50 and self.viewport().height() > 50:
            self._fitted = True
            self.fit_county()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.25 ** (event.angleDelta().y() / 120.0))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom(0.8)
        elif key == Qt.Key.Key_Home:
            self.fit_county()
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------ clicks and picks
    def mousePressEvent(self, event: QMouseEvent) -> None:
        shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        if event.button() == Qt.MouseButton.LeftButton and shift:
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        elif event.button() == Qt.MouseButton.LeftButton and self.click(event.position()):
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self.dragMode() == QGraphicsView.DragMode.RubberBandDrag:
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            if self._pick is not None:
                self.pick(self._pick)
            self._pick = None

    def _on_band(self, rect: QRect, from_scene: QPointF, to_scene: QPointF) -> None:
        if not rect.isNull():
            self._pick = QRectF(from_scene, to_scene).normalized()

    def click(self, pos: QPointF) -> bool:
        """A click at viewport `pos`: a camera or an event under it; True if one was."""
        at = self.mapToScene(pos.toPoint())
        s = self.scale_px_per_m
        event_id = self.event_at(pos)
        if event_id is not None:
            self.eventClicked.emit(event_id)
            return True
        if self.model.layers[Layer.CAMERAS]:
            cam = self.cameras.hit(at, s)
            if cam is not None:
                self.cameraClicked.emit(cam)
                return True
        return False

    def show_event(self, event_id: str) -> None:
        """Scroll so that the event's marker is in view (the queue selected it)."""
        marker = self.model.events.get(event_id)
        if marker is not None:
            self.ensureVisible(QRectF(scene_point(marker.at), scene_point(marker.at)), 40, 40)

    def event_at(self, pos: QPointF) -> str | None:
        """The event (a cluster's first) under viewport `pos`, if the layer is on."""
        if not self.model.layers[Layer.EVENTS]:
            return None
        ids = self.events.hit(self.mapToScene(pos.toPoint()), self.scale_px_per_m)
        return ids[0] if ids else None

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event_id = self.event_at(QPointF(event.pos()))
        if event_id is None:
            super().contextMenuEvent(event)
            return
        menu = QMenu(self)
        menu.addAction(t("dispatch"), lambda: self.dispatchRequested.emit(event_id))
        menu.exec(event.globalPos())

    def pick(self, scene_rect: QRectF) -> list[str]:
        """The cameras inside a scene rectangle, emitted as `camerasPicked` if any."""
        r = scene_rect.normalized()
        ids = self.model.cameras_in(r.left(), -r.bottom(), r.right(), -r.top())
        if ids:
            self.camerasPicked.emit(ids)
        return ids

    # ------------------------------------------------------------ flashing
    def flashing(self) -> set[str]:
        now = time.monotonic()
        return {eid for eid, until in self._flash_until.items() if until > now}

    def start_flash(self, event_id: str) -> None:
        self._flash_until[event_id] = time.monotonic() + FLASH_S
        if not self._flasher.isActive():
            self._flasher.start()
        self.marks.update()

    def _flash_step(self) -> None:
        now = time.monotonic()
        self._flash_until = {e: u for e, u in self._flash_until.items() if u > now}
        self.marks.flash_on = not self.marks.flash_on
        if not self._flash_until:
            self._flasher.stop()
            self.marks.flash_on = True
        self.marks.update()

    # ------------------------------------------------------------ overlay
    def ground_m_per_px(self) -> float:
        centre = self.mapToScene(self.viewport().rect().center())
        _lon, lat = world_to_lonlat(centre.x(), -centre.y())
        return 1.0 / self.scale_px_per_m / scale_factor(lat)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.painted_hook is not None:
            self.painted_hook()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.save()
        painter.resetTransform()
        vp = self.viewport().rect()
        paint_scale_bar(painter, QPointF(16, vp.height() - 16), self.ground_m_per_px())
        paint_legend(painter, vp.width() - 6, vp.height() - 6, self.model.layers)
        painter.restore()
