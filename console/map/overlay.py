"""The map's scale bar and legend, painted over the view in device pixels.

The legend explains every mark the map draws, with the mark itself beside its words:
camera states (squares), the warning colours (dots), clusters (a dot with the count),
the queue's selection (a cyan ring), a new red warning (flashing), the roll call's ✓/✗
badges, the grid leaders' shared positions (a triangle; faded when older), hot-spot
grids (red hatching) and the search's choice (an orange ring). Only the rows of the
layers switched on are shown (the 图例 layer switches the legend itself); when they do
not fit in `MAX_SHARE` of the view's height they go in two columns, and when the legend
would still cover more than `MAX_AREA` of the view (the docked map) each mark gets its
short words and they flow in lines at the top.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF

from console.map.found import FOUND
from console.map.items import CAMERA, LEADER, LEADER_FADED, ROLL_MISSED, ROLL_OK, WARNING
from console.map.model import CameraState, Layer
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


Symbol = Callable[[QPainter, QPointF], None]
"""Draws a legend row's mark centred on a point (device pixels)."""
LINE = 17.0
SYMBOL_W = 24.0
MAX_SHARE = 0.75
MAX_AREA = 0.15
"""A legend covering more of the view than this is drawn compact (short words in lines)."""
HIGHLIGHT = QColor("#00c8ff")


@dataclass(frozen=True)
class LegendRow:
    text: str
    symbol: Symbol
    layer: Layer | None  # the layer it explains (None: always shown)
    short: str = ""  # the words in the compact legend (default `text`)


def _square(colour: QColor) -> Symbol:
    def draw(p: QPainter, c: QPointF) -> None:
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(colour)
        p.drawRect(QRectF(c.x() - 5, c.y() - 5, 10, 10))

    return draw


def _dot(colour: QColor, r: float = 5.5) -> Symbol:
    def draw(p: QPainter, c: QPointF) -> None:
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(colour)
        p.drawEllipse(c, r, r)

    return draw


def _cluster(p: QPainter, c: QPointF) -> None:
    p.setPen(QPen(QColor("white"), 1.5))
    p.setBrush(WARNING[0])
    p.drawEllipse(c, 8.5, 8.5)
    p.setPen(QColor("white"))
    p.drawText(QRectF(c.x() - 9, c.y() - 9, 18, 18), Qt.AlignmentFlag.AlignCenter, "12")


def _ring(colour: QColor, width: float, inner: QColor | None) -> Symbol:
    def draw(p: QPainter, c: QPointF) -> None:
        p.setPen(QPen(colour, width))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(c, 7.5, 7.5)
        if inner is not None:
            _dot(inner, 4.0)(p, c)

    return draw


def _flash(p: QPainter, c: QPointF) -> None:
    p.setPen(QPen(WARNING[0], 2.0))
    p.setBrush(QBrush(WARNING[0].lighter(150)))
    p.drawEllipse(c, 8.0, 8.0)
    _dot(WARNING[0], 4.0)(p, c)


def _badge(ok: bool) -> Symbol:
    colour = ROLL_OK if ok else ROLL_MISSED

    def draw(p: QPainter, c: QPointF) -> None:
        p.setPen(QPen(colour, 2.0))
        p.setBrush(QColor("white"))
        p.drawEllipse(c, 7.0, 7.0)
        p.setPen(colour)
        p.drawText(
            QRectF(c.x() - 7, c.y() - 7, 14, 14), Qt.AlignmentFlag.AlignCenter, "✓" if ok else "✗"
        )

    return draw


def _leader(faded: bool) -> Symbol:
    def draw(p: QPainter, c: QPointF) -> None:
        before = p.opacity()
        p.setOpacity(before * (LEADER_FADED if faded else 1.0))
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(LEADER)
        tip = QPointF(c.x(), c.y() + 7)
        p.drawPolygon(
            QPolygonF([tip, QPointF(c.x() - 6, c.y() - 7), QPointF(c.x() + 6, c.y() - 7)])
        )
        p.setOpacity(before)

    return draw


def _hotspot(p: QPainter, c: QPointF) -> None:
    p.setPen(QPen(QColor("red"), 1.5))
    p.setBrush(QBrush(QColor("#d4e3ec"), Qt.BrushStyle.BDiagPattern))
    p.drawRect(QRectF(c.x() - 8, c.y() - 6, 16, 12))


def legend_rows(layers: Mapping[Layer, bool] | None = None) -> list[LegendRow]:
    """The rows for the layers switched on (all, without `layers`)."""
    rows = [
        LegendRow(
            t("lg.camera", state=t(f"cam.{s.value}")),
            _square(CAMERA[s]),
            Layer.CAMERAS,
            t(f"cam.{s.value}"),
        )
        for s in CameraState
    ]
    names = ("red", "yellow", "green")
    rows += [
        LegendRow(t(f"ev.{name}"), _dot(WARNING[rank]), Layer.EVENTS, t(f"lgs.{name}"))
        for rank, name in enumerate(names)
    ]
    marks: list[tuple[str, Symbol, Layer | None]] = [
        ("cluster", _cluster, Layer.EVENTS),
        ("selected", _ring(HIGHLIGHT, 3.0, WARNING[1]), Layer.EVENTS),
        ("flash", _flash, Layer.EVENTS),
        ("roll_ok", _badge(True), Layer.ROLLCALL),
        ("roll_missed", _badge(False), Layer.ROLLCALL),
        ("leader", _leader(False), Layer.LEADERS),
        ("leader_old", _leader(True), Layer.LEADERS),
        ("hotspot", _hotspot, Layer.HOTSPOTS),
        ("found", _ring(FOUND, 3.0, None), None),
    ]
    rows += [LegendRow(t(f"lg.{k}"), sym, layer, t(f"lgs.{k}")) for k, sym, layer in marks]
    if layers is None:
        return rows
    if not layers.get(Layer.LEGEND, True):
        return []
    return [r for r in rows if r.layer is None or layers.get(r.layer, True)]


def flow(widths: list[float], max_w: float) -> list[tuple[float, int]]:
    """Items of these widths laid left to right, wrapping at `max_w`: (x, line) each."""
    out, x, line = [], 0.0, 0
    for w in widths:
        if x > 0 and x + w > max_w:
            x, line = 0.0, line + 1
        out.append((x, line))
        x += w
    return out


def paint_legend(
    painter: QPainter, right: float, bottom: float, layers: Mapping[Layer, bool] | None = None
) -> QRectF:
    """The legend in the bottom-right corner (`right`, `bottom`: the view's size); its box
    (empty when switched off)."""
    rows = legend_rows(layers)
    if not rows:
        return QRectF()
    font = QFont()
    font.setPointSizeF(8.5)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    text_w = max(metrics.horizontalAdvance(r.text) for r in rows)
    col_w = SYMBOL_W + text_w + 10
    per_col = len(rows)
    if len(rows) * LINE + 8 > MAX_SHARE * bottom and len(rows) > 1:
        per_col = (len(rows) + 1) // 2
    cols = -(-len(rows) // per_col)
    if cols * col_w * (LINE * per_col + 6) > MAX_AREA * right * bottom:
        return _paint_compact(painter, rows, metrics, right, bottom)
    box = QRectF(right - 4 - cols * col_w, bottom - 10 - LINE * per_col, cols * col_w, 0)
    box.setHeight(LINE * per_col + 6)
    painter.fillRect(box, QColor(255, 255, 255, 225))
    painter.setPen(QPen(QColor("#888888"), 1.0))
    painter.drawRect(box)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for i, row in enumerate(rows):
        col, line = divmod(i, per_col)
        x, y = box.left() + col * col_w, box.top() + 3 + line * LINE
        row.symbol(painter, QPointF(x + SYMBOL_W / 2 + 2, y + LINE / 2))
        painter.setPen(QColor("black"))
        painter.drawText(
            QRectF(x + SYMBOL_W + 4, y, text_w + 4, LINE), Qt.AlignmentFlag.AlignVCenter, row.text
        )
    return box


def _paint_compact(
    painter: QPainter, rows: list[LegendRow], metrics: QFontMetricsF, right: float, bottom: float
) -> QRectF:
    """The legend as marks with short words flowing in lines, at the top right (a small
    view: the scale bar keeps the bottom left)."""
    widths = [SYMBOL_W + metrics.horizontalAdvance(r.short or r.text) + 8 for r in rows]
    max_w = max(min(right - 24, 380.0), max(widths))
    places = flow(widths, max_w)
    lines = places[-1][1] + 1
    used = max(x + w for (x, _), w in zip(places, widths, strict=True))
    box = QRectF(right - 4 - used - 6, 6, used + 6, LINE * lines + 6)  # top: the scale bar
    painter.fillRect(box, QColor(255, 255, 255, 225))
    painter.setPen(QPen(QColor("#888888"), 1.0))
    painter.drawRect(box)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for row, (x, line), w in zip(rows, places, widths, strict=True):
        left, y = box.left() + 3 + x, box.top() + 3 + line * LINE
        row.symbol(painter, QPointF(left + SYMBOL_W / 2, y + LINE / 2))
        painter.setPen(QColor("black"))
        painter.drawText(
            QRectF(left + SYMBOL_W, y, w - SYMBOL_W, LINE),
            Qt.AlignmentFlag.AlignVCenter,
            row.short or row.text,
        )
    return box
