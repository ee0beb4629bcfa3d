"""The timeline: where recording exists (green), the export marks, the event, the position.

Paints the model's span; a click asks the controller to seek there. Times are shown in
local time (HH:MM) under the bar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from console.playback.model import PlaybackView

BAR = QColor(60, 60, 60)
RECORDED = QColor(40, 160, 80)
POSITION = QColor(255, 255, 255)
EVENT = QColor(230, 70, 60)
MARKS = QColor(80, 140, 255, 110)
ROW_H = 10


def hhmm(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%H:%M")


def to_x(ms: int, span: tuple[int, int], width: int) -> int:
    a, b = span
    return round((ms - a) * width / max(1, b - a))


def to_ms(x: int, span: tuple[int, int], width: int) -> int:
    a, b = span
    return a + round(x * (b - a) / max(1, width))


class Timeline(QWidget):
    def __init__(self, seek: Callable[[int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seek = seek
        self.view = PlaybackView()
        self.setMinimumHeight(30 + ROW_H * 4)

    def show_view(self, view: PlaybackView) -> None:
        self.view = view
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.view.span is not None:
            self.seek(to_ms(int(event.position().x()), self.view.span, self.width()))

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        w = self.width()
        p.fillRect(self.rect(), QColor(25, 25, 25))
        span = self.view.span
        if span is None:
            return
        for row, cam in enumerate(self.view.cameras):
            y = 4 + row * (ROW_H + 2)
            p.fillRect(0, y, w, ROW_H, BAR)
            for a, b in cam.coverage:
                x0, x1 = max(0, to_x(a, span, w)), min(w, to_x(b, span, w))
                if x1 > x0:
                    p.fillRect(x0, y, max(1, x1 - x0), ROW_H, RECORDED)
        bottom = 4 + max(1, len(self.view.cameras)) * (ROW_H + 2)
        v = self.view
        if v.mark_in is not None and v.mark_out is not None and v.mark_out > v.mark_in:
            x0, x1 = to_x(v.mark_in, span, w), to_x(v.mark_out, span, w)
            p.fillRect(x0, 2, max(2, x1 - x0), bottom, MARKS)
        if v.event_ms is not None:
            p.setPen(QPen(EVENT, 2))
            x = to_x(v.event_ms, span, w)
            p.drawLine(x, 0, x, bottom + 2)
        pos = v.position_ms
        if pos is not None:
            p.setPen(QPen(POSITION, 2))
            x = to_x(pos, span, w)
            p.drawLine(x, 0, x, bottom + 2)
        p.setPen(QColor(200, 200, 200))
        for i in range(5):
            ms = span[0] + (span[1] - span[0]) * i // 4
            x = to_x(ms, span, w)
            left = min(max(0, x - 40), w - 80)
            p.drawText(QRect(left, bottom + 4, 80, 16), Qt.AlignmentFlag.AlignHCenter, hhmm(ms))
