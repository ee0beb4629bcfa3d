"""The map panel: a tool row (place search, the events' period, layer switches, fit,
full screen), the search's results (`console.map.search`) and the view.

A place chosen in the results is centred and marked (an orange ring, `console.map.found`;
an event is highlighted instead). Full screen opens a second `MapView` of the same model
on the second screen (the first if there is one screen only), with the same base tiles
and a tool row of its own (`MapTools`: search, period, layers, 全县, 退出全屏); its clicks,
picks and 派单… go where the panel's go; Esc or closing it ends it. Search results and
names are outside text: shown as plain text only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.kit import i18n
from console.kit.plain import inert_bidi, plain_label
from console.kit.qt_observe import follow
from console.map.found import add_found_marker
from console.map.model import Layer, MapModel, Period, Place
from console.map.search import PlaceSearch
from console.map.strings import t
from console.map.tiles import TileLayer
from console.map.view import MapView
from console.wall.fullscreen import wall_screen

FOUND_SCALE = 0.25
"""Pixels per metre when a place is found (a village fills the view)."""


def one_line(text: str, limit: int = 40) -> str:
    """Outside text for the one-line status: whitespace runs (line breaks too) as one
    space, cut at `limit`, direction controls shown."""
    return inert_bidi(" ".join(text.split())[:limit])


class MapTools(QWidget):
    """The tool row over a map view: the place search (its results, `places.results`, go
    where the owner lays them out), what it found, the events' period, the layer switches,
    全县, and one more button (`extra`: 全屏, or 退出全屏 on the full-screen map). The
    switches follow the model, so the rows of both views agree."""

    def __init__(self, model: MapModel, view: MapView, extra: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.view = view
        self._extra_key = extra
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        self.places = PlaceSearch(model.search, self)
        self.places.chosen.connect(self.choose)
        self.places.missed.connect(self.find_place)
        self.search = self.places.edit
        self.search.setMaximumWidth(160)
        row.addWidget(self.search)
        self.found = plain_label()
        self.found.setObjectName("mapFound")
        self.found.setMinimumWidth(10)
        row.addWidget(self.found, 1)
        self.period = QComboBox()
        self.period.setObjectName("mapPeriod")
        for p in Period:
            self.period.addItem("", p.value)
        self.period.currentIndexChanged.connect(
            lambda i: model.set_period(Period(self.period.itemData(i)))
        )
        row.addWidget(self.period)
        self.layers_button = QToolButton()
        self.layers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        layers_menu = QMenu(self.layers_button)
        self.toggles: dict[Layer, QAction] = {}
        for layer in Layer:
            act = layers_menu.addAction("")
            act.setCheckable(True)
            act.toggled.connect(lambda on, layer=layer: model.set_layer(layer, on))
            self.toggles[layer] = act
        self.layers_button.setMenu(layers_menu)
        row.addWidget(self.layers_button)
        self.fit = QToolButton()
        self.fit.clicked.connect(view.fit_county)
        self.extra = QToolButton()
        row.addWidget(self.fit)
        row.addWidget(self.extra)
        self._shown_switches()
        follow(self, model.layers_changed, lambda _l: self._shown_switches())
        follow(self, model.period_changed, lambda _p: self._shown_switches())
        self._lang = i18n.on_change(self.retranslate)
        self.destroyed.connect(lambda *_: self._lang.disconnect())
        self.retranslate()

    def _shown_switches(self) -> None:
        for layer, act in self.toggles.items():
            if act.isChecked() != self.model.layers[layer]:
                act.setChecked(self.model.layers[layer])
        index = list(Period).index(self.model.period)
        if self.period.currentIndex() != index:
            self.period.setCurrentIndex(index)

    def retranslate(self) -> None:
        self.search.setPlaceholderText(t("search"))
        self.layers_button.setText(t("layers"))
        for i, p in enumerate(Period):
            self.period.setItemText(i, t(f"period.{p.value}"))
        for layer, act in self.toggles.items():
            act.setText(t(f"layer.{layer.value}"))
        self.fit.setText(t("fit"))
        self.extra.setText(t(self._extra_key))

    def find_place(self, text: str) -> bool:
        """Choose the best place matching `text`; says what it found."""
        hits = self.model.search(text)
        if not hits:
            self.found.setText(t("not_found", text=one_line(text)))
            return False
        self.choose(hits[0])
        return True

    def choose(self, place: Place) -> None:
        """Centre the view on `place` and mark it (an event: highlighted)."""
        self.view.centre_on_world(*place.at, scale=FOUND_SCALE)
        self.model.set_found(place)
        self.found.setText(t("found", name=one_line(place.name)))


class MapWindow(QWidget):
    """The map full screen on its own screen, with its own tool row; Esc (or 退出全屏)
    closes it."""

    closed = Signal()

    def __init__(self, model: MapModel) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("mapWindow")
        self.view = MapView(model, self)
        add_found_marker(self.view, model)
        self.tools = MapTools(model, self.view, "exit_fullscreen", self)
        self.tools.extra.clicked.connect(self.close)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.tools)
        lay.addWidget(self.tools.places.results)
        lay.addWidget(self.view, 1)

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
        add_found_marker(self.view, model)
        self.window_: MapWindow | None = None
        self.base: TileLayer | None = None
        self.tools = MapTools(model, self.view, "fullscreen", self)
        self.tools.extra.clicked.connect(self.toggle_fullscreen)
        tools = self.tools  # the names the rest of the console and the tests use
        self.places, self.search, self.found = tools.places, tools.search, tools.found
        self.period, self.toggles, self.layers_button = (
            tools.period,
            tools.toggles,
            tools.layers_button,
        )
        self.fit, self.full = tools.fit, tools.extra
        self.find_place, self.choose = tools.find_place, tools.choose
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(tools)
        lay.addWidget(self.places.results)
        lay.addWidget(self.view, 1)

    def set_base(self, layer: TileLayer) -> None:
        """The offline base tiles under the map (and under the full-screen map)."""
        self.base = layer
        self.view.set_base(layer)

    def toggle_fullscreen(self) -> None:
        if self.window_ is not None:
            self.window_.close()
            return
        win = MapWindow(self.model)
        if self.base is not None:
            win.view.set_base(self.base.twin())
        screen, _second = wall_screen(QGuiApplication.screens())
        if screen is not None:
            win.setGeometry(screen.geometry())
        win.closed.connect(self._fullscreen_closed)
        win.view.cameraClicked.connect(self.view.cameraClicked)
        win.view.eventClicked.connect(self.view.eventClicked)
        win.view.camerasPicked.connect(self.view.camerasPicked)
        win.view.dispatchRequested.connect(self.view.dispatchRequested)
        win.showFullScreen()
        win.view.fit_county()
        self.window_ = win

    def _fullscreen_closed(self) -> None:
        win, self.window_ = self.window_, None
        if win is not None:
            win.deleteLater()
