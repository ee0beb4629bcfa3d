"""The event queue panel (docked by the main window).

A view over `EventQueueModel`: header with the operator and role, a connection banner,
a red-alarm banner, the filter bar and search, the sorted list with colour marks and a
live countdown (1 Hz timer; the time comes from the model's clock), and the details pane
with the timeline and exactly the actions the operator's role allows. User intent goes to
the controller; the panel never does I/O and never changes the model itself.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.events.actions import ACK_SHORTCUT, SPECS, ActionRequest
from console.events.details import DetailsPane
from console.events.dialogs import ask_with_dialog
from console.events.format import format_clock, format_countdown
from console.events.model import Connection, ConnKind, EventQueueModel, Filters, Message, Session
from console.events.ports import (
    Ask,
    AskDispatch,
    AskTask,
    DispatchPanelController,
    PanelController,
)
from console.events.strings import category_name, role_name, source_name, state_name, tr
from console.events.table import Col, EventTableModel
from console.kit.observable import Observable
from console.kit.plain import plain_label
from console.tasks.dispatch_dialog import ask_dispatch as dialog_ask_dispatch
from console.tasks.dispatch_dialog import ask_task as dialog_ask_task
from console.tasks.model import DispatchModel
from console.tasks.view import TasksView
from dispatch.domain.model import DEFAULT_CATEGORIES, Action, Event, EventSource, EventState
from dispatch.hub.auth import REVEAL_ROLES
from dispatch.tasks.core import DispatchTask, TaskAction
from dispatch.tasks.messages import DispatchPreviewReply, PersonInfo

DISPATCH_SHORTCUT = "P"
LINK_SHORTCUT = "L"
MEDIATION_SHORTCUT = "M"

BLINK_MS = 500
BEEP_EVERY_BLINKS = 4  # while alarms are unacknowledged: a beep every 2 s


def _combo(name: str, all_text: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.addItem(all_text, None)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box


class EventQueuePanel(QWidget):
    def __init__(
        self,
        model: EventQueueModel,
        controller: PanelController,
        *,
        beep: Callable[[], None] | None = None,
        ask: Ask | None = None,
        ask_dispatch: AskDispatch | None = None,
        ask_task: AskTask | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("eventQueuePanel")
        self.model = model
        self.controller = controller
        self._beep = beep or QApplication.beep
        self.ask: Ask = ask or ask_with_dialog
        self.ask_dispatch: AskDispatch = ask_dispatch or dialog_ask_dispatch
        self.ask_task: AskTask = ask_task or dialog_ask_task
        dc = (
            controller if isinstance(getattr(controller, "dispatch", None), DispatchModel) else None
        )
        self.dispatcher: DispatchPanelController | None = dc  # type: ignore[assignment]
        self._blink_on = False
        self._blinks = 0
        self.beeps = 0

        self._build_header()
        self._build_banners()
        self._build_filters()
        self._build_table()
        self._build_details()
        self.status = plain_label("")
        self.status.setObjectName("statusLine")
        self.status.setWordWrap(True)
        self._arrange()
        self._build_shortcuts()
        self._build_timers()
        self._observe()

    # ------------------------------------------------------------ construction
    def _build_header(self) -> None:
        self.title = plain_label(tr("panel.title"))
        self.title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.session_label = plain_label(tr("panel.not_logged_in"))
        self.session_label.setObjectName("sessionLabel")
        self.count_label = plain_label("")

    def _build_banners(self) -> None:
        self.conn_banner = plain_label("")
        self.conn_banner.setObjectName("connectionBanner")
        self.conn_banner.setWordWrap(True)
        self.conn_banner.hide()
        self.alarm_banner = QFrame()
        self.alarm_banner.setObjectName("alarmBanner")
        self.alarm_text = plain_label("")
        self.alarm_text.setWordWrap(True)
        self.ack_button = QPushButton(tr("ack.button"))
        self.ack_button.setObjectName("ackButton")
        self.ack_button.clicked.connect(lambda: self.acknowledge())
        alarm_row = QHBoxLayout(self.alarm_banner)
        alarm_row.setContentsMargins(8, 4, 8, 4)
        alarm_row.addWidget(self.alarm_text, 1)
        alarm_row.addWidget(self.ack_button)
        self.alarm_banner.hide()
        # "only these events" (a hot spot's), with the way back
        self.only_banner = QFrame()
        self.only_banner.setObjectName("onlyBanner")
        self.only_text = plain_label("")
        self.only_clear = QPushButton(tr("only.clear"))
        self.only_clear.setObjectName("onlyClear")
        self.only_clear.clicked.connect(self.model.clear_only)
        only_row = QHBoxLayout(self.only_banner)
        only_row.setContentsMargins(8, 2, 8, 2)
        only_row.addWidget(self.only_text, 1)
        only_row.addWidget(self.only_clear)
        self.only_banner.hide()

    def _build_filters(self) -> None:
        self.state_filter = _combo("stateFilter", tr("filter.all_states"))
        for st in EventState:
            self.state_filter.addItem(state_name(st), st)
        self.source_filter = _combo("sourceFilter", tr("filter.all_sources"))
        for src in EventSource:
            self.source_filter.addItem(source_name(src), src)
        self.category_filter = _combo("categoryFilter", tr("filter.all_categories"))
        self.township_filter = _combo("townshipFilter", tr("filter.all_townships"))
        self._fill_dynamic_filters()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(tr("filter.search"))
        self.search.setClearButtonEnabled(True)
        for box in (self.state_filter, self.source_filter, self.category_filter):
            box.currentIndexChanged.connect(self._filters_changed)
        self.township_filter.currentIndexChanged.connect(self._filters_changed)
        self.search.textChanged.connect(self.controller.set_search)

    def _build_table(self) -> None:
        self.table_model = EventTableModel(self.model, self)
        self.table = QTableView()
        self.table.setObjectName("eventTable")
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        head = self.table.horizontalHeader()
        for c in Col:
            mode = QHeaderView.ResizeMode.ResizeToContents
            head.setSectionResizeMode(c, mode)
        head.setSectionResizeMode(Col.TITLE, QHeaderView.ResizeMode.Stretch)
        # sized to the rows on screen, not up to 1,000 at each change (soak: 0.5 fps)
        head.setResizeContentsPrecision(0)
        head.setMinimumSectionSize(40)
        self.table.selectionModel().selectionChanged.connect(self._table_selection)
        self.table_model.refreshed.connect(self._after_refresh)

    def _build_details(self) -> None:
        """The details pane with the dispatch section under the event's facts."""
        self.details = DetailsPane(self.trigger)
        self.details.on_message = lambda text: self.model.set_message(Message(text))
        self.dispatch_button = QToolButton()
        self.dispatch_button.setObjectName("dispatchButton")
        self.dispatch_button.setText(tr("dispatch.button"))
        self.dispatch_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.dispatch_button.setStyleSheet("font-weight: bold; padding: 3px 10px;")
        self.dispatch_button.clicked.connect(self.dispatch_now)
        self.dispatch_menu = QMenu(self.dispatch_button)
        self.dispatch_menu.addAction(tr("dispatch.more"), self.dispatch_with_choice)
        self.dispatch_button.setMenu(self.dispatch_menu)
        self.link_button = QPushButton(tr("dispatch.link"))
        self.link_button.setObjectName("linkButton")
        self.link_button.clicked.connect(self.link_video)
        bar = QHBoxLayout()
        bar.addWidget(self.dispatch_button)
        bar.addWidget(self.link_button)
        # 视频调解 (M): console.mediation.coordinator connects to it (issue 5)
        self.mediation_requested: Observable[Event] = Observable()
        self.mediation_button = QPushButton(tr("mediation.button"))
        self.mediation_button.setObjectName("mediationButton")
        self.mediation_button.clicked.connect(self.request_mediation)
        bar.addWidget(self.mediation_button)
        bar.addStretch(1)
        self.tasks_view = TasksView(self.task_action)
        self.details.info_layout.addLayout(bar)
        self.details.info_layout.addWidget(self.tasks_view)

    def _arrange(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(12)
        header.addWidget(self.session_label)
        header.addStretch(1)
        header.addWidget(self.count_label)
        filters = QHBoxLayout()
        for box in (self.state_filter, self.source_filter, self.category_filter):
            filters.addWidget(box)
        filters.addWidget(self.township_filter)
        filters.addWidget(self.search, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([520, 480])  # proportions; Qt scales them to the real height
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.conn_banner)
        layout.addWidget(self.alarm_banner)
        layout.addWidget(self.only_banner)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status)

    def _build_shortcuts(self) -> None:
        """Active while the panel (or a child) has focus."""
        self.shortcuts: dict[str, QShortcut] = {}
        for action, s in SPECS.items():
            self._shortcut(s.shortcut, self._trigger_fn(action))
        self._shortcut(ACK_SHORTCUT, lambda: self.acknowledge())
        self._shortcut(DISPATCH_SHORTCUT, self.dispatch_now)
        self._shortcut(LINK_SHORTCUT, self.link_video)
        self._shortcut(MEDIATION_SHORTCUT, self.request_mediation)
        self._shortcut("Ctrl+F", self.search.setFocus)
        self.ack_button.setToolTip(tr("tooltip.shortcut", action=tr("ack.button"), key="K"))

    def _build_timers(self) -> None:
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(1000)
        self.tick_timer.timeout.connect(self.tick)
        self.tick_timer.start()
        self.blink_timer = QTimer(self)
        self.blink_timer.setInterval(BLINK_MS)
        self.blink_timer.timeout.connect(self.blink)

    def _observe(self) -> None:
        """Follow the model (and the dispatch model), then draw the current state."""
        model = self.model
        model.selection_changed.connect(lambda _i: self._show_selected())
        model.timeline_changed.connect(self._timeline_changed)
        model.connection_changed.connect(self._connection_changed)
        model.session_changed.connect(self._session_changed)
        model.alarms_changed.connect(self._alarms_changed)
        model.message_changed.connect(self._message_changed)
        model.rows_changed.connect(lambda _n: self._update_count())
        model.rows_changed.connect(lambda _n: self._update_only())
        if self.dispatcher is not None:
            self.table_model.badge_fn = self.dispatcher.dispatch.badge
            self.dispatcher.dispatch.tasks_changed.connect(self._tasks_changed)
        self._connection_changed(model.connection)
        self._session_changed(model.session)
        self._alarms_changed(model.unacknowledged())
        self._update_count()
        self._show_selected()

    def _update_only(self) -> None:
        only = self.model.only
        self.only_banner.setVisible(only is not None)
        if only is not None:
            self.only_text.setText(tr("only.banner", n=len(only)))

    # ------------------------------------------------------------ building blocks
    def _shortcut(self, key: str, fn: Callable[[], object]) -> None:
        sc = QShortcut(QKeySequence(key), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(fn)
        self.shortcuts[key] = sc

    def _trigger_fn(self, action: Action) -> Callable[[], None]:
        return lambda: self.trigger(action)

    def _fill_dynamic_filters(self) -> None:
        cats = sorted({*DEFAULT_CATEGORIES, *self.model.categories()})
        have = {self.category_filter.itemData(i) for i in range(self.category_filter.count())}
        for c in cats:
            if c not in have:
                self.category_filter.addItem(category_name(c), c)
        have = {self.township_filter.itemData(i) for i in range(self.township_filter.count())}
        for t in self.model.townships():
            if t not in have:
                self.township_filter.addItem(self.model.township_names.get(t, t), t)

    def _filters_changed(self, _index: int = 0) -> None:
        def one(box: QComboBox) -> frozenset[object] | None:
            data = box.currentData()
            return None if data is None else frozenset({data})

        states = one(self.state_filter)
        sources = one(self.source_filter)
        categories = one(self.category_filter)
        townships = one(self.township_filter)
        self.controller.set_filters(
            Filters(
                states=states,  # type: ignore[arg-type]
                sources=sources,  # type: ignore[arg-type]
                categories=categories,  # type: ignore[arg-type]
                townships=townships,  # type: ignore[arg-type]
                search=self.search.text(),
            )
        )

    # ------------------------------------------------------------ intent
    def trigger(self, action: Action) -> None:
        """Take `action` on the selected event, asking for its inputs when it needs them."""
        row = self.model.selected()
        if row is None or action not in self.model.allowed_actions(row.event.id):
            return
        s = SPECS[action]
        if s.needs_dialog:
            req = self.ask(s, row.event, self)
            if req is None:
                return
        else:
            req = ActionRequest(row.event.id, action)
        self.controller.act(req)

    def acknowledge(self) -> None:
        self.controller.acknowledge(None)

    def _selected_for_dispatch(self) -> Event | None:
        row = self.model.selected()
        if row is None or self.dispatcher is None or self.model.stale:
            return None
        return row.event

    def dispatch_now(self) -> None:
        """One click (or P): the suggested person, the category's instruction."""
        event = self._selected_for_dispatch()
        if event is not None and self.dispatcher is not None:
            self.dispatcher.dispatch_event(event.id)

    def dispatch_with_choice(self) -> None:
        """Pick another person of the chain or add a note first (asks the hub's preview)."""
        event = self._selected_for_dispatch()
        d = self.dispatcher
        if event is None or d is None:
            return

        def got(preview: DispatchPreviewReply | None) -> None:
            if preview is None:
                return
            choice = self.ask_dispatch(event, preview, self)
            if choice is not None:
                d.dispatch_event(
                    event.id, choice.person_id, note=choice.note, instruction=choice.instruction
                )

        self.status.setText(tr("dispatch.loading"))
        d.preview(event.id, got)

    def link_video(self) -> None:
        """L: the nearest cameras of the selected event on the wall."""
        event = self._selected_for_dispatch()
        if event is not None and self.dispatcher is not None:
            self.dispatcher.link_video(event.id)

    def request_mediation(self) -> None:
        """M: open the remote video mediation window on the selected event."""
        row = self.model.selected()
        if row is not None:
            self.mediation_requested.emit(row.event)

    def task_action(self, task: DispatchTask, action: TaskAction) -> None:
        d = self.dispatcher
        if d is None:
            return

        def go(chain: list[PersonInfo]) -> None:
            choice = self.ask_task(action, task, chain, self)
            if choice is not None:
                d.task_act(task.id, action, note=choice.note, person_id=choice.person_id)

        if action is not TaskAction.REASSIGN:
            go([])
            return
        preview = d.dispatch.preview(task.event_id)
        if preview is not None:
            go(list(preview.chain))
        else:
            d.preview(task.event_id, lambda p: go(list(p.chain)) if p is not None else None)

    def select_event(self, event_id: str) -> None:
        """Select a row by event id (as if clicked)."""
        r = self.table_model.row_of(event_id)
        if r >= 0:
            self.table.selectRow(r)

    def _table_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        event_id = self.table_model.event_id(indexes[0].row())
        if event_id is not None and event_id != self.model.selected_id:
            self.controller.select(event_id)

    # ------------------------------------------------------------ model → view
    def _after_refresh(self) -> None:
        sel = self.model.selected_id
        r = self.table_model.row_of(sel) if sel else -1
        sm = self.table.selectionModel()
        sm.blockSignals(True)
        try:
            if r >= 0:
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                sm.select(self.table_model.index(r, 0), flags)
                sm.setCurrentIndex(
                    self.table_model.index(r, 0), QItemSelectionModel.SelectionFlag.NoUpdate
                )
            else:
                sm.clearSelection()
                sm.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            sm.blockSignals(False)
        self.table.viewport().update()
        self._fill_dynamic_filters()

    def _update_count(self) -> None:
        self.count_label.setText(
            tr("panel.count", shown=len(self.model.visible()), total=self.model.total())
        )

    def _show_selected(self) -> None:
        row = self.model.selected()
        enabled = row is not None and self.dispatcher is not None and not self.model.stale
        self.dispatch_button.setEnabled(enabled)
        self.link_button.setEnabled(enabled)
        self._show_tasks()
        if row is None:
            self.details.show_event(None)
            self.details.set_actions([], False)
            return
        e = row.event
        self.details.show_event(
            e, row.colour, format_countdown(self.model.countdown(e.id)), self.model.township_names
        )
        self.details.set_actions(self.model.allowed_actions(e.id), not self.model.stale)
        self.details.set_timeline(self.model.timeline(e.id))

    def _show_tasks(self) -> None:
        row = self.model.selected()
        d = self.dispatcher
        if row is None or d is None:
            self.tasks_view.set_tasks([], None, False)
            return
        self.tasks_view.set_tasks(
            d.dispatch.tasks(row.event.id), self.model.session, not self.model.stale
        )

    def _tasks_changed(self, event_id: str) -> None:
        self.table_model.badges_changed(event_id)
        if event_id == self.model.selected_id:
            self._show_tasks()

    def _timeline_changed(self, event_id: str) -> None:
        if event_id == self.model.selected_id:
            self.details.set_timeline(self.model.timeline(event_id))

    def _connection_changed(self, conn: Connection) -> None:
        if conn.kind is ConnKind.LOST:
            self.conn_banner.setText(tr("banner.lost", time=format_clock(self.model.data_as_of())))
            self.conn_banner.setStyleSheet(
                "background: #b71c1c; color: white; font-weight: bold; padding: 6px;"
            )
            self.conn_banner.show()
        elif conn.kind is ConnKind.REFUSED:
            self.conn_banner.setText(tr("banner.refused"))
            self.conn_banner.setStyleSheet(
                "background: #b71c1c; color: white; font-weight: bold; padding: 6px;"
            )
            self.conn_banner.show()
        elif conn.kind is ConnKind.CONNECTED and conn.hub_storage in (
            "disk_full",
            "db_unreachable",
        ):
            key = f"banner.{conn.hub_storage}"
            self.conn_banner.setText(tr(key, time=format_clock(conn.storage_since)))
            self.conn_banner.setStyleSheet(
                "background: #e65100; color: white; font-weight: bold; padding: 6px;"
            )
            self.conn_banner.show()
        elif conn.kind is ConnKind.CONNECTING:
            self.conn_banner.setText(tr("banner.connecting"))
            self.conn_banner.setStyleSheet("background: #546e7a; color: white; padding: 4px;")
            self.conn_banner.show()
        else:
            self.conn_banner.hide()
        for b in self.details.buttons.values():
            b.setEnabled(not self.model.stale)
        if hasattr(self, "tasks_view"):
            self._show_selected()
        self.table_model.tick()

    def _session_changed(self, session: Session | None) -> None:
        allowed = session is not None and session.role in REVEAL_ROLES
        self.details.set_reveal(getattr(self.controller, "reveal", None) if allowed else None)
        if session is None:
            self.session_label.setText(tr("panel.not_logged_in"))
        else:
            self.session_label.setText(
                tr(
                    "panel.operator",
                    operator=session.operator,
                    role=role_name(session.role),
                    workstation=session.workstation,
                )
            )

    def _alarms_changed(self, ids: list[str]) -> None:
        if not ids:
            self.alarm_banner.hide()
            self.blink_timer.stop()
            self._blink_on = False
            self.table_model.set_blink(False)
            return
        newest = self.model.row(ids[0])
        title = newest.event.title if newest else ids[0]
        self.alarm_text.setText(tr("banner.alarm", count=len(ids), title=title))
        self._paint_alarm_banner(True)
        self.alarm_banner.show()
        if not self.blink_timer.isActive():
            self._blinks = 0
            self.blink_timer.start()
            self._sound()

    def _paint_alarm_banner(self, strong: bool) -> None:
        bg = "#d32f2f" if strong else "#ff8a80"
        self.alarm_banner.setStyleSheet(
            f"QFrame#alarmBanner {{ background: {bg}; }} "
            "QFrame#alarmBanner QLabel { color: white; font-weight: bold; font-size: 14px; }"
        )

    def _message_changed(self, message: Message | None) -> None:
        if message is None:
            self.status.setText("")
            return
        self.status.setText(message.text)
        self.status.setStyleSheet("color: #c62828;" if message.error else "color: #2e7d32;")

    def _sound(self) -> None:
        self.beeps += 1
        self._beep()

    # ------------------------------------------------------------ timers
    def tick(self) -> None:
        """Once a second: countdowns in the list and the details pane."""
        self.table_model.tick()
        sel = self.model.selected_id
        if sel is not None:
            self.details.set_countdown(format_countdown(self.model.countdown(sel)))

    def blink(self) -> None:
        """Twice a second while red alarms wait: flash their rows and the banner, and beep."""
        self._blink_on = not self._blink_on
        self._blinks += 1
        self.table_model.set_blink(self._blink_on)
        self._paint_alarm_banner(self._blink_on)
        if self._blinks % BEEP_EVERY_BLINKS == 0:
            self._sound()
