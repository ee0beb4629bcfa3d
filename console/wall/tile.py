"""One tile of the wall: the newest frame 1:1, the state words and the status line.

A view only: it never decodes, never does I/O. It reports the officer's gestures
(double-click, right-click, a camera dropped on it, its new size) as signals.

The tile does not paint itself: it has no `paintEvent` and is transparent, so Qt
paints the wall (`WallView.paintEvent`) beneath it, and the wall calls `paint` for
every tile in the region to repaint. Measured on 36 tiles with 36 busy threads
beside the GUI thread: a repaint of the whole wall took 36 ms with a paintEvent per
tile (each one a call from Qt into Python, which must take the GIL back from the
decode threads) and 16 ms with one paintEvent for the wall. `picture()` renders the
tile alone (tests, screenshots).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from console.kit.i18n import tr
from console.kit.plain import inert_bidi, plain_static_text, set_plain_tooltip
from console.wall.frames import frame_qimage
from console.wall.status_text import is_live, state_text, status_line, tooltip
from streams.ingest.types import CameraState, CameraStatus, Frame

CAMERA_MIME = "application/x-hall-camera"

BACKGROUND = QColor(8, 10, 14)
BORDER = QColor(40, 48, 60)
BAR = QColor(0, 0, 0, 150)

TEXT = QColor(230, 236, 244)
WARN = QColor(255, 190, 60)
BAD = QColor(255, 96, 96)
DROP = QColor(60, 150, 255)
BORDER_PEN = QPen(BORDER, 1)
DROP_PEN = QPen(DROP, 2)
LINE_H = 20  # the status line's bar at the bottom of the tile


def premultiplied(colour: QColor) -> int:
    """The colour's ARGB32_Premultiplied pixel value (for `QImage.fill(int)`)."""
    a = colour.alpha()
    r, g, b = ((c * a + 127) // 255 for c in (colour.red(), colour.green(), colour.blue()))
    return (a << 24) | (r << 16) | (g << 8) | b


BAR_PIXEL = premultiplied(BAR)


class TileWidget(QWidget):
    doubleClicked = Signal(int)
    menuRequested = Signal(int, QPoint)
    cameraDropped = Signal(int, str)
    resized = Signal(int, int, int)

    def __init__(self, slot: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot = slot
        # transparent and without a paintEvent: the wall paints it (see the module doc)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAcceptDrops(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setObjectName("wallTile")
        self._frame: Frame | None = None
        self._camera_id: str | None = None
        self._name = ""
        self._status: CameraStatus | None = None
        self._status_at = 0.0
        self._shed = False
        self._missing = False  # the camera is not in the site (any more)
        self._status_visible = True
        self._drag_over = False
        self._line = plain_static_text()
        self._line_dirty = True
        self._bar: QImage | None = None  # the status line drawn once, painted as a picture
        self._bar_text = ""
        self._age_ms: float | None = None
        self._age_shown_at = 0.0
        self._tip_key: tuple[object, ...] = ()
        self.paints = 0
        self.on_painted: Callable[[int, Frame], None] | None = None
        self.extra_paint: Callable[[TileWidget, QPainter, QRect], None] | None = None
        font = QFont(self.font())
        font.setPixelSize(12)
        self._line_font = font
        big = QFont(self.font())
        big.setPixelSize(22)
        big.setBold(True)
        self._big_font = big

    # -- state from the view ---------------------------------------------------
    def set_camera(self, camera_id: str | None, name: str) -> None:
        if camera_id != self._camera_id:
            self._frame = None
            self._status = None
            self._age_ms = None
        self._camera_id = camera_id
        self._name = name
        self._line_dirty = True
        self._refresh_tooltip()
        self.update()

    def set_missing(self, missing: bool) -> None:
        """The tile's camera is not in the site: an empty tile with a note, no status line."""
        if missing != self._missing:
            self._missing = missing
            self.update()

    @property
    def camera_id(self) -> str | None:
        return self._camera_id

    @property
    def frame(self) -> Frame | None:
        return self._frame

    @property
    def status(self) -> CameraStatus | None:
        return self._status

    def set_status(self, status: CameraStatus | None) -> None:
        old = self._status
        self._status = status
        self._status_at = time.monotonic()
        self._line_dirty = True
        self._refresh_tooltip()
        flowing = (
            old is not None
            and status is not None
            and old.state is status.state is CameraState.LIVE
            and old.stream == status.stream
            and self._frame is not None
            and not self._shed
        )
        if not flowing:
            # a live tile's fresh stats (twice a second) show with its next frame, within
            # 40 ms: no repaint of their own (at 36 tiles 72 paints a second fewer)
            self.update()

    def _shown_status(self) -> CameraStatus | None:
        """The status with the retry countdown brought up to now."""
        st = self._status
        if st is None or st.retry_in_s is None:
            return st
        left = max(0.0, st.retry_in_s - (time.monotonic() - self._status_at))
        return replace(st, retry_in_s=left)

    def refresh_countdown(self) -> None:
        """Repaint a tile that counts down to its next retry (the view calls it twice a second)."""
        if self._status is not None and self._status.retry_in_s is not None:
            self._line_dirty = True
            self.update()

    @property
    def shed(self) -> bool:
        """The tile decodes key frames only (the wall is shedding load)."""
        return self._shed

    def set_shed(self, shed: bool) -> None:
        if shed != self._shed:
            self._shed = shed
            self._line_dirty = True
            self._refresh_tooltip()
            self.update()

    def set_status_visible(self, visible: bool) -> None:
        if visible != self._status_visible:
            self._status_visible = visible
            self.update()

    def retranslate(self) -> None:
        self._line_dirty = True
        self._tip_key = ()
        self._refresh_tooltip()
        self.update()

    def set_frame(self, frame: Frame) -> None:
        old = self._frame
        self._frame = frame
        if old is None or (old.source_width, old.width, old.height) != (
            frame.source_width,
            frame.width,
            frame.height,
        ):
            self._refresh_tooltip()
        now = time.monotonic()
        if now - self._age_shown_at >= 0.5:  # the status line changes twice a second
            self._age_ms = max(0.0, (now - frame.decoded_at) * 1000.0)
            self._age_shown_at = now
            self._line_dirty = True
        self.update()

    def _refresh_tooltip(self) -> None:
        """Which stream the tile shows, at what size (set only when that changes)."""
        st, f = self._status, self._frame
        key = (
            self._name,
            st.stream if st is not None else "",
            None if f is None else (f.source_width, f.source_height, f.width, f.height),
            self._shed,
        )
        if key != self._tip_key:
            self._tip_key = key
            text = tooltip(self._name, st, f, self._shed) if self._camera_id else ""
            set_plain_tooltip(self, text)

    def tooltip_text(self) -> str:
        """The tooltip as set (plain text; tests read it)."""
        return tooltip(self._name, self._status, self._frame, self._shed)

    def status_text(self) -> str:
        """The status line as shown (tests read it)."""
        return status_line(self._name, self._shown_status(), self._age_ms, self._shed)

    def overlay_text(self) -> str | None:
        """The big words over the picture when the camera is not live, else None."""
        if self._camera_id is None:
            return tr("tile.empty")
        if self._missing:
            return tr("tile.missing", camera=inert_bidi(self._camera_id))
        if is_live(self._status) and self._frame is not None:
            return None
        if self._status is None or self._status.state is CameraState.IDLE:
            return tr("state.connecting")
        if self._status.state is CameraState.LIVE:
            return tr("state.connecting") if self._frame is None else None
        return state_text(self._shown_status())

    # -- painting --------------------------------------------------------------
    def picture(self) -> QImage:
        """The tile as painted, alone (its size, RGB32)."""
        img = QImage(self.size(), QImage.Format.Format_RGB32)
        p = QPainter(img)
        self.paint(p)
        p.end()
        return img

    def paint(self, p: QPainter) -> None:
        """Paint the tile with `p` in the tile's own coordinates (the wall translates).

        A live tile is three pictures and a frame: the decoded picture 1:1, the status
        line's bar (drawn into its own image only when its text changes, twice a second),
        the border. Every call into Qt from here is a call that takes and gives back the
        GIL against the decode threads: a live tile's paint makes 7 of them instead of ~25.
        """
        r = self.rect()
        w, h = r.width(), r.height()
        frame = self._frame
        if frame is not None:
            img, buf = frame_qimage(frame)
            if frame.width == w and frame.height == h:
                p.drawImage(0, 0, img)
            else:  # only until the decoder catches up with a new tile size
                p.drawImage(r, img)
            del img, buf
        else:
            p.fillRect(r, BACKGROUND)
        overlay = self.overlay_text()
        if overlay is not None:
            self._paint_overlay(p, r, overlay, frame is not None)
        if self._shed and self._camera_id is not None:
            self._paint_badge(p, r)
        if self._status_visible and self._camera_id is not None and not self._missing:
            self._paint_line(p, w, h)
        if self.extra_paint is not None:  # e.g. the PTZ controls (console.wall.ptz_view)
            self.extra_paint(self, p, r)
        p.setPen(DROP_PEN if self._drag_over else BORDER_PEN)
        p.drawRect(0, 0, w - 1, h - 1)
        self.paints += 1
        if frame is not None and self.on_painted is not None:
            self.on_painted(self.slot, frame)

    def _paint_overlay(self, p: QPainter, r: QRect, text: str, dim: bool) -> None:
        if dim:
            p.fillRect(r, QColor(0, 0, 0, 140))
        state = self._status.state if self._status is not None else None
        colour = TEXT
        if state in (
            CameraState.OFFLINE,
            CameraState.AUTH_FAILED,
            CameraState.NOT_FOUND,
            CameraState.NO_VIDEO,
            CameraState.DECODER_LOST,
        ):
            colour = BAD
        elif state in (CameraState.RETRYING, CameraState.STALLED):
            colour = WARN
        p.setFont(self._big_font)
        p.setPen(colour)
        p.drawText(r, int(Qt.AlignmentFlag.AlignCenter), text)

    def _paint_badge(self, p: QPainter, r: QRect) -> None:
        text = tr("tile.keyframes")
        p.setFont(self._line_font)
        w = p.fontMetrics().horizontalAdvance(text) + 12
        # above the status line, bottom right: the top of the picture stays clear
        box = QRect(r.right() - w - 4, r.height() - 46, w, 20)
        p.fillRect(box, QColor(160, 100, 0, 200))
        p.setPen(TEXT)
        p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)

    def _paint_line(self, p: QPainter, w: int, h: int) -> None:
        bar = self._bar
        if self._line_dirty or bar is None or bar.width() != w:
            text = inert_bidi(self.status_text())
            if bar is None or bar.width() != w or text != self._bar_text:
                bar = self._bar = self._draw_bar(w, text)
            self._line_dirty = False
        p.drawImage(0, h - LINE_H, bar)

    def _draw_bar(self, w: int, text: str) -> QImage:
        """The status line: translucent black with the text, clipped to the bar.

        Drawn again into the tile's own bar image while the width stays: PySide6 6.11 on
        Python 3.11 keeps 6 references to `None` for every paint device a QPainter
        opens for the first time (a new QImage twice a second per tile was ~190 a
        second on the soak's 16-tile wall, issue 16). The fill is the bar's pixel value
        (`fill(QColor)` also lost a reference now and then).
        """
        self._bar_text = text
        self._line.setText(text)
        bar = self._bar
        if bar is None or bar.width() != max(1, w):
            bar = QImage(max(1, w), LINE_H, QImage.Format.Format_ARGB32_Premultiplied)
        bar.fill(BAR_PIXEL)
        q = QPainter(bar)
        q.setFont(self._line_font)
        q.setPen(TEXT)
        q.drawStaticText(6, 3, self._line)
        q.end()
        return bar

    # -- gestures --------------------------------------------------------------
    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.doubleClicked.emit(self.slot)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.menuRequested.emit(self.slot, event.globalPos())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(CAMERA_MIME):
            event.acceptProposedAction()
            self._drag_over = True
            self.update()

    def dragLeaveEvent(self, event: object) -> None:
        self._drag_over = False
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drag_over = False
        data = event.mimeData()
        if data.hasFormat(CAMERA_MIME):
            camera_id = bytes(data.data(CAMERA_MIME).data()).decode("utf-8")
            event.acceptProposedAction()
            self.cameraDropped.emit(self.slot, camera_id)
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        size: QSize = event.size()
        self.resized.emit(self.slot, size.width(), size.height())
