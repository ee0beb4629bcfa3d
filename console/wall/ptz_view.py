"""PTZ on the wall's tiles (Qt): the controls and the holder painted on a PTZ camera's
tile, the gestures turned into intents, and the tile menu's PTZ entries.

Minimal hooks into the wall: each tile's `extra_paint`, an event filter per tile (added
as tiles are made: the view's ChildAdded), and `WallView.menu_extenders`. On a PTZ
tile, a left-button drag pans and tilts (speed follows the drag, stop on release), the
arrow keys do the same while the tile has focus, the wheel zooms. Nothing here does
I/O: `PtzController` gets the intent.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from console.kit.observable import Subscription
from console.kit.plain import inert_bidi
from console.wall.ptz_controller import PtzController
from console.wall.ptz_model import PtzModel
from console.wall.ptz_strings import tr
from console.wall.tile import TileWidget
from console.wall.view import WallView
from streams.ptz.intent import drag_speed, keys_speed

HELD = QColor(200, 110, 0, 220)
MINE = QColor(20, 140, 70, 220)
ERROR = QColor(190, 40, 40, 220)
PAD = QColor(0, 0, 0, 120)
PAD_LINE = QColor(230, 236, 244, 200)
KEYS = {
    Qt.Key.Key_Left: "left",
    Qt.Key.Key_Right: "right",
    Qt.Key.Key_Up: "up",
    Qt.Key.Key_Down: "down",
}


def _label(p: QPainter, text: str, colour: QColor, x_right: int, y: int) -> None:
    text = inert_bidi(text)
    w = p.fontMetrics().horizontalAdvance(text) + 14
    box = QRect(x_right - w, y, w, 22)
    p.fillRect(box, colour)
    p.setPen(QColor(255, 255, 255))
    p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)


def paint_pad(p: QPainter, r: QRect) -> None:
    """The PTZ pad, bottom right above the status line: four arrows, zoom + and −."""
    size = max(44, min(72, r.height() // 5))
    cx, cy = r.right() - size // 2 - 10, r.bottom() - size // 2 - 30
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QPen(PAD_LINE, 1.2))
    p.setBrush(PAD)
    p.drawEllipse(QPointF(cx, cy), size / 2, size / 2)
    p.setBrush(PAD_LINE)
    a, b = size * 0.42, size * 0.12
    for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        tip = QPointF(cx + dx * a, cy + dy * a)
        base = QPointF(cx + dx * (a - b * 1.6), cy + dy * (a - b * 1.6))
        side = QPointF(-dy * b, dx * b)
        p.drawPolygon(QPolygonF([tip, base + side, base - side]))
    p.setBrush(Qt.BrushStyle.NoBrush)
    font = QFont(p.font())
    font.setPixelSize(max(10, size // 6))
    p.setFont(font)
    p.drawText(
        QRect(int(cx - size / 2), int(cy - size / 6), size, size // 3),
        int(Qt.AlignmentFlag.AlignCenter),
        tr("pad"),
    )
    zoom = QRect(int(cx - size / 2) - 26, int(cy - size / 2), 20, size)
    p.setPen(QPen(PAD_LINE, 1.2))
    p.setBrush(PAD)  # readable over a bright picture
    p.drawRoundedRect(zoom, 4, 4)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawText(QRect(zoom.x(), zoom.y(), 20, size // 2), int(Qt.AlignmentFlag.AlignCenter), "+")
    p.drawText(
        QRect(zoom.x(), zoom.y() + size // 2, 20, size // 2), int(Qt.AlignmentFlag.AlignCenter), "−"
    )
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)


class PtzTiles(QObject):
    """Attaches PTZ to a wall view's tiles; `attach()` and `detach()` safe twice."""

    def __init__(self, view: WallView, controller: PtzController, model: PtzModel) -> None:
        super().__init__(view)
        self.view = view
        self.controller = controller
        self.model = model
        self._font = QFont(view.font())
        self._font.setPixelSize(13)
        self._drag_from: dict[int, QPoint] = {}
        self._keys: dict[int, set[str]] = {}
        self._attached = False
        self._sub: Subscription | None = None

    def attach(self) -> None:
        if self._attached:
            return
        self._attached = True
        self.view.installEventFilter(self)
        for tile in self.view.tiles:
            self._adopt(tile)
        self.view.menu_extenders.append(self._extend_menu)
        self._sub = self.model.changed.connect(self._repaint)

    def detach(self) -> None:
        if not self._attached:
            return
        self._attached = False
        self.view.removeEventFilter(self)
        for tile in self.view.tiles:
            tile.removeEventFilter(self)
            tile.extra_paint = None
        if self._extend_menu in self.view.menu_extenders:
            self.view.menu_extenders.remove(self._extend_menu)
        if self._sub is not None:
            self._sub.disconnect()

    def _adopt(self, tile: TileWidget) -> None:
        tile.extra_paint = self.paint
        tile.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        tile.installEventFilter(self)

    def _repaint(self, camera_id: str) -> None:
        for tile in self.view.tiles:
            if tile.camera_id == camera_id:
                self.view.update(tile.geometry())

    # -- painting ---------------------------------------------------------------------
    def paint(self, tile: TileWidget, p: QPainter, r: QRect) -> None:
        state = self.model.state(tile.camera_id)
        if state is None:
            return
        p.save()
        p.setFont(self._font)
        paint_pad(p, r)
        y = max(30, r.height() // 20 + 8)  # below the stamp strip
        if state.holder is not None and not state.mine:
            _label(p, tr("held", operator=state.holder), HELD, r.right() - 6, y)
            y += 26
        elif state.mine:
            _label(p, tr("mine"), MINE, r.right() - 6, y)
            y += 26
        if state.error:
            _label(p, state.error[:80], ERROR, r.right() - 6, y)
        p.restore()

    # -- gestures ---------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view:
            if event.type() == QEvent.Type.ChildAdded:
                child = event.child()  # type: ignore[attr-defined]
                if isinstance(child, TileWidget):
                    self._adopt(child)
            return False
        if not isinstance(watched, TileWidget) or not self.controller.is_ptz(watched.camera_id):
            return False
        return self._gesture(watched, event)

    def _gesture(self, tile: TileWidget, event: QEvent) -> bool:
        cam = tile.camera_id
        assert cam is not None
        kind = event.type()
        key = id(tile)
        if kind == QEvent.Type.MouseButtonPress:
            ev = event if isinstance(event, QMouseEvent) else None
            if ev is None or ev.button() != Qt.MouseButton.LeftButton:
                return False
            self._drag_from[key] = ev.position().toPoint()
            self.controller.begin(cam)
            return False  # a press also focuses the tile (arrow keys)
        if (
            kind == QEvent.Type.MouseMove
            and key in self._drag_from
            and isinstance(event, QMouseEvent)
        ):
            d = event.position().toPoint() - self._drag_from[key]
            self.controller.drag(cam, drag_speed(d.x(), d.y(), tile.width(), tile.height()))
            return True
        if kind == QEvent.Type.MouseButtonRelease and key in self._drag_from:
            del self._drag_from[key]
            self.controller.end(cam)
            return False
        if kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            self.controller.wheel(cam, event.angleDelta().y())
            return True
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(event, QKeyEvent):
            return self._key(tile, cam, event)
        return False

    def _key(self, tile: TileWidget, cam: str, event: QKeyEvent) -> bool:
        name = KEYS.get(Qt.Key(event.key()))
        if name is None:
            return False
        if event.isAutoRepeat():
            return True
        held = self._keys.setdefault(id(tile), set())
        if event.type() == QEvent.Type.KeyPress:
            if not held:
                self.controller.begin(cam)
            held.add(name)
            self.controller.drag(cam, keys_speed(held))
        else:
            held.discard(name)
            if held:
                self.controller.drag(cam, keys_speed(held))
            else:
                self.controller.end(cam)
        return True

    # -- the tile menu ----------------------------------------------------------------
    def _extend_menu(self, menu: QMenu, slot: int, _live: bool) -> None:
        cam = self.view.model.camera(slot)
        state = self.model.state(cam)
        if cam is None or state is None:
            return
        self.controller.refresh_presets(cam)
        sub = menu.addMenu(tr("menu"))
        goto = sub.addMenu(tr("menu.goto"))
        if not state.presets:
            goto.addAction(tr("menu.none")).setEnabled(False)
        for preset in state.presets:
            act = goto.addAction(inert_bidi(preset.name or preset.token))
            act.triggered.connect(
                lambda _=False, t=preset.token, n=preset.name: self.controller.goto(cam, t, n)
            )
        sub.addAction(tr("menu.save")).triggered.connect(lambda: self._ask_save(cam))
        sub.addAction(tr("menu.takeover")).triggered.connect(lambda: self.controller.takeover(cam))
        sub.addAction(tr("menu.release")).triggered.connect(lambda: self.controller.release(cam))

    def _ask_save(self, cam: str) -> None:
        parent: QWidget = self.view
        name, ok = QInputDialog.getText(parent, tr("save.title"), tr("save.label"))
        name = name.strip()[:64]
        if ok and name:
            self.controller.save(cam, name)
