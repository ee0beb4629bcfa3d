"""Qt views: the monthly report (month picker, figures, charts, export) and the
dashboard's hot-spot warnings. They do no I/O: they emit intents and are given data."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.reports.model import ReportScreen, hotspot_rows
from console.reports.strings import t
from dispatch.reports.messages import HotspotItem

_IDS = Qt.ItemDataRole.UserRole


class ReportView(QWidget):
    """`month_requested(date)` when the user asks for a month; `export_requested(date)`
    for a PDF; `show_screen` / `show_error` are called by the controller."""

    month_requested = Signal(object)
    export_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picker = QDateEdit()
        self.picker.setDisplayFormat("yyyy-MM")
        self.picker.setCalendarPopup(False)
        self.picker.setToolTip(t("month"))
        self.load_button = QPushButton(t("make"))
        self.load_button.setToolTip(t("tip.make"))
        self.export_button = QPushButton(t("export_pdf"))
        self.export_button.setToolTip(t("tip.export"))
        self.export_button.setEnabled(False)
        self.title = QLabel(t("choose_month"))
        self.title.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.status = QLabel("")
        self.table = QTableWidget(0, 2)
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
        for w in (QLabel(t("month")), self.picker, self.load_button, self.export_button):
            top.addWidget(w)
        top.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.table, 3)
        left.addWidget(QLabel(t("overdue")))
        left.addWidget(self.overdue, 2)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(scroll, 2)
        root = QVBoxLayout(self)
        root.addLayout(top)
        root.addWidget(self.title)
        root.addWidget(self.status)
        root.addLayout(body, 1)
        self.load_button.clicked.connect(self._ask)
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.month()))

    def month(self) -> date:
        d = self.picker.date()
        return date(d.year(), d.month(), 1)

    def set_month(self, month: date) -> None:
        self.picker.setDate(QDate(month.year, month.month, 1))

    def _ask(self) -> None:
        self.status.setText(t("working"))
        self.month_requested.emit(self.month())

    def show_screen(self, screen: ReportScreen) -> None:
        self.title.setText(screen.title)
        self.status.setText("")
        rows = screen.summary + screen.sections
        self.table.setRowCount(len(rows))
        for i, (k, v) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(k))
            self.table.setItem(i, 1, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()
        self.overdue.clear()
        self.overdue.addItems(screen.overdue or [t("no_overdue")])
        while self._chart_layout.count():
            item = self._chart_layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for png in screen.charts:
            label = QLabel()
            pix = QPixmap()
            pix.loadFromData(png, "PNG")
            label.setPixmap(pix)
            self._chart_layout.addWidget(label)
        self.export_button.setEnabled(True)

    def show_error(self, message: str) -> None:
        self.status.setText(t("error", message=message))


class HotspotPanel(QWidget):
    """The dashboard's hot-spot warnings; a click emits `open_events(tuple of ids)`."""

    open_events = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel(t("hotspots_title"))
        self.header.setStyleSheet("font-weight: bold;")
        self.list = QListWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.list)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)

    def set_hotspots(self, items: list[HotspotItem] | tuple[HotspotItem, ...]) -> None:
        self.list.clear()
        rows = hotspot_rows(items)
        self.header.setText(t("hotspots_count", n=len(rows)))
        if not rows:
            empty = QListWidgetItem(t("no_hotspots"))
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
        for r in rows:
            item = QListWidgetItem(r.text)
            item.setToolTip(r.tooltip)
            item.setData(_IDS, list(r.event_ids))
            self.list.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        ids = item.data(_IDS)
        if ids:
            self.open_events.emit(tuple(ids))
