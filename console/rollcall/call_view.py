"""The roll-call panel's video area (Qt view, no I/O): the station in the call — its
name, 接通时长, its picture at the tile's size and who is speaking — with the buttons
接入画面 / 退出画面 and the setting 自动接入画面 (on by default) — and, while joined, a
small 本端 / Me tile in the picture's bottom-right corner with what the hall sends (the
mediation window's self-preview). It follows the `CallModel` (released when destroyed)
and sends the officer's intents (`CallIntents`) to `HallCallController`, which does the
work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.kit import i18n
from console.kit.picture import CaptionStyle, PictureWidget
from console.kit.plain import plain_label
from console.kit.qt_observe import follow, release_on_destroy
from console.rollcall.call_model import CallModel, CallPhase, Frame, duration_text, t

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


class CallIntents(Protocol):
    """What the video area asks of its controller (`HallCallController`)."""

    def join_current(self, selected: str | None) -> None: ...
    def leave_by_hand(self) -> None: ...
    def set_auto(self, on: bool) -> None: ...
    def picture_resized(self, width: int, height: int) -> None: ...


class CallArea(QWidget):
    def __init__(
        self,
        model: CallModel,
        intents: CallIntents,
        parent: QWidget | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        selected: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._intents = intents
        self._selected = selected  # the centre the officer picked in the run's table
        self.now = now
        self.centre_name = ""
        self.answered_at: datetime | None = None
        self.joined = False
        self.title = plain_label()
        self.title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.duration = plain_label("")
        self.speaker = plain_label("")
        self.video = StationVideo()
        self.self_view = self.video.self_view
        self.status = plain_label("")
        self.status.setWordWrap(True)
        self.join_button = QPushButton()
        self.auto = QCheckBox()
        self.auto.setChecked(model.auto)
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
        self.auto.toggled.connect(intents.set_auto)
        self.video.resized.connect(intents.picture_resized)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_duration)
        release_on_destroy(self, i18n.on_change(self.retranslate))
        self.retranslate()
        if model.joined:  # built during a call: show it
            self._show_phase(model.phase)
        follow(self, model.phase_changed, self._show_phase)
        follow(self, model.status_changed, self.status.setText)
        follow(self, model.self_note_changed, self.self_view.clear)
        follow(self, model.speaking_changed, self._show_speaking)
        follow(self, model.frame_shown, self.video.show_frame)
        follow(self, model.self_frame_shown, self._show_self_frame)
        intents.picture_resized(*self.video.picture_size())

    # -- shown data ------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.title.setText(self.centre_name or t("title"))
        self.join_button.setText(t("leave") if self.joined else t("join"))
        self.auto.setText(t("auto"))
        self._show_duration()

    def _show_phase(self, phase: CallPhase) -> None:
        if phase.kind == "joining":
            self._show_joining(phase.name)
        elif phase.kind == "joined":
            self._show_joined(phase.name, phase.answered_at)
        else:
            self._show_left(phase.text)

    def _show_joining(self, name: str) -> None:
        self.centre_name = name
        self.joined = True
        self.video.clear(t("waiting"))
        self.video.caption = name
        self.self_view.clear(t("self_waiting"))
        self.video.place_self_view()
        self.self_view.show()
        self.status.setText(self.model.status)
        self.retranslate()

    def _show_joined(self, name: str, answered_at: datetime | None) -> None:
        self.centre_name = name
        self.answered_at = answered_at
        self.joined = True
        self.video.caption = name
        self.status.setText(self.model.status)
        self._tick.start()
        self.retranslate()

    def _show_self_frame(self, arr: Frame) -> None:
        """A frame of what the hall sends (本端 / Me), only while joined."""
        if self.joined:
            self.self_view.show_frame(arr)

    def _show_speaking(self, speaking: bool) -> None:
        if speaking != self.video.speaking:
            self.video.speaking = speaking
            self.video.update()
        self.speaker.setText(t("speaking", name=self.centre_name) if speaking else "")

    def _show_left(self, text: str) -> None:
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

    def _show_duration(self) -> None:
        d = duration_text(self.answered_at, self.now())
        self.duration.setText(t("duration", time=d) if d else "")

    # -- intents ---------------------------------------------------------------------------
    def _clicked(self) -> None:
        if self.joined:
            self._intents.leave_by_hand()
        else:
            self._intents.join_current(self._selected())
