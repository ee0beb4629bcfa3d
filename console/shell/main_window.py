"""The main window: arranges the panels (camera tree left, wall centre, side panels right).

It holds no logic of its own beyond wiring: intents go to the WallController, state
lives in the WallModel, named layouts in the LayoutStore.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QSpinBox,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.cameras.online import OnlineSources
from console.cameras.panel import CameraTreePanel
from console.cameras.tree import Node
from console.kit import i18n
from console.kit.i18n import tr
from console.kit.plain import plain_label, set_plain_tooltip
from console.wall.controller import WallController
from console.wall.fullscreen import WallWindow, wall_screen
from console.wall.layouts import LayoutFileError, LayoutStore
from console.wall.model import WallState
from console.wall.shapes import SHAPE_NAMES, UnknownShapeError
from console.wall.tour import TourError
from console.wall.view import WallView
from streams.private import private_dir


def default_state(camera_ids: list[str], shape_name: str = "9") -> WallState:
    from console.wall.shapes import shape

    n = shape(shape_name).tiles
    return WallState(shape_name, dict(enumerate(camera_ids[:n])))


class MainWindow(QMainWindow):
    def __init__(
        self,
        controller: WallController,
        tree: Node,
        store: LayoutStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.controller = controller
        self.model = controller.model
        self.store = store
        self.wall = WallView(controller)
        self.cameras = CameraTreePanel(tree)
        self.online_sources = OnlineSources()  # the patrol and the relays feed it
        self.wall_window: WallWindow | None = None
        self._started = False
        self._texts: list[tuple[QAction | QLabel | QDockWidget, str]] = []

        # centre: the wall, or a note while it is on the other screen
        self._centre = QStackedWidget(self)
        self._wall_holder = QWidget()
        self._holder_lay = QVBoxLayout(self._wall_holder)
        self._holder_lay.setContentsMargins(0, 0, 0, 0)
        self._holder_lay.addWidget(self.wall)
        self._away = plain_label()
        self._away.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._centre.addWidget(self._wall_holder)
        self._centre.addWidget(self._away)
        self.setCentralWidget(self._centre)

        dock = QDockWidget(self)
        dock.setObjectName("cameraDock")
        dock.setWidget(self.cameras)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self._remember(dock, "dock.cameras")

        self._build_toolbar()
        self._build_menus()
        self._build_statusbar()

        self.cameras.cameraActivated.connect(self.place_camera)
        self.wall.message.connect(self.show_message)
        self.wall.shedChanged.connect(self._on_shed)
        self._refresh = QTimer(self)
        self._refresh.setInterval(1000)
        self._refresh.timeout.connect(self._refresh_counts)
        self._unmodel = self.model.changed.connect(lambda _change: self._sync_controls()).disconnect
        self._lang_sub = i18n.on_change(self.retranslate)
        self.retranslate()

    # -- building --------------------------------------------------------------
    def _remember(self, widget: QAction | QLabel | QDockWidget, key: str) -> None:
        self._texts.append((widget, key))

    def _action(self, key: str, slot: Callable[[], object], *, checkable: bool = False) -> QAction:
        act = QAction(self)
        act.setCheckable(checkable)
        act.triggered.connect(lambda *_: slot())
        self._remember(act, key)
        return act

    def _build_toolbar(self) -> None:
        bar = QToolBar(self)
        bar.setObjectName("wallToolbar")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.layout_label = plain_label()
        self._remember(self.layout_label, "label.layout")
        bar.addWidget(self.layout_label)
        self.shape_box = QComboBox()
        for name in SHAPE_NAMES:
            self.shape_box.addItem(name, name)
        self.shape_box.activated.connect(
            lambda i: self.model.set_shape(str(self.shape_box.itemData(i)))
        )
        bar.addWidget(self.shape_box)
        self.act_status = self._action(
            "action.status_line",
            lambda: self.model.set_status_visible(self.act_status.isChecked()),
            checkable=True,
        )
        self.act_status.setChecked(True)
        bar.addAction(self.act_status)
        bar.addSeparator()
        self.act_prev = self._action("action.prev_page", lambda: self._page(-1))
        self.act_next = self._action("action.next_page", lambda: self._page(+1))
        self.page_label = plain_label()
        bar.addAction(self.act_prev)
        bar.addWidget(self.page_label)
        bar.addAction(self.act_next)
        bar.addSeparator()
        self.dwell_label = plain_label()
        self._remember(self.dwell_label, "label.dwell")
        bar.addWidget(self.dwell_label)
        self.dwell = QSpinBox()
        self.dwell.setRange(3, 600)
        self.dwell.setValue(10)
        self.dwell.setSuffix(" s")
        bar.addWidget(self.dwell)
        self.act_tour_wall = self._action("action.tour_wall", lambda: self.start_tour(False))
        self.act_tour_tile = self._action("action.tour_tile", lambda: self.start_tour(True))
        self.act_tour_pause = self._action("action.tour_pause", self.toggle_tour_pause)
        self.act_tour_stop = self._action("action.tour_stop", self.stop_tour)
        for act in (
            self.act_tour_wall,
            self.act_tour_tile,
            self.act_tour_pause,
            self.act_tour_stop,
        ):
            bar.addAction(act)
        bar.addSeparator()
        self.saved_box = QComboBox()
        self.saved_box.setMinimumContentsLength(8)
        self.saved_box.activated.connect(lambda i: self.load_layout(self.saved_box.itemText(i)))
        self.act_save_layout = self._action("action.save_layout", self._ask_save_layout)
        bar.addWidget(self.saved_box)
        bar.addAction(self.act_save_layout)
        bar.addSeparator()
        self.act_fullscreen = self._action("action.fullscreen", self.toggle_wall_fullscreen)
        bar.addAction(self.act_fullscreen)

    def _build_menus(self) -> None:
        menus = self.menuBar()
        self.menu_wall = menus.addMenu("")
        self.menu_wall.addAction(self.act_status)
        self.menu_wall.addAction(self.act_fullscreen)
        self.menu_wall.addSeparator()
        self.menu_wall.addAction(self.act_tour_wall)
        self.menu_wall.addAction(self.act_tour_tile)
        self.menu_wall.addAction(self.act_tour_pause)
        self.menu_wall.addAction(self.act_tour_stop)
        self.menu_wall.addSeparator()
        self.menu_wall.addAction(self.act_save_layout)
        self.act_delete_layout = self._action("action.delete_layout", self._delete_layout)
        self.menu_wall.addAction(self.act_delete_layout)
        self.menu_wall.addSeparator()
        self.act_quit = self._action("action.quit", self.close)
        self.menu_wall.addAction(self.act_quit)
        self.menu_evidence = menus.addMenu("")
        self.act_open_evidence = self._action("action.open_evidence", self.open_evidence_folder)
        self.menu_evidence.addAction(self.act_open_evidence)
        self.menu_view = menus.addMenu("")
        self.menu_lang = self.menu_view.addMenu("")
        group = QActionGroup(self)
        self.lang_actions: dict[str, QAction] = {}
        for code in i18n.LANGUAGES:
            act = self._action(f"lang.{code}", partial(i18n.set_language, code), checkable=True)
            group.addAction(act)
            self.menu_lang.addAction(act)
            self.lang_actions[code] = act

    def _build_statusbar(self) -> None:
        bar = self.statusBar()
        self.shed_label = plain_label()
        self.shed_label.setObjectName("shedLabel")
        self.online_label = plain_label()
        self.evidence_button = QToolButton()
        self.evidence_button.clicked.connect(self.open_evidence_folder)
        bar.addPermanentWidget(self.shed_label)
        bar.addPermanentWidget(self.online_label)
        bar.addPermanentWidget(self.evidence_button)

    # -- life ------------------------------------------------------------------
    def start(self, layout: str | None = None, *, default_cameras: list[str] | None = None) -> None:
        """Load saved layouts, restore the last (or the named `layout`), start the wall."""
        if self._started:
            return
        self._started = True
        fresh = True  # no last layout: the wall is filled from the site's cameras
        try:
            result = self.store.load()
        except LayoutFileError as exc:
            self.show_message(str(exc))
        else:
            if result.error is not None:
                self.show_message(
                    tr("status.layout_file_bad", path=str(result.moved_aside), error=result.error)
                )
            fresh = result.last is None
            state = result.last or default_state(default_cameras or [])
            self.model.restore(state)
        if layout is not None:
            self.apply_layout_arg(layout, default_cameras or [], fresh=fresh)
        self._reload_saved()
        self.controller.start()
        self.wall.start()
        self._refresh.start()
        self._sync_controls()
        self._say_missing()

    def _say_missing(self) -> None:
        """A layout naming cameras the site no longer has: say which (their tiles say so)."""
        missing = self.controller.missing_cameras()
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            self.show_message(tr("status.cameras_missing", count=len(missing), cameras=shown), 0)

    def apply_layout_arg(self, layout: str, cameras: list[str], *, fresh: bool = False) -> None:
        """`--layout`: a saved layout's name, or a shape (1, 4, …, 1+7); a shape on a
        `fresh` wall (no last layout) is filled with the site's first cameras."""
        if layout in self.store.names():
            self.model.restore(self.store.get(layout))
            return
        try:
            self.model.set_shape(layout)
        except UnknownShapeError as exc:
            self.show_message(str(exc))
            return
        if fresh or not self.model.assignments():
            self.model.restore(default_state(cameras, layout))

    def stop(self) -> None:
        """Save the last layout and stop every stream; safe to call twice."""
        if not self._started:
            return
        self._started = False
        self._refresh.stop()
        if self.wall_window is not None:
            self.wall_back()
        self.controller.stop_tour()
        try:
            self.store.save_last(self.model.state())
        except OSError as exc:
            self.show_message(tr("status.evidence_failed", error=str(exc)))
        self.wall.stop()
        self.controller.stop()
        self._lang_sub.disconnect()
        self._unmodel()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.WindowStateChange and self.wall_window is None:
            self.controller.set_hidden(self.isMinimized())
        super().changeEvent(event)

    # -- panels ----------------------------------------------------------------
    def add_side_panel(self, widget: QWidget, title: str) -> QDockWidget:
        """Dock a panel (e.g. the event queue) on the right."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"side-{widget.objectName() or title}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        right = [
            d
            for d in self.findChildren(QDockWidget)
            if d is not dock and self.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea
        ]
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        if right:  # the right-side panels share one column of tabs
            self.tabifyDockWidget(right[0], dock)
            right[0].raise_()
        return dock

    def raise_side_panel(self, widget: QWidget) -> bool:
        """Bring the docked panel holding `widget` to the front of its tabs."""
        for d in self.findChildren(QDockWidget):
            if d.widget() is widget:
                d.show()
                d.raise_()
                return True
        return False

    # -- intents ---------------------------------------------------------------
    def show_message(self, text: str, timeout_ms: int = 15000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _page(self, delta: int) -> None:
        self.model.set_page(max(0, self.model.page + delta))

    def place_camera(self, camera_id: str) -> None:
        """A camera double-clicked in the tree (or clicked on the map) goes to the first free
        visible tile."""
        slots = self.model.visible_slots()
        free = [s for s in slots if self.model.camera(s) is None]
        self.controller.assign(free[0] if free else slots[0], camera_id)

    def tour_cameras(self) -> list[str]:
        return self.cameras.selected_cameras() or self.cameras.visible_camera_ids()

    def start_tour(self, one_tile: bool) -> None:
        cams = self.tour_cameras()
        slots = self.model.visible_slots()
        try:
            self.controller.start_tour(cams, slots[:1] if one_tile else slots, self.dwell.value())
        except TourError:
            self.show_message(tr("status.no_tour_cameras"))
            return
        self.show_message(tr("status.tour_running", count=len(cams), seconds=self.dwell.value()))
        self._sync_controls()

    def toggle_tour_pause(self) -> None:
        tour = self.controller.tour
        if tour is None:
            return
        if tour.paused:
            self.controller.resume_tour()
            self.show_message(
                tr("status.tour_running", count=len(tour.cameras), seconds=round(tour.dwell_s))
            )
        else:
            self.controller.pause_tour()
            self.show_message(tr("status.tour_paused"))
        self._sync_controls()

    def stop_tour(self) -> None:
        self.controller.stop_tour()
        self._sync_controls()

    def _ask_save_layout(self) -> None:
        name, ok = QInputDialog.getText(self, tr("action.save_layout"), tr("dialog.layout_name"))
        if ok and name.strip():
            self.save_layout(name)

    def save_layout(self, name: str) -> None:
        self.store.save_named(name, self.model.state())
        self._reload_saved()
        self.show_message(tr("status.layout_saved", name=name.strip()))

    def load_layout(self, name: str) -> None:
        if name in self.store.names():
            self.controller.stop_tour()
            self.model.restore(self.store.get(name))
            self.show_message(tr("status.layout_restored", name=name))
            self._say_missing()

    def _delete_layout(self) -> None:
        name = self.saved_box.currentText()
        if name:
            self.store.delete(name)
            self._reload_saved()

    def _reload_saved(self) -> None:
        self.saved_box.clear()
        self.saved_box.addItems(self.store.names())

    def open_evidence_folder(self) -> None:
        folder = self.controller.evidence_dir
        private_dir(folder)
        self.show_message(tr("status.evidence_folder", path=str(folder)))
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- full screen on the second screen --------------------------------------
    def toggle_wall_fullscreen(self) -> None:
        if self.wall_window is None:
            self.wall_fullscreen()
        else:
            self.wall_back()

    def wall_fullscreen(self) -> None:
        if self.wall_window is not None:
            return
        screen, second = wall_screen(QGuiApplication.screens())
        window = WallWindow()
        window.backRequested.connect(self.wall_back)
        window.minimisedChanged.connect(self.controller.set_hidden)
        self.wall.setParent(None)
        window.layout_.addWidget(self.wall)
        self.wall.show()
        self.wall_window = window
        self._centre.setCurrentWidget(self._away)
        window.show_on(screen)
        if not second:
            self.show_message(tr("status.no_second_screen"))
        self._sync_controls()

    def wall_back(self) -> None:
        window = self.wall_window
        if window is None:
            return
        self.wall_window = None
        self.wall.setParent(None)
        self._holder_lay.addWidget(self.wall)
        self.wall.show()
        self._centre.setCurrentWidget(self._wall_holder)
        window.hide()
        window.deleteLater()
        self.controller.set_hidden(self.isMinimized())
        self._sync_controls()

    # -- keeping the controls in step -----------------------------------------
    def _on_shed(self, count: int) -> None:
        self.shed_label.setText(tr("status.shed", count=count) if count else "")

    def _refresh_counts(self) -> None:
        """Online counts of the tree and the status bar: the wall's tiles, the patrol's
        samples and the relays' states (`OnlineSources`)."""
        self.cameras.set_online(self.online_sources.online(self.controller.camera_statuses()))
        self.cameras.set_relays(self.online_sources.relay_detail)
        online, total = self.cameras.online_total()
        self.online_label.setText(tr("status.online", online=online, total=total))

    def _sync_controls(self) -> None:
        i = self.shape_box.findData(self.model.shape.name)
        if i >= 0 and i != self.shape_box.currentIndex():
            self.shape_box.setCurrentIndex(i)
        self.act_status.setChecked(self.model.status_visible)
        self.page_label.setText(tr("action.page", page=self.model.page + 1, pages=self.model.pages))
        self.act_prev.setEnabled(self.model.page > 0)
        tour = self.controller.tour
        self.act_tour_pause.setEnabled(tour is not None)
        self.act_tour_stop.setEnabled(tour is not None)
        self.act_tour_pause.setText(
            tr("action.tour_resume")
            if tour is not None and tour.paused
            else tr("action.tour_pause")
        )
        self.act_fullscreen.setText(
            tr("action.fullscreen_back")
            if self.wall_window is not None
            else tr("action.fullscreen")
        )

    def retranslate(self) -> None:
        self.setWindowTitle(tr("app.title"))
        for widget, key in self._texts:
            if isinstance(widget, QDockWidget):
                widget.setWindowTitle(tr(key))
            else:
                widget.setText(tr(key))
        for i, name in enumerate(SHAPE_NAMES):
            self.shape_box.setItemText(i, tr(f"layout.{name}"))
        self.menu_wall.setTitle(tr("menu.wall"))
        self.menu_evidence.setTitle(tr("menu.evidence"))
        self.menu_view.setTitle(tr("menu.view"))
        self.menu_lang.setTitle(tr("menu.language"))
        self.lang_actions[i18n.language()].setChecked(True)
        self.evidence_button.setText(tr("action.open_evidence"))
        set_plain_tooltip(self.evidence_button, str(self.controller.evidence_dir))
        self._away.setText(tr("wall.window_title") + " →")
        self._on_shed(len(self.model.shed))
        self._sync_controls()
