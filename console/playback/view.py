"""The playback window: the cameras' pictures, the timeline, the transport and export.

Observes the Qt-free `PlaybackModel`, sends intent to the `PlaybackController`; a 25 Hz
timer pulls the newest pictures (`controller.poll()`), nothing here decodes or does I/O.
"""

from __future__ import annotations

from datetime import datetime

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.kit.picture import PictureWidget
from console.kit.qt_observe import follow
from console.playback.controller import PlaybackController
from console.playback.model import CameraPlayback, PlaybackModel, PlaybackView
from console.playback.strings import tr
from console.playback.timeline import Timeline
from streams.playback.nvr import SPEEDS
from streams.playback.player import PlaybackState

REFRESH_MS = 40
SUMMARY_SHOWN = 8


def clock_text(ms: int | None) -> str:
    if ms is None:
        return "--:--:--"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def state_text(cam: CameraPlayback) -> str:
    st = cam.status
    if st.state is PlaybackState.FAILED:
        return tr("state.failed", error=st.last_error)
    return tr(f"state.{st.state.value}")


class PlaybackWindow(QWidget):
    def __init__(
        self, model: PlaybackModel, controller: PlaybackController, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.controller = controller
        self.setWindowTitle(tr("window.title"))
        self.pictures: dict[str, PictureWidget] = {}
        self.grid = QGridLayout()
        self.timeline = Timeline(controller.seek)
        self.position = QLabel()
        self.play_button = QPushButton(tr("button.pause"))
        self.play_button.clicked.connect(controller.toggle)
        step = QPushButton(tr("button.step"))
        step.clicked.connect(controller.step)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(tr("speed.value", speed=f"{s:g}"), s)
        self.speed.activated.connect(lambda i: controller.set_speed(float(self.speed.itemData(i))))
        self.event_button = QPushButton(tr("button.event_time"))
        self.event_button.clicked.connect(controller.jump_to_event)
        mark_in = QPushButton(tr("button.mark_in"))
        mark_in.clicked.connect(controller.mark_in)
        mark_out = QPushButton(tr("button.mark_out"))
        mark_out.clicked.connect(controller.mark_out)
        export = QPushButton(tr("button.export"))
        export.clicked.connect(controller.export)
        summary = QPushButton(tr("button.summary"))
        summary.clicked.connect(controller.summarize)
        self.clip_button = QPushButton(tr("button.clip"))
        self.clip_button.clicked.connect(controller.play_clip)
        self.strip = QHBoxLayout()
        self.strip_items: list[QToolButton] = []
        self.marks = QLabel()
        self.message = QLabel()
        self.message.setTextFormat(self.message.textFormat().PlainText)
        bar = QHBoxLayout()
        for w in (self.play_button, step, QLabel(tr("speed")), self.speed, self.event_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.position)
        marks = QHBoxLayout()
        for w in (mark_in, mark_out, export, summary, self.clip_button, self.marks):
            marks.addWidget(w)
        marks.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(bar)
        layout.addLayout(marks)
        layout.addLayout(self.strip)
        layout.addWidget(self.message)
        follow(self, model.changed, self.show_view)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.show_view(model.view)

    def refresh(self) -> None:
        frames = self.controller.poll()
        clip = self.controller.clip_picture()
        first = next(iter(self.pictures), None)
        for cid, frame in frames.items():
            pic = self.pictures.get(cid)
            if pic is not None and not (clip is not None and cid == first):
                pic.show_frame(frame.image)
        if clip is not None and first is not None:  # the clip plays in the first picture
            pic = self.pictures[first]
            pic.caption = tr("clip.caption", time=clock_text(clip.at_ms)[11:])
            pic.show_frame(np.asarray(cv2.cvtColor(clip.image(), cv2.COLOR_BGR2BGRA), np.uint8))

    def _rebuild(self, view: PlaybackView) -> None:
        for pic in self.pictures.values():
            pic.setParent(None)
            pic.deleteLater()
        self.pictures = {}
        columns = 1 if len(view.cameras) <= 1 else 2
        for i, cam in enumerate(view.cameras):
            pic = PictureWidget()
            pic.setMinimumSize(320, 180)
            pic.caption = cam.name
            pic.clear(tr("no_picture"))
            self.grid.addWidget(pic, i // columns, i % columns)
            self.pictures[cam.camera_id] = pic

    def show_view(self, view: PlaybackView) -> None:
        if [c.camera_id for c in view.cameras] != list(self.pictures):
            self._rebuild(view)
        for cam in view.cameras:
            pic = self.pictures[cam.camera_id]
            pic.caption = f"{cam.name}  {state_text(cam)}"
            if cam.status.state is PlaybackState.FAILED:
                pic.clear(tr("state.failed", error=cam.status.last_error))
            pic.update()
        title = tr("window.event", title=view.event_title) if view.event_id else tr("window.title")
        self.setWindowTitle(title)
        self.play_button.setText(tr("button.play") if view.paused else tr("button.pause"))
        self.event_button.setEnabled(view.event_ms is not None)
        self.clip_button.setEnabled(bool(view.clip_s))
        self.speed.setCurrentIndex(max(0, self.speed.findData(view.speed)))
        self.position.setText(clock_text(view.position_ms))
        if view.mark_in is not None and view.mark_out is not None:
            self.marks.setText(
                tr("marks", start=clock_text(view.mark_in), end=clock_text(view.mark_out))
            )
        else:
            self.marks.setText(tr("marks.none"))
        self.message.setText(view.message)
        self.message.setStyleSheet("color: #e55;" if view.message_error else "")
        self.timeline.show_view(view)
        if [i.at_ms for i in view.summary] != [b.property("at_ms") for b in self.strip_items]:
            self._show_summary(view)

    def _show_summary(self, view: PlaybackView) -> None:
        """One button per run of movement: thumbnail and time; a click seeks there."""
        for b in self.strip_items:
            b.setParent(None)
            b.deleteLater()
        self.strip_items = []
        for item in view.summary[:SUMMARY_SHOWN]:
            b = QToolButton()
            rgb = np.ascontiguousarray(item.thumbnail[:, :, ::-1])
            h, w = rgb.shape[:2]
            image = QImage(rgb.data, w, h, int(rgb.strides[0]), QImage.Format.Format_RGB888)
            b.setIcon(QIcon(QPixmap.fromImage(image.copy())))
            b.setIconSize(QSize(w, h))
            b.setText(clock_text(item.at_ms)[11:])
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setProperty("at_ms", item.at_ms)
            b.clicked.connect(lambda _c=False, at=item.at_ms: self.controller.seek(at))
            self.strip.addWidget(b)
            self.strip_items.append(b)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.timer.stop()
        self.controller.close_streams()
        super().closeEvent(event)
