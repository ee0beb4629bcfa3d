"""The camera health view (widgets only): rates tree, faulty list, pictures, history.

It observes the `HealthModel` (through `console.kit.qt_observe.follow`, released when
the view is destroyed): the summary fills the rates and the faulty list, a history the
table of the camera the officer picked. Picking a faulty camera shows its last good and
current pictures and asks the controller (`load_history`) for its history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QSplitter,
    QTableWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from console.cameras.relays import RelayRow
from console.health.model import (
    AreaRates,
    CameraHistory,
    FaultyCamera,
    HealthModel,
    HealthSummary,
    percent,
)
from console.health.strings import t, trouble_name
from console.kit.items import Cell, CellLike, Node, TableFiller, TreeFiller
from console.kit.plain import plain_label
from console.kit.qt_observe import follow
from streams.relay.states import UpstreamState

PICTURE_SIZE = (320, 262)


class HealthIntents(Protocol):
    """What the health view asks of its controller (`HealthController`)."""

    def load_history(self, camera: str) -> None: ...


def _area_cells(r: AreaRates) -> list[str]:
    return [
        r.name,
        f"{r.checked}/{r.cameras}",
        percent(r.online_rate),
        percent(r.quality_rate),
    ]


def _table(headers: list[str]) -> QTableWidget:
    """A read-only table without row numbers; its third column takes the spare width."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    return table


class PictureBox(QWidget):
    """A caption over a picture file (or "no picture")."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = plain_label(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image = plain_label(t("no_picture"))
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedSize(*PICTURE_SIZE)
        self.image.setStyleSheet("background: #1b1f24; color: #9aa4ad; border: 1px solid #39424c;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.caption)
        lay.addWidget(self.image)

    def show_file(self, path: str) -> None:
        pix = QPixmap(path) if path and Path(path).is_file() else QPixmap()
        if pix.isNull():
            self.image.setPixmap(QPixmap())
            self.image.setText(t("no_picture"))
            return
        self.image.setPixmap(
            pix.scaled(
                self.image.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )


class HealthView(QWidget):
    def __init__(
        self, model: HealthModel, intents: HealthIntents, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("camera-health")
        self.model = model
        self._intents = intents
        self._faulty: list[FaultyCamera] = []
        self.summary_label = plain_label()
        self.areas = QTreeWidget()
        self.areas.setColumnCount(4)
        self.areas.setHeaderLabels(
            [t("col.place"), t("col.cameras"), t("col.online"), t("col.quality")]
        )
        self.areas.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.relays_label = plain_label(t("relays", n=len(model.relays)))
        self.relays = QTreeWidget()
        self.relays.setObjectName("relay-states")
        self.relays.setColumnCount(3)
        self.relays.setHeaderLabels([t("col.relay"), t("col.relay_state"), t("col.upstreams")])
        self.relays.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.faulty_label = plain_label(t("faulty", n=0))
        self.faulty = _table([t("col.camera"), t("col.place"), t("col.trouble"), t("col.event")])
        self.faulty.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.faulty.itemSelectionChanged.connect(self._picked)
        self.last_good = PictureBox(t("last_good"))
        self.current = PictureBox(t("current"))
        self.history_label = plain_label(t("history", name="—"))
        self.history = _table([t("col.time"), t("col.state"), t("col.trouble")])
        # refilled in place: new items each refresh kept references (console.kit.items)
        self._areas = TreeFiller(self.areas)
        self._relays = TreeFiller(self.relays)
        self._faulty_rows = TableFiller(self.faulty)
        self._history_rows = TableFiller(self.history)

        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addWidget(self.summary_label)
        top_lay.addWidget(self.areas)
        top_lay.addWidget(self.relays_label)
        top_lay.addWidget(self.relays)
        mid = QWidget()
        mid_lay = QVBoxLayout(mid)
        mid_lay.setContentsMargins(0, 0, 0, 0)
        mid_lay.addWidget(self.faulty_label)
        mid_lay.addWidget(self.faulty)
        pics = QWidget()
        grid = QGridLayout(pics)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.last_good, 0, 0)
        grid.addWidget(self.current, 0, 1)
        bottom = QWidget()
        b_lay = QVBoxLayout(bottom)
        b_lay.setContentsMargins(0, 0, 0, 0)
        b_lay.addWidget(pics)
        b_lay.addWidget(self.history_label)
        b_lay.addWidget(self.history)
        split = QSplitter(Qt.Orientation.Vertical)
        for w in (top, mid, bottom):
            split.addWidget(w)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 3)
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        if model.summary is not None:
            self._show_summary(model.summary)
        if model.history is not None:
            self._show_history(model.history)
        self._show_relays(model.relays)
        follow(self, model.relays_changed, self._show_relays)
        follow(self, model.summary_changed, self._show_summary)
        follow(self, model.history_changed, self._show_history)

    # -- filling ------------------------------------------------------------------
    def _show_summary(self, summary: HealthSummary) -> None:
        c = summary.county
        self.summary_label.setText(
            t("summary", total=c.cameras, online=c.online, healthy=c.healthy)
        )
        county = Node(
            _area_cells(AreaRates("", t("county"), *_counts(c))),
            [
                Node(_area_cells(tw.rates), [Node(_area_cells(v)) for v in tw.villages])
                for tw in summary.townships
            ],
        )
        self._areas.fill([county])
        self.areas.expandAll()
        for i in range(1, 4):
            self.areas.resizeColumnToContents(i)
        self._faulty = list(summary.faulty)
        self.faulty_label.setText(t("faulty", n=len(self._faulty)))
        red = Qt.GlobalColor.red
        self._faulty_rows.fill(
            [
                [f.name, f.place, Cell(f.trouble, red), f.health.open_event or ""]
                for f in self._faulty
            ]
        )
        self.faulty.resizeColumnToContents(0)
        self.faulty.resizeColumnToContents(1)

    def _show_relays(self, rows: tuple[RelayRow, ...]) -> None:
        self.relays_label.setText(t("relays", n=len(rows)))
        names = {c.id: c.name for c in self.model.site.cameras}
        red = Qt.GlobalColor.red
        self._relays.fill(
            [
                Node(
                    [
                        row.relay,
                        Cell(_relay_state(row), red if row.stale or row.failed else None),
                        _upstream_counts(row),
                    ],
                    [
                        Node(
                            [
                                f"{names.get(up.camera, up.camera)} ({up.stream})",
                                Cell(up.error or "—", red, tooltip=up.error or ""),
                                "",
                            ]
                        )
                        for up in row.failed
                    ],
                )
                for row in rows
            ]
        )
        self.relays.expandAll()
        self.relays.resizeColumnToContents(0)

    def pick(self, camera: str) -> None:
        for row, f in enumerate(self._faulty):
            if f.camera == camera:
                self.faulty.selectRow(row)
                return

    def _picked(self) -> None:
        rows = self.faulty.selectionModel().selectedRows()
        if not rows:
            return
        f = self._faulty[rows[0].row()]
        self.last_good.show_file(f.health.last_good)
        self.current.show_file(f.health.check.snapshot)
        self._intents.load_history(f.camera)

    def _show_history(self, history: CameraHistory) -> None:
        self.history_label.setText(t("history", name=history.name))
        rows: list[list[CellLike]] = []
        for h in history.checks:
            c = h.check
            at = c.at.astimezone().strftime("%m-%d %H:%M")
            state = Cell(t("ok")) if c.healthy else Cell(trouble_name(c), Qt.GlobalColor.red)
            rows.append([at, "●" if c.online else "○", state])
        self._history_rows.fill(rows)
        self.history.resizeColumnToContents(0)
        self.history.resizeColumnToContents(1)


def _counts(r: AreaRates) -> tuple[int, int, int, int]:
    return r.cameras, r.checked, r.online, r.healthy


def _relay_state(row: RelayRow) -> str:
    if row.stale:
        return t("relay.stale")
    if not row.heard:
        return t("relay.unheard")
    return t("relay.failed") if row.failed else t("relay.ok")


def _upstream_counts(row: RelayRow) -> str:
    order = (
        UpstreamState.LIVE,
        UpstreamState.CONNECTING,
        UpstreamState.FAILED,
        UpstreamState.IDLE,
    )
    return " / ".join(str(row.counts.get(s, 0)) for s in order)
