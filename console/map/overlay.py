"""The map's scale bar and legend, painted over the view in device pixels."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from console.map.items import CAMERA, ROLL_MISSED, ROLL_OK, WARNING
from console.map.model import CameraState
from console.map.strings import t


def nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10^n metres not over `max_m`."""
    if max_m <= 0:
        return 0.0
    base = 10.0 ** math.floor(math.log10(max_m))
    for step in (5.0, 2.0, 1.0):
        if step * base <= max_m:
            return step * base
    return base


def length_text(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"


def paint_scale_bar(painter: QPainter, at: QPointF, ground_m_per_px: float) -> str:
    """A bar of a round length at most 120 px long; returns its text."""
    metres = nice_length(120.0 * ground_m_per_px)
    px = metres / ground_m_per_px if ground_m_per_px > 0 else 0.0
    text = length_text(metres)
    painter.fillRect(QRectF(at.x() - 6, at.y() - 24, px + 60, 32), QColor(255, 255, 255, 200))
    painter.setPen(QPen(QColor("black"), 2.0))
    painter.drawLine(at, QPointF(at.x() + px, at.y()))
    painter.drawLine(at, QPointF(at.x(), at.y() - 6))
    painter.drawLine(QPointF(at.x() + px, at.y()), QPointF(at.x() + px, at.y() - 6))
    painter.drawText(QPointF(at.x() + px + 6, at.y()), text)
    return text


def legend_rows() -> list[tuple[str, QColor, bool]]:
    """(text, colour, is_camera) for each legend line."""
    rows = [(t(f"cam.{s.value}"), CAMERA[s], True) for s in CameraState]
    names = ("red", "yellow", "green")
    rows += [(t(f"ev.{name}"), WARNING[rank], False) for rank, name in enumerate(names)]
    rows += [(t("roll.ok"), ROLL_OK, False), (t("roll.missed"), ROLL_MISSED, False)]
    return rows


def paint_legend(painter: QPainter, right: float, bottom: float) -> QRectF:
    rows = legend_rows()
    font = QFont()
    font.setPointSizeF(9)
    painter.setFont(font)
    line = 18.0
    box = QRectF(right - 130, bottom - 10 - line * len(rows), 120, line * len(rows) + 4)
    painter.fillRect(box, QColor(255, 255, 255, 215))
    painter.setPen(QPen(QColor("#888888"), 1.0))
    painter.drawRect(box)
    for i, (text, colour, camera) in enumerate(rows):
        y = box.top() + 4 + i * line
        painter.setPen(QPen(QColor("white"), 1.0))
        painter.setBrush(colour)
        if camera:
            painter.drawRect(QRectF(box.left() + 8, y + 3, 10, 10))
        else:
            painter.drawEllipse(QPointF(box.left() + 13, y + 8), 6.0, 6.0)
        painter.setPen(QColor("black"))
        painter.drawText(
            QRectF(box.left() + 26, y, box.width() - 30, line),
            Qt.AlignmentFlag.AlignVCenter,
            text,
        )
    return box
