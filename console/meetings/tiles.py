"""The meeting view's pictures: `PictureBox` paints one participant's latest frame (the
main speaker large), `TileBox` a township's small tile with its name, and what it is
doing (speaking: a green frame; the floor: a gold frame; muted; hand up; not joined)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QMenu, QWidget

from console.kit.plain import plain_static_text
from console.meetings.model import Picture, Tile
from console.meetings.strings import t

SPEAKING = QColor("#2ecc71")
FLOOR = QColor("#f1c40f")
ABSENT = QColor("#5d6d7e")


def paint_picture(p: QPainter, rect: QRect, pic: Picture | None) -> None:
    p.fillRect(rect, QColor("#0b1620"))
    if pic is None:
        return
    img = QImage(pic.bgra, pic.width, pic.height, pic.stride, QImage.Format.Format_RGB32)
    scaled = QSize(pic.width, pic.height).scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = rect.x() + (rect.width() - scaled.width()) // 2
    y = rect.y() + (rect.height() - scaled.height()) // 2
    p.drawImage(QRect(x, y, scaled.width(), scaled.height()), img)


class PictureBox(QWidget):
    """The main speaker: the floor's township, else the convenor."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pic: Picture | None = None
        self.caption = ""
        self.setMinimumSize(480, 270)

    def show_picture(self, pic: Picture | None, caption: str) -> None:
        self.pic, self.caption = pic, caption
        self.update()

    def paintEvent(self, _ev: QPaintEvent) -> None:
        p = QPainter(self)
        paint_picture(p, self.rect(), self.pic)
        p.fillRect(0, self.height() - 34, self.width(), 34, QColor(0, 0, 0, 160))
        p.setPen(QColor("#ffffff"))
        f = p.font()
        f.setPointSize(14)
        p.setFont(f)
        p.drawStaticText(QPointF(10, self.height() - 30), plain_static_text(self.caption))
        p.end()


class TileBox(QWidget):
    """One invited centre; a click gives it the floor, the context menu does the rest."""

    def __init__(
        self,
        on_click: Callable[[str], None],
        on_menu: Callable[[str, QMenu], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tile: Tile | None = None
        self.pic: Picture | None = None
        self._on_click = on_click
        self._on_menu = on_menu
        self.setFixedSize(176, 118)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def show_tile(self, tile: Tile, pic: Picture | None) -> None:
        self.tile, self.pic = tile, pic
        self.setObjectName(f"tile-{tile.centre}")
        self.update()

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        if self.tile is not None and ev.button() == Qt.MouseButton.LeftButton:
            self._on_click(self.tile.centre)

    def contextMenuEvent(self, ev: object) -> None:
        if self.tile is None:
            return
        menu = QMenu(self)
        self._on_menu(self.tile.centre, menu)
        menu.exec(self.mapToGlobal(self.rect().center()))

    def badges(self) -> list[str]:
        tl = self.tile
        if tl is None:
            return []
        out = []
        if not tl.present:
            out.append(t("tile.absent"))
        if tl.floor:
            out.append(t("tile.floor"))
        if tl.muted:
            out.append(t("tile.muted"))
        if tl.hand:
            out.append(t("tile.hand"))
        return out

    def paintEvent(self, _ev: QPaintEvent) -> None:
        tl = self.tile
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#17222e"))
        inner = self.rect().adjusted(3, 3, -3, -24)
        paint_picture(p, inner, self.pic if tl is not None and tl.present else None)
        if tl is not None:
            colour = FLOOR if tl.floor else SPEAKING if tl.talking else ABSENT
            width = 3 if (tl.floor or tl.talking) else 1
            p.setPen(QPen(colour, width))
            p.drawRect(self.rect().adjusted(1, 1, -2, -2))
            p.setPen(QColor("#ffffff") if tl.present else ABSENT)
            p.drawStaticText(QPointF(6, self.height() - 21), plain_static_text(tl.name))
            if tl.talking:
                p.setBrush(SPEAKING)
                p.setPen(Qt.PenStyle.NoPen)
                p.drawEllipse(QPointF(self.width() - 12, self.height() - 12), 5, 5)
            badges = self.badges()
            if badges:
                p.setPen(QColor("#ffd479"))
                p.drawStaticText(QPointF(8, 6), plain_static_text(" · ".join(badges)))
        p.end()
