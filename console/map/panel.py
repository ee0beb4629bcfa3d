"""The map panel: a tool row (place search, layer switches, fit, full screen) over the view.

Full screen opens a second `MapView` of the same model on the second screen (the first
if there is one screen only); Esc or closing it ends it. Search results and names are
outside text: shown through plain labels only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QMenu, QToolButton, QVBoxLayout, QWidget

from console.kit import i18n
from console.kit.plain import inert_bidi, plain_label
from console.map.model import Layer, MapModel
from console.map.strings import t
from console.map.view import MapView
from console.wall.fullscreen import wall_screen

FOUND_SCALE = 0.25
"""Pixels per metre when a place is found (a village fills the view)."""


class MapWindow(QWidget):
    """The map full screen on its own screen; Esc closes it."""

    closed = Signal()

    def __init__(self, model: MapModel) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("mapWindow")
        self.view = MapView(model, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)


class MapPanel(QWidget):
    def __init__(self, model: MapModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapPanel")
        self.model = model
        self.view = MapView(model, self)
        self.window_: MapWindow | None = None
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 2)
        self.search = QLineEdit()
        self.search.setObjectName("mapSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(160)
        self.search.returnPressed.connect(lambda: self.find_place(self.search.text()))
        row.addWidget(self.search)
        self.found = plain_label()
        self.found.setObjectName("mapFound")
        self.found.setMinimumWidth(10)
        row.addWidget(self.found, 1)
        self.layers_button = QToolButton()
        self.layers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        layers_menu = QMenu(self.layers_button)
        self.toggles: dict[Layer, QAction] = {}
        for layer in Layer:
            act = layers_menu.addAction("")
            act.setCheckable(True)
            act.setChecked(model.layers[layer])
            act.toggled.connect(lambda on, layer=layer: model.set_layer(layer, on))
            self.toggles[layer] = act
        self.layers_button.setMenu(layers_menu)
        row.addWidget(self.layers_button)
        self.fit = QToolButton()
        self.fit.clicked.connect(self.view.fit_county)
        self.full = QToolButton()
        self.full.clicked.connect(self.toggle_fullscreen)
        row.addWidget(self.fit)
        row.addWidget(self.full)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(row)
        lay.addWidget(self.view, 1)
        self._lang = i18n.on_change(self.retranslate)
        self.destroyed.connect(lambda *_: self._lang.disconnect())
        self.retranslate()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(t("search"))
        self.layers_button.setText(t("layers"))
        for layer, act in self.toggles.items():
            act.setText(t(f"layer.{layer.value}"))
        self.fit.setText(t("fit"))
        self.full.setText(t("fullscreen"))

    def find_place(self, text: str) -> bool:
        """Centre the view on the best place matching `text`; says what it found."""
        hits = self.model.search(text)
        if not hits:
            self.found.setText(t("not_found", text=inert_bidi(text[:40])))
            return False
        place = hits[0]
        self.view.centre_on_world(*place.at, scale=FOUND_SCALE)
        self.found.setText(t("found", name=inert_bidi(place.name)))
        return True

    def toggle_fullscreen(self) -> None:
        if self.window_ is not None:
            self.window_.close()
            return
        win = MapWindow(self.model)
        screen, _second = wall_screen(QGuiApplication.screens())
        if screen is not None:
            win.setGeometry(screen.geometry())
        win.closed.connect(self._fullscreen_closed)
        win.view.cameraClicked.connect(self.view.cameraClicked)
        win.view.eventClicked.connect(self.view.eventClicked)
        win.view.camerasPicked.connect(self.view.camerasPicked)
        win.showFullScreen()
        win.view.fit_county()
        self.window_ = win

    def _fullscreen_closed(self) -> None:
        win, self.window_ = self.window_, None
        if win is not None:
            win.deleteLater()
