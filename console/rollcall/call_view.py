"""The roll-call panel's video area (Qt view, no I/O): the station in the call — its
name, 接通时长, its picture at the tile's size and who is speaking — with the buttons
接入画面 / 退出画面 and the setting 自动接入画面 (on by default) — and, while joined, a
small 本端 / Me tile in the picture's bottom-right corner with what the hall sends (the
mediation window's self-preview). It shows what it is given and emits intents;
`HallCallController` does the work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.kit import i18n
from console.kit.picture import CaptionStyle, PictureWidget
from console.kit.qt_observe import release_on_destroy
from console.rollcall.call_model import duration_text, t

VIDEO_MIN = QSize(320, 240)
SELF_SIZE = (160, 120)  # the self-preview tile, as in the mediation window
SELF_MARGIN = 8
CAPTION_H = 26
SELF_CAPTION = CaptionStyle(height=20, left=6, baseline=5, always=True)


def fit_4_3(width: int, height: int) -> tuple[int, int]:
    """The largest 4:3 picture (even sizes) inside width x height."""
    w = min(width, height * 4 // 3)
    h = w * 3 // 4
    return max(2, w - w % 2), max(2, h - h % 2)


class SelfPreview(PictureWidget):
    """本端 / Me: what the hall sends, at `SELF_SIZE`, labelled; hidden until shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, caption_style=SELF_CAPTION, outline=True)
        self.setFixedSize(*SELF_SIZE)
        self.note = t("self_waiting")
        self.hide()

    def caption_text(self) -> str:
        return i18n.tr("self.title")


class StationVideo(PictureWidget):
    """The station's picture, painted 1:1 from BGRA (QImage.Format_RGB32), centred; the
    converter is asked for frames of `picture_size()` (4:3 inside the widget)."""

    resized = Signal(int, int)  # the picture size wanted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, caption_style=CaptionStyle(height=CAPTION_H))
        self.setMinimumSize(VIDEO_MIN)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.note = t("idle")
        self.self_view = SelfPreview(self)

    def sizeHint(self) -> QSize:
        return QSize(480, 360)

    def picture_size(self) -> tuple[int, int]:
        return fit_4_3(self.width(), self.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.place_self_view()
        self.resized.emit(*self.picture_size())

    def place_self_view(self) -> None:
        """The self-preview in the bottom-right corner, above the caption bar."""
        sw, sh = SELF_SIZE
        x = max(0, self.width() - sw - SELF_MARGIN)
        y = max(0, self.height() - CAPTION_H - sh - SELF_MARGIN)
        self.self_view.move(x, y)
        self.self_view.raise_()


class CallArea(QWidget):
    join_requested = Signal()
    leave_requested = Signal()
    auto_changed = Signal(bool)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(parent)
        self.now = now
        self.centre_name = ""
        self.answered_at: datetime | None = None
        self.joined = False
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.duration = QLabel("")
        self.speaker = QLabel("")
        self.video = StationVideo()
        self.self_view = self.video.self_view
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.join_button = QPushButton()
        self.auto = QCheckBox()
        self.auto.setChecked(True)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.duration)
        head.addStretch(1)
        head.addWidget(self.speaker)
        foot = QHBoxLayout()
        foot.addWidget(self.join_button)
        foot.addWidget(self.auto)
        foot.addStretch(1)
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.addLayout(head)
        root.addWidget(self.video, 1)
        root.addWidget(self.status)
        root.addLayout(foot)
        self.join_button.clicked.connect(self._clicked)
        self.auto.toggled.connect(self.auto_changed)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_duration)
        release_on_destroy(self, i18n.on_change(self.retranslate))
        self.retranslate()

    # -- shown data ------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.title.setText(self.centre_name or t("title"))
        self.join_button.setText(t("leave") if self.joined else t("join"))
        self.auto.setText(t("auto"))
        self._show_duration()

    def show_joining(self, name: str) -> None:
        self.centre_name = name
        self.joined = True
        self.video.clear(t("waiting"))
        self.video.caption = name
        self.self_view.clear(t("self_waiting"))
        self.video.place_self_view()
        self.self_view.show()
        self.status.setText(t("joining", name=name))
        self.retranslate()

    def show_joined(self, name: str, answered_at: datetime | None) -> None:
        self.centre_name = name
        self.answered_at = answered_at
        self.joined = True
        self.video.caption = name
        self.status.setText(t("joined", name=name))
        self._tick.start()
        self.retranslate()

    def show_frame(self, arr: npt.NDArray[np.uint8]) -> None:
        self.video.show_frame(arr)

    def show_self_frame(self, arr: npt.NDArray[np.uint8]) -> None:
        """A frame of what the hall sends (本端 / Me), only while joined."""
        if self.joined:
            self.self_view.show_frame(arr)

    def show_self_note(self, text: str) -> None:
        self.self_view.clear(text)

    def show_level(self, station: float, threshold: float) -> None:
        speaking = station >= threshold
        if speaking != self.video.speaking:
            self.video.speaking = speaking
            self.video.update()
        self.speaker.setText(t("speaking", name=self.centre_name) if speaking else "")

    def show_left(self, text: str) -> None:
        """Out of the call (ended, left, or failed): `text` says why."""
        self.joined = False
        self.answered_at = None
        self.centre_name = ""
        self._tick.stop()
        self.video.caption = ""
        self.video.clear(text)
        self.self_view.hide()
        self.self_view.clear(t("self_waiting"))
        self.speaker.setText("")
        self.status.setText(text)
        self.retranslate()

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def _show_duration(self) -> None:
        d = duration_text(self.answered_at, self.now())
        self.duration.setText(t("duration", time=d) if d else "")

    # -- intents ---------------------------------------------------------------------------
    def _clicked(self) -> None:
        if self.joined:
            self.leave_requested.emit()
        else:
            self.join_requested.emit()
