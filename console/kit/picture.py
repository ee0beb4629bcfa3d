"""The one picture widget of the console's call windows: a BGRA frame painted 1:1 and
centred (QImage.Format_RGB32, no scaling in the GUI thread: the frame converter already
made it the size asked for), a note while there is no picture, a caption bar, a green
frame while the participant speaks, and an optional outline.

The roll-call call view's station picture and self-preview and the mediation window's
tiles are this widget with different captions and sizes. `show_frame` and `clear` are
called on the Qt thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from console.kit.plain import inert_bidi

BACKGROUND = QColor(16, 20, 28)
NOTE_COLOUR = QColor(200, 200, 200)
SPEAKING = QColor(60, 220, 90)
OUTLINE = QColor(120, 140, 170)


@dataclass(frozen=True)
class CaptionStyle:
    """The caption bar: its height, the text's left margin and baseline above the
    bottom, and whether the bar is drawn without a caption."""

    height: int = 26
    left: int = 10
    baseline: int = 8
    always: bool = False


def paint_bgra(p: QPainter, arr: npt.NDArray[np.uint8], width: int, height: int) -> None:
    """Paint a BGRA frame 1:1, centred in width x height."""
    h, w = arr.shape[:2]
    img = QImage(arr.data, w, h, int(arr.strides[0]), QImage.Format.Format_RGB32)
    p.drawImage((width - w) // 2, (height - h) // 2, img)


class PictureWidget(QWidget):
    """A participant's or station's picture with note, caption and speaking frame."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        caption_style: CaptionStyle = CaptionStyle(),
        outline: bool = False,
    ) -> None:
        super().__init__(parent)
        self.caption_style = caption_style
        self.outline = outline
        self.image: npt.NDArray[np.uint8] | None = None
        self.frames = 0
        self.note = ""
        self.caption = ""
        self.speaking = False

    def show_frame(self, arr: npt.NDArray[np.uint8]) -> None:
        self.image = arr
        self.frames += 1
        self.update()

    def clear(self, note: str) -> None:
        """No picture: show `note` instead (and nobody speaking)."""
        self.image = None
        self.note = note
        self.speaking = False
        self.update()

    def caption_text(self) -> str:
        """The text of the caption bar (subclasses add marks, e.g. who speaks)."""
        return self.caption

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), BACKGROUND)
        arr = self.image
        if arr is not None:
            paint_bgra(p, arr, w, h)
        else:
            p.setPen(NOTE_COLOUR)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.note)
        text, style = self.caption_text(), self.caption_style
        if text or style.always:
            p.fillRect(0, h - style.height, w, style.height, QColor(0, 0, 0, 150))
            p.setPen(QColor(255, 255, 255))
            p.drawText(style.left, h - style.baseline, inert_bidi(text))  # outside names
        if self.speaking:
            p.setPen(QPen(SPEAKING, 4))
            p.drawRect(2, 2, w - 4, h - 4)
        if self.outline:
            p.setPen(QPen(OUTLINE, 1))
            p.drawRect(0, 0, w - 1, h - 1)
        p.end()
