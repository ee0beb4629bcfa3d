"""The roll-call panel (视频点名): no I/O; it follows the `RollcallModel` (released when
destroyed) and sends the officer's intents (`RollcallIntents`) to the controller.

Top: the schedule and next run, start / stop / resume, the run's summary. Tabs: the
live run (the video area of the call in progress — `call_view.CallArea` — above one row
per centre, outcome of the call and the re-call), the roster with
online state and exemptions (add one), and the week: coverage per township and for the
county, the log, a week picker over past weeks (history) and CSV / PDF export."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.kit.items import Cell, CellLike, TableFiller
from console.kit.plain import plain_label
from console.kit.qt_observe import follow
from console.rollcall.call_view import CallArea, CallIntents
from console.rollcall.model import (
    RollcallModel,
    Roster,
    Row,
    WeekChoice,
    WeekShown,
    active_call,
    coverage_rows,
    log_rows,
    roster_rows,
    run_rows,
    run_summary,
    schedule_text,
)
from console.rollcall.strings import REASONS, t
from dispatch.rollcall.messages import ExemptionInfo, RunInfo

TONES = {"ok": "#d8f0dc", "warn": "#fff1c9", "bad": "#f7d4d0", "busy": "#d6e6fa"}
RUN_HEADER = (
    "township",
    "centre",
    "state",
    "first",
    "recall",
    "answer",
    "duration",
    "snapshot",
    "note",
)
ROSTER_HEADER = ("township", "centre", "level", "duty_page", "exempt")
COVERAGE_HEADER = ("township", "due", "reached", "coverage", "exempt")
LOG_HEADER = ("township", "centre", "order", "outcome", "rang", "answer", "duration", "note")


class RollcallIntents(Protocol):
    """What the panel asks of its controller (`RollcallController`)."""

    def start_run(self) -> None: ...
    def stop_run(self) -> None: ...
    def resume_run(self) -> None: ...
    def load_week(self, week: date) -> None: ...
    def export(self, week: date, fmt: str) -> None: ...
    def add_exemption(self, ex: ExemptionInfo) -> None: ...
    def issue_link(self, centre_id: str) -> None: ...
    def note_selected(self, centre_id: str | None, text: str) -> None: ...
    def end_call_selected(self, centre_id: str | None) -> None: ...


def _table(header: tuple[str, ...]) -> QTableWidget:
    """A read-only table whose columns are named by the `col.*` strings of `header`."""
    table = QTableWidget(0, len(header))
    table.setHorizontalHeaderLabels([t(f"col.{key}") for key in header])
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    return table


def cells(rows: list[Row]) -> list[list[CellLike]]:
    """The rows as table cells: a toned row on its tone's background, in dark text."""
    out: list[list[CellLike]] = []
    for r in rows:
        if r.tone:
            back, ink = QColor(TONES[r.tone]), QColor("#1d2733")
            out.append([Cell(text, ink, back) for text in r.cells])
        else:
            out.append(list(r.cells))
    return out


def fill(rows: TableFiller, shown: list[Row]) -> None:
    rows.fill(cells(shown))
    rows.table.resizeColumnsToContents()


class RollcallPanel(QWidget):
    """Shows the model's roster, run, weeks and status; the video area (`call_area`)
    follows the model's `call`. Buttons send intents to `intents` and `call_intents`."""

    def __init__(
        self,
        model: RollcallModel,
        intents: RollcallIntents,
        call_intents: CallIntents,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._intents = intents
        self._call_intents = call_intents
        self._build_top()
        self.run_table = _table(RUN_HEADER)
        self.roster_table = _table(ROSTER_HEADER)
        self._run_rows = TableFiller(self.run_table)  # refilled in place (console.kit.items)
        self._roster_rows = TableFiller(self.roster_table)
        self.coverage_table = _table(COVERAGE_HEADER)
        self.log_table = _table(LOG_HEADER)
        self._coverage_rows = TableFiller(self.coverage_table)
        self._log_rows = TableFiller(self.log_table)
        self._build_exemption_form()
        self._build_week_bar()
        self.tabs = QTabWidget()
        self.tabs.addTab(self._run_tab(), t("tab.run"))
        self.tabs.addTab(self._roster_tab(), t("tab.roster"))
        self.tabs.addTab(self._week_tab(), t("tab.week"))
        root = QVBoxLayout(self)
        top = QHBoxLayout()
        for w in (self.start_button, self.stop_button, self.resume_button, self.end_call_button):
            top.addWidget(w)
        top.addStretch(1)
        root.addLayout(top)
        root.addWidget(self.schedule)
        root.addWidget(self.summary)
        root.addWidget(self.status)
        root.addWidget(self.tabs, 1)
        self._connect()
        self._show_roster(model.roster)
        self._show_run(model.run)
        if model.weeks is not None:
            self._show_weeks(model.weeks)
        if model.week is not None:
            self._show_week(model.week)
        self.status.setText(model.status)
        follow(self, model.roster_changed, self._show_roster)
        follow(self, model.run_changed, self._show_run)
        follow(self, model.weeks_changed, self._show_weeks)
        follow(self, model.week_changed, self._show_week)
        follow(self, model.status_changed, self.status.setText)

    # -- construction ----------------------------------------------------------------------
    def _build_top(self) -> None:
        """Schedule, summary, status line and the run's buttons."""
        self.schedule = plain_label(t("no_schedule"))
        self.schedule.setWordWrap(True)
        self.summary = plain_label(t("no_run"))
        self.summary.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.status = plain_label("")
        self.status.setWordWrap(True)
        self.start_button = QPushButton(t("start"))
        self.stop_button = QPushButton(t("stop"))
        self.resume_button = QPushButton(t("resume"))
        self.end_call_button = QPushButton(t("end_call"))
        for b, tip in (
            (self.start_button, "tip.start"),
            (self.stop_button, "tip.stop"),
            (self.resume_button, "tip.resume"),
            (self.end_call_button, "tip.end_call"),
        ):
            b.setToolTip(t(tip))

    def _build_exemption_form(self) -> None:
        """The roster tab's form: exemption, duty link; and the run tab's note."""
        self.ex_centre = QComboBox()
        self.ex_reason = QComboBox()
        for k in REASONS:
            self.ex_reason.addItem(t(f"reason.{k}"), k)
        self.ex_start = QDateEdit()
        self.ex_end = QDateEdit()
        for d in (self.ex_start, self.ex_end):
            d.setDisplayFormat("yyyy-MM-dd")
            d.setDate(QDate.currentDate())
        self.ex_note = QLineEdit()
        self.ex_note.setPlaceholderText(t("explain"))
        self.ex_add = QPushButton(t("add_exemption"))
        self.link_button = QPushButton(t("issue_link"))
        self.link_button.setToolTip(t("tip.issue_link"))
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(t("note_hint"))
        self.note_button = QPushButton(t("save_note"))

    def _build_week_bar(self) -> None:
        self.week_pick = QComboBox()
        self.week_pick.setToolTip(t("tip.week"))
        self.week_pick.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.week_pick.setMinimumContentsLength(16)
        self.export_csv = QPushButton(t("export_csv"))
        self.export_pdf = QPushButton(t("export_pdf"))
        self.week_title = plain_label("")

    def _run_tab(self) -> QSplitter:
        """The video area of the call in progress above the run's table and note."""
        self.call_area = CallArea(
            self.model.call, self._call_intents, selected=self.selected_centre
        )
        table_box = QWidget()
        rl = QVBoxLayout(table_box)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.run_table)
        nl = QHBoxLayout()
        nl.addWidget(self.note_edit, 1)
        nl.addWidget(self.note_button)
        rl.addLayout(nl)
        run_tab = QSplitter(Qt.Orientation.Vertical)
        run_tab.addWidget(self.call_area)
        run_tab.addWidget(table_box)
        run_tab.setStretchFactor(0, 1)
        run_tab.setStretchFactor(1, 1)
        run_tab.setSizes([500, 300])  # proportions: the picture first, the table visible
        self.run_split = run_tab
        return run_tab

    def _roster_tab(self) -> QWidget:
        roster_tab = QWidget()
        ro = QVBoxLayout(roster_tab)
        ro.addWidget(self.roster_table, 1)
        rows: list[list[QWidget]] = [  # two rows: the panel fits a narrow side dock
            [plain_label(t("centre")), self.ex_centre, self.ex_reason, self.link_button],
            [
                plain_label(t("from")),
                self.ex_start,
                plain_label(t("to")),
                self.ex_end,
                self.ex_note,
                self.ex_add,
            ],
        ]
        for row_widgets in rows:
            form = QHBoxLayout()
            for fw in row_widgets:
                form.addWidget(fw)
            ro.addLayout(form)
        return roster_tab

    def _week_tab(self) -> QWidget:
        week_tab = QWidget()
        wl = QVBoxLayout(week_tab)
        wt = QHBoxLayout()
        for ww in (plain_label(t("week")), self.week_pick, self.export_csv, self.export_pdf):
            wt.addWidget(ww)
        wt.addStretch(1)
        wl.addLayout(wt)
        wl.addWidget(self.week_title)
        wl.addWidget(self.coverage_table, 1)
        wl.addWidget(plain_label(t("log")))
        wl.addWidget(self.log_table, 2)
        return week_tab

    def _connect(self) -> None:
        self.start_button.clicked.connect(self._intents.start_run)
        self.stop_button.clicked.connect(self._intents.stop_run)
        self.resume_button.clicked.connect(self._intents.resume_run)
        self.week_pick.activated.connect(lambda _i: self._ask_week())
        self.export_csv.clicked.connect(lambda: self._export("csv"))
        self.export_pdf.clicked.connect(lambda: self._export("pdf"))
        self.ex_add.clicked.connect(self._ask_exemption)
        self.link_button.clicked.connect(self._ask_link)
        self.note_button.clicked.connect(self._ask_note)
        self.end_call_button.clicked.connect(self._ask_end_call)
        self.run_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)

    # -- shown data ----------------------------------------------------------------------
    def _show_roster(self, roster: Roster) -> None:
        fill(self._roster_rows, roster_rows(list(roster.centres), list(roster.exemptions)))
        cur = self.ex_centre.currentData()
        self.ex_centre.clear()
        for c in roster.centres:
            self.ex_centre.addItem(f"{c.township_name} {c.name}", c.id)
        if cur is not None:
            self.ex_centre.setCurrentIndex(max(0, self.ex_centre.findData(cur)))
        self.schedule.setText(schedule_text(roster.schedule))

    def _show_run(self, run: RunInfo | None) -> None:
        self.summary.setText(run_summary(run))
        fill(self._run_rows, run_rows(run, self.model.names) if run is not None else [])
        self._buttons(run)

    def selected_centre(self) -> str | None:
        """The centre of the run's selected row."""
        run, row = self.model.run, self.run_table.currentRow()
        return run.due[row] if run is not None and 0 <= row < len(run.due) else None

    def _show_weeks(self, choice: WeekChoice) -> None:
        self.week_pick.clear()
        for w in choice.weeks:
            self.week_pick.addItem(t("week_of", monday=f"{w:%Y-%m-%d}"), w)

    def _show_week(self, shown: WeekShown) -> None:
        week, coverage = shown.week, shown.coverage
        idx = self.week_pick.findData(week)
        if idx >= 0:
            self.week_pick.setCurrentIndex(idx)
        county = coverage[-1] if coverage else None
        self.week_title.setText(
            t("week_title", monday=f"{week:%Y-%m-%d}", reached=county.reached, due=county.due)
            if county
            else ""
        )
        fill(self._coverage_rows, coverage_rows(list(coverage)))
        fill(self._log_rows, log_rows(list(shown.calls)))

    # -- intents ---------------------------------------------------------------------------
    def _buttons(self, run: RunInfo | None) -> None:
        active = run is not None and run.status != "done"
        self.start_button.setEnabled(not active)
        self.stop_button.setEnabled(run is not None and run.status == "running")
        self.resume_button.setEnabled(run is not None and run.status == "stopped")
        self.end_call_button.setEnabled(bool(active_call(run)))

    def selected_week(self) -> date | None:
        w = self.week_pick.currentData()
        return w if isinstance(w, date) else None

    def _ask_week(self) -> None:
        w = self.selected_week()
        if w is not None:
            self._intents.load_week(w)

    def _export(self, fmt: str) -> None:
        w = self.selected_week()
        if w is not None:
            self._intents.export(w, fmt)

    def _ask_link(self) -> None:
        cid = self.ex_centre.currentData()
        if cid is not None:
            self._intents.issue_link(str(cid))

    def _ask_end_call(self) -> None:
        self._intents.end_call_selected(self.selected_centre())

    def _ask_note(self) -> None:
        self._intents.note_selected(self.selected_centre(), self.note_edit.text())

    def _ask_exemption(self) -> None:
        cid = self.ex_centre.currentData()
        if cid is None:
            return
        self._intents.add_exemption(
            ExemptionInfo(
                id=0,
                centre_id=str(cid),
                start=self.ex_start.date().toPython(),
                end=self.ex_end.date().toPython(),
                reason=self.ex_reason.currentData(),
                note=self.ex_note.text(),
            )
        )
