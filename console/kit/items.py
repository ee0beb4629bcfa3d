"""Item widgets refilled without making new items each time (issue 16).

PySide6 6.11 on Python 3.11 keeps a reference to `None` for each virtual method Qt
calls for the first time on a `QTableWidgetItem`, `QTreeWidgetItem` or
`QListWidgetItem` made from Python (`data`, `setData`, ...), and never gives it back.
`tests/unit/console/kit/test_items.py` counts it: a table of 12 items refilled with new
items 200 times kept 2,405 references.

A view refilled again and again must therefore not clear its widget and make new items.
In the soak this was the health view, refilled every 30 s: +12 references a minute
(+731 an hour) while every other count stayed flat.

The fillers here take rows of `Cell`s and put them into the items the widget already
has. When rows go away their items are taken out and kept aside, and later rows use them
again, so a widget never makes more items than its largest fill. Every attribute a
`Cell` can carry is set on every fill, so an item used again shows nothing of its last
row. Text is outside text: direction controls are made visible (`inert_bidi`), and
tooltips go through `plain_tooltip`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
)

from console.kit.plain import inert_bidi, plain_tooltip

Colour = QColor | Qt.GlobalColor
Item = TypeVar("Item", QTableWidgetItem, QListWidgetItem, QTreeWidgetItem)
USER_ROLE = Qt.ItemDataRole.UserRole
ITEM_FLAGS = (
    Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDragEnabled
)
"""An enabled item's flags (read-only: these widgets are never edited in place)."""


@dataclass(frozen=True)
class Cell:
    """One cell as shown: its text, colours, plain-text tooltip, `UserRole` data, and
    whether it can be picked at all."""

    text: str
    foreground: Colour | None = None
    background: Colour | None = None
    tooltip: str = ""
    data: object = None
    enabled: bool = True


CellLike = Cell | str


@dataclass(frozen=True)
class Node:
    """A tree row: its cells, one per column, and its child rows."""

    cells: Sequence[CellLike]
    children: Sequence[Node] = field(default_factory=tuple)


def as_cell(cell: CellLike) -> Cell:
    return cell if isinstance(cell, Cell) else Cell(cell)


def _brush(colour: Colour | None) -> QBrush:
    return QBrush() if colour is None else QBrush(colour)


def _flags(enabled: bool) -> Qt.ItemFlag:
    return ITEM_FLAGS if enabled else Qt.ItemFlag.NoItemFlags


def set_flat(item: QTableWidgetItem | QListWidgetItem, cell: CellLike) -> None:
    """Everything a `Cell` says, set on a table or list item."""
    c = as_cell(cell)
    item.setText(inert_bidi(c.text))
    item.setForeground(_brush(c.foreground))
    item.setBackground(_brush(c.background))
    item.setToolTip(plain_tooltip(c.tooltip))
    item.setData(USER_ROLE, c.data)
    item.setFlags(_flags(c.enabled))


def set_tree_cell(item: QTreeWidgetItem, column: int, cell: CellLike) -> None:
    """Everything a `Cell` says, set on one column of a tree item (its data and
    whether it is enabled are the item's, taken from its first column)."""
    c = as_cell(cell)
    item.setText(column, inert_bidi(c.text))
    item.setForeground(column, _brush(c.foreground))
    item.setBackground(column, _brush(c.background))
    item.setToolTip(column, plain_tooltip(c.tooltip))
    if column == 0:
        item.setData(0, USER_ROLE, c.data)
        item.setFlags(_flags(c.enabled))


class _Filler(Generic[Item]):
    """The items a filler took out of its widget, kept to be used again."""

    def __init__(self, make: Callable[[], Item]) -> None:
        self._make: Callable[[], Item] = make
        self._spare: list[Item] = []
        self.made = 0
        """Items made so far (never more than the largest fill needed at once)."""

    def _item(self) -> Item:
        if self._spare:
            return self._spare.pop()
        self.made += 1
        return self._make()


class TableFiller(_Filler[QTableWidgetItem]):
    """Fills a `QTableWidget` with rows of cells, reusing its items."""

    def __init__(self, table: QTableWidget) -> None:
        super().__init__(QTableWidgetItem)
        self.table = table

    def fill(self, rows: Sequence[Sequence[CellLike]]) -> None:
        t = self.table
        cols = t.columnCount()
        for r in range(len(rows), t.rowCount()):
            for c in range(cols):
                taken = t.takeItem(r, c)
                if taken is not None:
                    self._spare.append(taken)
        t.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c in range(cols):
                item = t.item(r, c)
                if item is None:
                    item = self._item()
                    t.setItem(r, c, item)
                set_flat(item, row[c] if c < len(row) else "")


class ListFiller(_Filler[QListWidgetItem]):
    """Fills a `QListWidget` with rows, reusing its items; like `clear()` and new items,
    a fill leaves no row current (the caller picks one again if it wants)."""

    def __init__(self, widget: QListWidget) -> None:
        super().__init__(QListWidgetItem)
        self.widget = widget

    def fill(self, rows: Sequence[CellLike]) -> None:
        w = self.widget
        while w.count() > len(rows):
            self._spare.append(w.takeItem(w.count() - 1))
        for i, cell in enumerate(rows):
            item = w.item(i)
            if item is None:
                item = self._item()
                w.addItem(item)
            set_flat(item, cell)
        w.setCurrentRow(-1)


class TreeFiller(_Filler[QTreeWidgetItem]):
    """Fills a `QTreeWidget` with nodes, reusing its items level by level."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(QTreeWidgetItem)
        self.tree = tree

    def fill(self, nodes: Sequence[Node]) -> None:
        t = self.tree
        while t.topLevelItemCount() > len(nodes):
            self._keep(t.takeTopLevelItem(t.topLevelItemCount() - 1))
        for i, node in enumerate(nodes):
            item = t.topLevelItem(i)
            if item is None:
                item = self._item()
                t.addTopLevelItem(item)
            self._set(item, node)

    def _set(self, item: QTreeWidgetItem, node: Node) -> None:
        for c in range(self.tree.columnCount()):
            set_tree_cell(item, c, node.cells[c] if c < len(node.cells) else "")
        while item.childCount() > len(node.children):
            self._keep(item.takeChild(item.childCount() - 1))
        for j, child in enumerate(node.children):
            sub = item.child(j)
            if sub is None:
                sub = self._item()
                item.addChild(sub)
            self._set(sub, child)

    def _keep(self, item: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        for child in item.takeChildren():
            self._keep(child)
        self._spare.append(item)
