"""The wall view: lays out the tiles of the current page and pulls frames at 50 Hz.

It observes the WallModel (layout, page, assignments, maximised tile, status lines,
shed tiles) and sends the officer's intents to the WallController. The display
timer takes the newest frame of each visible tile (never a queue) and measures its
own lateness, which the controller uses to shed load. The view paints every tile
itself, in one paintEvent for the region Qt repaints (the tiles are transparent
widgets for the gestures: see `console.wall.tile`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QRegion, QResizeEvent
from PySide6.QtWidgets import QMenu, QWidget

from console.kit import i18n
from console.kit.i18n import tr
from console.kit.observable import Subscription
from console.wall.controller import EvidenceResult, WallController
from console.wall.model import Change, ChangeKind
from console.wall.shapes import cell_rects
from console.wall.tile import BACKGROUND, TileWidget
from streams.ingest.types import CameraStatus, Frame

# The timer polls at twice the cameras' 25 fps: a frame then waits at most ~20 ms for
# its paint, and fewer are overwritten unseen than with a 25 Hz poll beating against
# 25 fps sources (measured with tests/bench/wall.py: painted fps 22 -> 24 at 16 tiles,
# dropped frames 1188 -> 470, console CPU 92 % -> 85 %). A tick without a new frame paints nothing.
DISPLAY_HZ = 50


class _Bridge(QObject):
    """Carries callbacks from decode and worker threads to the GUI thread (queued)."""

    status = Signal(int, object)
    evidence = Signal(object)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


class WallView(QWidget):
    message = Signal(str)  # for the status bar
    shedChanged = Signal(int)  # tiles on key frames only
    evidenceSaved = Signal(object)  # EvidenceResult

    def __init__(self, controller: WallController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wallView")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills it all
        self._gaps = QRegion()  # the wall's area no tile covers
        # the shown tiles with their geometry, kept by the layout: the paint and the
        # display timer ask Qt nothing per tile (each call into Qt takes the GIL back)
        self._shown: list[tuple[TileWidget, QRect, int, int]] = []
        self.controller = controller
        self.model = controller.model
        self.tiles: list[TileWidget] = []
        # others add entries to a tile's menu (e.g. "抓拍并附加到事件"): fn(menu, slot, live)
        self.menu_extenders: list[Callable[[QMenu, int, bool], None]] = []
        self._bridge = _Bridge(self)
        self._bridge.status.connect(self._on_status)
        self._bridge.evidence.connect(self._on_evidence)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(1000 // DISPLAY_HZ)
        self._timer.timeout.connect(self.tick)
        self._last_tick: float | None = None
        self._lateness: deque[float] = deque(maxlen=DISPLAY_HZ)
        self._ticks = 0
        self.painted_hook: Callable[[int, Frame], None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._controller_subs: list[Subscription] = []
        self._lang_sub: Subscription | None = None
        self._status_cb = self._bridge.status.emit
        self._evidence_cb = self._bridge.evidence.emit

    # -- life ------------------------------------------------------------------
    def start(self) -> None:
        """Observe the model and the controller, and run the display timer; idempotent."""
        if self._unsubscribe is not None:
            return
        self._unsubscribe = self.model.changed.connect(self._on_model).disconnect
        self._lang_sub = i18n.on_change(self._retranslate)
        self._controller_subs = [
            self.controller.status_changed.connect(lambda s: self._status_cb(s.slot, s.status)),
            self.controller.evidence_saved.connect(self._evidence_cb),
        ]
        self._rebuild()
        self._timer.start()

    def stop(self) -> None:
        if self._unsubscribe is None:
            return
        self._timer.stop()
        self._unsubscribe()
        self._unsubscribe = None
        if self._lang_sub is not None:
            self._lang_sub.disconnect()
            self._lang_sub = None
        for sub in self._controller_subs:
            sub.disconnect()

    # -- model → tiles ---------------------------------------------------------
    def _on_model(self, change: Change) -> None:
        kind = change.kind
        if kind is ChangeKind.ASSIGNMENT and change.slot is not None:
            tile = self.tile_for(change.slot)
            if tile is not None:
                self._show_camera(tile)
        elif kind is ChangeKind.STATUS_LINE:
            for tile in self.tiles:
                tile.set_status_visible(self.model.status_visible)
        elif kind is ChangeKind.SHED:
            self._apply_shed()
        else:
            self._rebuild()

    def tile_for(self, slot: int) -> TileWidget | None:
        """The shown tile of `slot` (from the layout's list: no call into Qt a tile)."""
        for tile, _geo, _x, _y in self._shown:
            if tile.slot == slot:
                return tile
        return None

    def _show_camera(self, tile: TileWidget) -> None:
        cam = self.model.camera(tile.slot)
        tile.set_camera(cam, self.controller.name(cam) if cam else "")
        tile.set_missing(cam is not None and not self.controller.known(cam))
        tile.set_status(self.controller.status(tile.slot) if cam else None)

    def _rebuild(self) -> None:
        slots = self.model.visible_slots()
        while len(self.tiles) < len(slots):
            tile = TileWidget(-1, self)
            tile.doubleClicked.connect(self.controller.toggle_maximise)
            tile.menuRequested.connect(self._menu)
            tile.cameraDropped.connect(self.controller.assign)
            tile.resized.connect(self._tile_resized)
            self.tiles.append(tile)
        for i, tile in enumerate(self.tiles):
            if i < len(slots):
                tile.slot = slots[i]
                tile.on_painted = self._painted
                tile.set_status_visible(self.model.status_visible)
                self._show_camera(tile)
                tile.show()
            else:
                tile.hide()
                tile.set_camera(None, "")
        self._layout_tiles()
        self._apply_shed()

    def _layout_tiles(self) -> None:
        w, h = self.width(), self.height()
        if self.model.maximised is not None:
            rects = [(0, 0, w - w % 2, h - h % 2)]
        else:
            rects = cell_rects(self.model.shape, w, h)
        gaps = QRegion(self.rect())
        shown = []
        for tile, (x, y, tw, th) in zip(self.tiles, rects, strict=False):
            tile.setGeometry(x, y, tw, th)
            gaps -= QRegion(x, y, tw, th)
            self.controller.set_tile_size(tile.slot, tw, th)
            if not tile.isHidden():
                shown.append((tile, QRect(x, y, tw, th), x, y))
        self._gaps = gaps
        self._shown = shown
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Every tile in the region to repaint, and the gaps between tiles."""
        region = event.region()
        p = QPainter(self)
        for rect in self._gaps.intersected(region):  # type: ignore[attr-defined]
            p.fillRect(rect, BACKGROUND)
        for tile, geo, x, y in self._shown:
            if region.intersects(geo):
                p.translate(x, y)
                tile.paint(p)
                p.translate(-x, -y)
        p.end()

    def _apply_shed(self) -> None:
        shed = self.model.shed
        for tile in self.tiles:
            tile.set_shed(tile.slot in shed and not tile.isHidden())
        self.shedChanged.emit(len(shed))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout_tiles()

    def _tile_resized(self, slot: int, width: int, height: int) -> None:
        self.controller.set_tile_size(slot, width, height)

    def _retranslate(self) -> None:
        for tile in self.tiles:
            tile.retranslate()

    def _painted(self, slot: int, frame: Frame) -> None:
        if self.painted_hook is not None:
            self.painted_hook(slot, frame)

    # -- status from decode threads (queued) -----------------------------------
    def _on_status(self, slot: int, status: object) -> None:
        if not isinstance(status, CameraStatus):
            return
        tile = self.tile_for(slot)
        if tile is not None and tile.camera_id == status.camera_id:
            tile.set_status(status)

    def _on_evidence(self, result: object) -> None:
        if not isinstance(result, EvidenceResult):
            return
        if result.no_space:
            folder = str(self.controller.evidence_dir)
            self.message.emit(tr("status.evidence_no_space", folder=folder))
        elif result.error is not None:
            self.message.emit(tr("status.evidence_failed", error=result.error))
        elif result.kind == "snapshot":
            self.message.emit(tr("status.snapshot_saved", path=str(result.path)))
        else:
            self.message.emit(tr("status.clip_saved", path=str(result.path)))
        self.evidenceSaved.emit(result)

    # -- the display timer ---------------------------------------------------
    def tick(self) -> None:
        now = time.monotonic()
        if self._last_tick is not None:
            late = (now - self._last_tick) * 1000.0 - self._timer.interval()
            self._lateness.append(max(0.0, late))
        self._last_tick = now
        self.controller.tick()
        for tile, _geo, _x, _y in self._shown:
            frame = self.controller.take(tile.slot)
            if frame is not None:
                tile.set_frame(frame)
        self._ticks += 1
        if self._ticks % (DISPLAY_HZ // 2) == 0:
            for tile in self.tiles:
                if not tile.isHidden():
                    tile.refresh_countdown()
        if self._ticks % DISPLAY_HZ == 0:
            self.controller.observe_lag(percentile(list(self._lateness), 0.9))

    # -- intents ---------------------------------------------------------------
    def _menu(self, slot: int, pos: QPoint) -> None:
        menu = self.build_menu(slot)
        menu.exec(pos)
        menu.deleteLater()

    def build_menu(self, slot: int) -> QMenu:
        menu = QMenu(self)
        has_camera = self.model.camera(slot) is not None
        live = slot in self.controller.live_slots()
        snap = menu.addAction(tr("menu.snapshot"))
        snap.setEnabled(live)
        snap.triggered.connect(lambda: self.snapshot(slot))
        clip = menu.addAction(tr("menu.clip"))
        clip.setEnabled(live)
        clip.triggered.connect(lambda: self.save_clip(slot))
        for extend in list(self.menu_extenders):
            extend(menu, slot, live)
        menu.addSeparator()
        maxi = menu.addAction(tr("menu.maximise"))
        maxi.setEnabled(has_camera)
        maxi.triggered.connect(lambda: self.controller.toggle_maximise(slot))
        close = menu.addAction(tr("menu.close"))
        close.setEnabled(has_camera)
        close.triggered.connect(lambda: self.controller.close(slot))
        return menu

    def snapshot(self, slot: int) -> None:
        self.controller.snapshot(slot)

    def save_clip(self, slot: int) -> None:
        cam = self.model.camera(slot)
        if self.controller.save_clip(slot) is not None and cam is not None:
            self.message.emit(tr("status.saving_clip", name=self.controller.name(cam)))
