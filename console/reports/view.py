"""Qt views: the monthly report (month picker, figures, charts, export) and the
dashboard's hot-spot warnings. They do no I/O: they observe the `ReportsModel` (through
`console.kit.qt_observe.follow`, released when the view is destroyed) and send the
officer's intents to the controller."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from PySide6.QtCore import QDate
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from console.kit.items import USER_ROLE, Cell, ListFiller, TableFiller
from console.kit.plain import inert_bidi, plain_label
from console.kit.qt_observe import follow
from console.reports.model import HotspotRow, ReportScreen, ReportsModel
from console.reports.strings import t

_IDS = USER_ROLE


class ReportIntents(Protocol):
    """What the report view asks of its controller (`ReportController`)."""

    def load_month(self, month: date) -> None: ...
    def export(self, month: date) -> None: ...


class HotspotIntents(Protocol):
    """What the hot-spot panel asks of its controller (`ReportController`)."""

    def open_events(self, ids: tuple[str, ...]) -> None: ...


class ReportView(QWidget):
    """Shows the model's report screen, status line and export state; the buttons ask the
    controller for the picked month's report or its PDF."""

    def __init__(
        self, model: ReportsModel, intents: ReportIntents, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._intents = intents
        self.picker = QDateEdit()
        self.picker.setDisplayFormat("yyyy-MM")
        self.picker.setCalendarPopup(False)
        self.picker.setToolTip(t("month"))
        self.load_button = QPushButton(t("make"))
        self.load_button.setToolTip(t("tip.make"))
        self.export_button = QPushButton(t("export_pdf"))
        self.export_button.setToolTip(t("tip.export"))
        self.export_button.setEnabled(False)
        self.title = plain_label(t("choose_month"))
        self.title.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.status = plain_label("")
        self.table = QTableWidget(0, 2)
        self._rows = TableFiller(self.table)
        self.table.setHorizontalHeaderLabels([t("col.figure"), t("col.value")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumWidth(300)
        self.overdue = QListWidget()
        self.charts = QWidget()
        self._chart_layout = QVBoxLayout(self.charts)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.charts)
        top = QHBoxLayout()
        for w in (plain_label(t("month")), self.picker, self.load_button, self.export_button):
            top.addWidget(w)
        top.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.table, 3)
        left.addWidget(plain_label(t("overdue")))
        left.addWidget(self.overdue, 2)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(scroll, 2)
        root = QVBoxLayout(self)
        root.addLayout(top)
        root.addWidget(self.title)
        root.addWidget(self.status)
        root.addLayout(body, 1)
        self.load_button.clicked.connect(lambda: intents.load_month(self.month()))
        self.export_button.clicked.connect(lambda: intents.export(self.month()))
        if model.screen is not None:
            self._show_screen(model.screen)
        self.status.setText(model.status)
        self.export_button.setEnabled(model.exportable)
        follow(self, model.screen_changed, self._show_screen)
        follow(self, model.status_changed, self.status.setText)
        follow(self, model.export_changed, self.export_button.setEnabled)

    def month(self) -> date:
        d = self.picker.date()
        return date(d.year(), d.month(), 1)

    def set_month(self, month: date) -> None:
        self.picker.setDate(QDate(month.year, month.month, 1))

    def _show_screen(self, screen: ReportScreen) -> None:
        self.title.setText(screen.title)
        self._rows.fill([[k, v] for k, v in screen.summary + screen.sections])
        self.table.resizeColumnsToContents()
        self.overdue.clear()
        self.overdue.addItems([inert_bidi(line) for line in screen.overdue or [t("no_overdue")]])
        while self._chart_layout.count():
            item = self._chart_layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for png in screen.charts:
            label = plain_label()
            pix = QPixmap()
            pix.loadFromData(png, "PNG")
            label.setPixmap(pix)
            self._chart_layout.addWidget(label)


class HotspotPanel(QWidget):
    """The dashboard's hot-spot warnings from the model; a click asks the controller to
    open the warning's events."""

    def __init__(
        self, model: ReportsModel, intents: HotspotIntents, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._intents = intents
        self.header = plain_label(model.hotspot_header)
        self.header.setStyleSheet("font-weight: bold;")
        self.list = QListWidget()
        self._rows = ListFiller(self.list)  # refilled every minute (console.kit.items)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.list)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        if model.hotspots is not None:
            self._show_rows(model.hotspot_rows)
        follow(self, model.hotspots_changed, self._show_rows)
        follow(self, model.hotspot_header_changed, self.header.setText)

    def _show_rows(self, rows: tuple[HotspotRow, ...]) -> None:
        if not rows:
            self._rows.fill([Cell(t("no_hotspots"), enabled=False)])
            return
        self._rows.fill([Cell(r.text, tooltip=r.tooltip, data=list(r.event_ids)) for r in rows])

    def _open(self, item: QListWidgetItem) -> None:
        ids = item.data(_IDS)
        if ids:
            self._intents.open_events(tuple(str(i) for i in ids))
