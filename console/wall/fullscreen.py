"""The wall in its own top-level window, full screen on the second screen (if there is one)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QScreen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from console.kit.i18n import tr


def wall_screen(screens: Sequence[QScreen]) -> tuple[QScreen | None, bool]:
    """The screen for the wall and whether it is a second screen (else the first is used)."""
    if len(screens) > 1:
        return screens[1], True
    return (screens[0] if screens else None), False


class WallWindow(QWidget):
    """Holds the wall view while it is full screen; Esc or closing brings it back."""

    backRequested = Signal()
    minimisedChanged = Signal(bool)

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("wallWindow")
        self.setWindowTitle(tr("wall.window_title"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.layout_ = lay

    def show_on(self, screen: QScreen | None) -> None:
        if screen is not None:
            self.setGeometry(screen.geometry())
            handle = self.windowHandle()
            if handle is None:
                self.winId()  # creates the native window so that it has a handle
                handle = self.windowHandle()
            if handle is not None:
                handle.setScreen(screen)
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.backRequested.emit()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.backRequested.emit()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.WindowStateChange:
            self.minimisedChanged.emit(self.isMinimized())
        super().changeEvent(event)
