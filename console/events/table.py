"""The event list as a Qt item model over the pure EventQueueModel (read-only adapter).

Model changes are coalesced: many `rows_changed` callbacks within one turn of the Qt
event loop make one reset. `tick()` (from the panel's 1 Hz timer) repaints only the
countdown column; `set_blink(phase)` repaints the rows of unacknowledged red alarms.

`data()` is called from C++ for every cell on screen and every role at each repaint
(the soak's console: a reset at each batch of changes, ~20 % of the GUI thread in
`data()`). Roles the table does not answer return at once, and what a cell shows is
kept per row object (a changed event is a new `Row`) until the blink phase, the
alarms, a badge or the language change: a reset repaints unchanged rows from what was
kept. The countdown column follows the clock and is never kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont

from console.events.format import format_countdown, format_time
from console.events.model import EventQueueModel, Row
from console.events.strings import (
    category_name,
    colour_name,
    priority_name,
    source_name,
    state_name,
    tr,
)
from console.kit import i18n
from console.kit.plain import inert_bidi, plain_tooltip
from console.kit.qt_observe import release_on_destroy
from dispatch.domain.model import Colour, Priority

COLOURS: dict[Colour, QColor] = {
    Colour.RED: QColor("#d32f2f"),
    Colour.YELLOW: QColor("#f5a623"),
    Colour.GREEN: QColor("#2e7d32"),
}
ROW_TINT: dict[Colour, QColor] = {
    # dark tints: the console runs a dark control-room theme (resources/theme/dark.qss)
    Colour.RED: QColor("#4a1f22"),
    Colour.YELLOW: QColor("#463a17"),
    Colour.GREEN: QColor("#17261c"),
}
ROW_TEXT = QColor("#e8eaed")
FLASH = QColor("#e53935")
FLASH_TEXT = QColor("#ffffff")
STALE_TEXT = QColor("#8a8f98")
OVERDUE_TEXT = QColor("#ff6b6b")
ID_ROLE = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex
_ROLE = Qt.ItemDataRole
ANSWERED_ROLES = frozenset(
    {
        _ROLE.DisplayRole,
        ID_ROLE,
        _ROLE.BackgroundRole,
        _ROLE.ForegroundRole,
        _ROLE.FontRole,
        _ROLE.TextAlignmentRole,
        _ROLE.ToolTipRole,
    }
)
"""The roles `data()` answers; every other role is None at once (Qt asks for ~12)."""


class Col(IntEnum):
    COLOUR = 0
    COUNTDOWN = 1
    PRIORITY = 2
    TITLE = 3
    CATEGORY = 4
    TOWNSHIP = 5
    STATE = 6
    SOURCE = 7


_HEADERS = {
    Col.COLOUR: "col.colour",
    Col.COUNTDOWN: "col.countdown",
    Col.PRIORITY: "col.priority",
    Col.TITLE: "col.title",
    Col.CATEGORY: "col.category",
    Col.TOWNSHIP: "col.township",
    Col.STATE: "col.state",
    Col.SOURCE: "col.source",
}


_BRUSHES: dict[int, QBrush] = {}


def brush(colour: QColor) -> QBrush:
    """One brush per colour for every cell: a cell kept for repaints holds a reference,
    not a brush of its own (the soak's console made ~6 per row, ~1,400 a minute while
    events piled up during a call)."""
    key = colour.rgba()
    found = _BRUSHES.get(key)
    if found is None:
        found = _BRUSHES[key] = QBrush(colour)
    return found


def make_font(mono: bool, italic: bool, bold: bool) -> QFont:
    font = QFont()
    if mono:
        font.setFamilies(["DejaVu Sans Mono", "WenQuanYi Micro Hei Mono", "monospace"])
    font.setItalic(italic)
    font.setBold(bold)
    return font


REFRESH_EVERY_S = 0.25  # the table's resets at most 4 a second


class EventTableModel(QAbstractTableModel):
    refreshed = Signal()

    def __init__(self, model: EventQueueModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._m = model
        self._rows: list[Row] = list(model.visible())
        self._index: dict[str, int] | None = None  # event id -> row, built when asked
        # per event id: the row object the values were made from, (column, role) -> value
        self._kept: dict[str, tuple[Row, dict[tuple[int, int], object]]] = {}
        self._fonts: dict[tuple[bool, bool, bool], QFont] = {}
        self._blink = False
        self._alarmed: frozenset[str] = frozenset(model.unacknowledged())
        self._last_refresh = -math.inf
        # one timer, restarted: `QTimer.singleShot(ms > 0, callable)` takes three
        # references from Python's None per call and never gives them back (PySide6
        # 6.11.3, Python 3.11): at 4 refreshes a second the soak's console lost ~780 a
        # minute, and the count ends in "none_dealloc" (see docs/soak.md)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self.badge_fn: Callable[[str], str] | None = None  # "已升级至乡镇" on escalated rows
        model.rows_changed.connect(self._schedule)
        model.connection_changed.connect(lambda _c: self.tick())
        model.alarms_changed.connect(self._alarms)
        release_on_destroy(self, i18n.on_change(self._kept.clear))

    # ------------------------------------------------------------ updates
    def _schedule(self, _: None = None) -> None:
        """Refresh at the next turn of the event loop, but at most every `REFRESH_EVERY_S`:
        a busy county's changes (several a second) reset the table a few times a second,
        not at each change, so the wall's display timer is not kept waiting."""
        if not self._timer.isActive():
            wait_s = self._last_refresh + REFRESH_EVERY_S - time.monotonic()
            self._timer.start(round(max(0.0, wait_s) * 1000))

    def refresh(self) -> None:
        """Take the model's visible rows now (normally called via the coalescing timer)."""
        self._timer.stop()  # called directly: the one scheduled is done too
        self._last_refresh = time.monotonic()
        self.beginResetModel()
        self._rows = list(self._m.visible())
        self._index = None
        self._forget_stale()
        self.endResetModel()
        self.refreshed.emit()

    def _forget_stale(self) -> None:
        """Drop the kept cells of rows no longer shown as they were: an event that left the
        view, or whose row changed since it was painted. The kept row holds its `Event`, so
        a stale entry kept an older version of the event alive (the soak's console held
        75–140 of them, which moved its `None` count). The dict is emptied in place: the
        language switch holds its `clear`."""
        if not self._kept:
            return
        rows = self._rows
        stale = [
            k
            for k, (row, _) in self._kept.items()
            if (n := self.row_of(k)) < 0 or rows[n] is not row
        ]
        for k in stale:
            del self._kept[k]

    def _alarms(self, ids: list[str]) -> None:
        self._alarmed = frozenset(ids)
        self._kept.clear()
        self._repaint_all()

    def set_blink(self, on: bool) -> None:
        self._blink = on
        if self._alarmed:
            self._kept.clear()
            self._repaint_all()

    def tick(self) -> None:
        """Repaint the countdown column (the clock moved, or the connection changed)."""
        if self._rows:
            top = self.index(0, Col.COUNTDOWN)
            bottom = self.index(len(self._rows) - 1, Col.COUNTDOWN)
            self.dataChanged.emit(top, bottom)

    def badges_changed(self, event_id: str) -> None:
        """Repaint an event's title (its escalation badge changed)."""
        self._kept.pop(event_id, None)
        r = self.row_of(event_id)
        if r >= 0:
            self.dataChanged.emit(self.index(r, Col.TITLE), self.index(r, Col.TITLE))

    def _repaint_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(Col) - 1))

    # ------------------------------------------------------------ queries
    def row_of(self, event_id: str) -> int:
        if self._index is None:
            self._index = {r.event.id: i for i, r in enumerate(self._rows)}
        return self._index.get(event_id, -1)

    def event_id(self, row: int) -> str | None:
        return self._rows[row].event.id if 0 <= row < len(self._rows) else None

    # ------------------------------------------------------------ QAbstractTableModel
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Col)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(_HEADERS[Col(section)])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role not in ANSWERED_ROLES or not index.isValid():
            return None
        n = index.row()
        if not 0 <= n < len(self._rows):
            return None
        row = self._rows[n]
        kept = self._kept.get(row.event.id)
        if kept is None or kept[0] is not row:
            kept = self._kept[row.event.id] = (row, {})
        col = index.column()
        if col == Col.COUNTDOWN:
            return self._value(row, Col.COUNTDOWN, role)
        key = (col, role)
        values = kept[1]
        if key in values:
            return values[key]
        value = values[key] = self._value(row, Col(col), role)
        return value

    def _value(self, row: Row, col: Col, role: int) -> object:
        flashing = self._blink and row.event.id in self._alarmed
        if role == Qt.ItemDataRole.DisplayRole:
            return inert_bidi(self._text(row, col))
        if role == ID_ROLE:
            return row.event.id
        if role == Qt.ItemDataRole.BackgroundRole:
            if flashing:
                return brush(FLASH)
            if col is Col.COLOUR:
                return brush(COLOURS[row.colour])
            return brush(ROW_TINT[row.colour])
        if role == Qt.ItemDataRole.ForegroundRole:
            if flashing or col is Col.COLOUR:
                return brush(FLASH_TEXT)
            if col is Col.COUNTDOWN:
                if self._m.stale:
                    return brush(STALE_TEXT)
                left = self._m.countdown(row.event.id)
                if left is not None and left.total_seconds() < 0:
                    return brush(OVERDUE_TEXT)
            return brush(ROW_TEXT)
        if role == Qt.ItemDataRole.FontRole:
            mono = col is Col.COUNTDOWN
            bold = row.event.id in self._alarmed or (
                row.event.priority is not Priority.ROUTINE and col is Col.PRIORITY
            )
            key = (mono, mono and self._m.stale, bold)
            font = self._fonts.get(key)
            if font is None:  # the few fonts of the cells, each made once per table
                font = self._fonts[key] = make_font(*key)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Col.COLOUR, Col.COUNTDOWN):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            e = row.event
            tip = f"{e.id} · {source_name(e.source)} · {format_time(e.accepted_at)}\n{e.title}"
            return plain_tooltip(tip)
        return None

    def _text(self, row: Row, col: Col) -> str:
        e = row.event
        match col:
            case Col.COLOUR:
                return colour_name(row.colour)
            case Col.COUNTDOWN:
                return format_countdown(self._m.countdown(e.id))
            case Col.PRIORITY:
                return priority_name(e.priority)
            case Col.TITLE:
                badge = self.badge_fn(e.id) if self.badge_fn is not None else ""
                return f"【{badge}】{e.title}" if badge else e.title
            case Col.CATEGORY:
                return category_name(e.category)
            case Col.TOWNSHIP:
                t = e.place.township or ""
                return self._m.township_names.get(t, t)
            case Col.STATE:
                return state_name(e.state)
            case Col.SOURCE:
                return source_name(e.source)
