"""The map's place search: a line to type in and the list of what matches (townships,
villages, grids, cameras, and the events shown, by name, title or id), live as one types.

Keyboard: ↓ from the line goes into the list, ↑ on its first row back to the line,
Enter chooses (the current row, else the first), Esc closes the list. A click chooses
too. Every row is plain text, one line, cut at `MAX_NAME` characters, direction
controls shown (`[U+202E]`), not obeyed: names and titles are outside text.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QListWidget

from console.kit.items import ListFiller
from console.kit.plain import inert_bidi
from console.map.model import Place
from console.map.strings import t

MAX_NAME = 60
"""Characters of a name or title shown in a row."""
ROWS_SHOWN = 8


def row_text(place: Place) -> str:
    """'[kind] name' (with the id for cameras and events), one plain line."""
    name = " ".join(place.name.split())
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME] + "…"
    head = t(f"kind.{place.kind}")
    with_id = place.kind in ("camera", "event")
    return inert_bidi(f"{head}  {place.id}  {name}" if with_id else f"{head}  {name}")


class PlaceSearch(QObject):
    """The line (`edit`) and the results (`results`, hidden while empty); the panel lays
    them out. `chosen(Place)` when a row is chosen, `missed(str)` for Enter on nothing."""

    chosen = Signal(object)
    missed = Signal(str)

    def __init__(self, search: Callable[[str], list[Place]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self.hits: list[Place] = []
        self.edit = QLineEdit()
        self.edit.setObjectName("mapSearch")
        self.edit.setClearButtonEnabled(True)
        self.results = QListWidget()
        self._rows = ListFiller(self.results)  # refilled at each key (console.kit.items)
        self.results.setObjectName("mapResults")
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setVisible(False)
        self.edit.textChanged.connect(self.update)
        self.edit.returnPressed.connect(self.choose_current)
        self.results.itemActivated.connect(lambda _i: self.choose_current())
        self.results.itemClicked.connect(lambda _i: self.choose_current())
        self.edit.installEventFilter(self)
        self.results.installEventFilter(self)

    def update(self, text: str) -> None:
        """The rows for `text` (none: the list hides)."""
        self.hits = self._search(text)
        self._rows.fill([row_text(place) for place in self.hits])
        if self.hits:
            rows = min(len(self.hits), ROWS_SHOWN)
            self.results.setFixedHeight(rows * self.results.sizeHintForRow(0) + 6)
        self.results.setVisible(bool(self.hits))

    def choose_current(self) -> None:
        text = self.edit.text()
        if not self.hits:
            if text.strip():
                self.missed.emit(text)
            return
        row = max(self.results.currentRow(), 0)
        place = self.hits[row]
        self.close()
        self.chosen.emit(place)

    def close(self) -> None:
        self.results.setVisible(False)
        self.edit.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if key == Qt.Key.Key_Escape and self.results.isVisible():
            self.close()
            return True
        if watched is self.edit and key == Qt.Key.Key_Down and self.hits:
            self.results.setVisible(True)
            self.results.setFocus()
            self.results.setCurrentRow(0)
            return True
        if watched is self.results and key == Qt.Key.Key_Up and self.results.currentRow() <= 0:
            self.edit.setFocus()
            return True
        if watched is self.results and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.choose_current()
            return True
        return False
