"""The item fillers (`console.kit.items`): a refill reuses the widget's items, so the
references to `None` that PySide6 keeps for every new Python-made item stop at the
largest fill; a reused item shows nothing of its last row; outside text stays text."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QApplication,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
)

from console.kit.items import Cell, ListFiller, Node, TableFiller, TreeFiller
from console.kit.plain import plain_tooltip

USER = Qt.ItemDataRole.UserRole


def none_refs_after(app: QApplication, fills: int, fill: Callable[[int], None]) -> int:
    """How many references to `None` `fills` refills (each painted) leave behind.

    Measured over the second half of `2 * fills` refills: the first half lets the fillers
    make the items their largest fill needs, and lets whatever earlier tests left for
    the event loop run out."""

    def pump() -> None:
        for _ in range(3):
            app.processEvents()

    for i in range(fills):
        fill(i)
        pump()
    gc.collect()
    before = sys.getrefcount(None)
    for i in range(fills, 2 * fills):
        fill(i)
        pump()
    gc.collect()
    return sys.getrefcount(None) - before


def test_refilling_with_new_items_keeps_references_and_the_fillers_do_not(
    qapp: QApplication,
) -> None:
    """The measurement behind the module: 4 rows × 3 cells refilled 200 times."""
    naive = QTableWidget(0, 3)
    naive.show()

    def new_items(i: int) -> None:
        naive.setRowCount(4)
        for r in range(4):
            for c in range(3):
                naive.setItem(r, c, QTableWidgetItem(f"{r}{c}-{i}"))
        naive.resizeColumnToContents(0)

    kept = none_refs_after(qapp, 200, new_items)
    # PySide6 6.11: about one per new item. If this fails, PySide6 gives the references
    # back now, and console.kit.items is no longer needed (say so in docs/soak.md).
    assert kept >= 200 * 12 // 2, kept

    table = QTableWidget(0, 3)
    table.show()
    rows = TableFiller(table)

    def reuse(i: int) -> None:
        n = i % 5  # the rows come and go: 0 to 4
        rows.fill([[f"{r}-{i}", Cell("x", Qt.GlobalColor.red), str(i)] for r in range(n)])
        table.resizeColumnToContents(0)

    assert none_refs_after(qapp, 200, reuse) <= 5
    assert rows.made == 4 * 3  # never more items than the largest fill's cells
    assert table.rowCount() == 399 % 5 and table.item(0, 0).text() == "0-399"


def test_a_reused_table_item_shows_nothing_of_its_last_row(qapp: QApplication) -> None:
    table = QTableWidget(0, 2)
    rows = TableFiller(table)
    red = Qt.GlobalColor.red
    rows.fill([[Cell("old", red, Qt.GlobalColor.yellow, "tip", ("E1",), enabled=False), "b"]])
    item = table.item(0, 0)
    assert item.data(USER) == ("E1",) and item.flags() == Qt.ItemFlag.NoItemFlags
    rows.fill([])  # the row goes: its items are kept aside
    assert table.rowCount() == 0
    rows.fill([["new", "b2"], ["second"]])
    again = table.item(0, 0)
    assert again.text() == "new"
    assert again.foreground() == QBrush() and again.background() == QBrush()
    assert again.toolTip() == "" and again.data(USER) is None
    assert again.flags() & Qt.ItemFlag.ItemIsEnabled
    assert table.item(1, 0).text() == "second" and table.item(1, 1).text() == ""
    assert rows.made == 4


def test_outside_text_stays_text(qapp: QApplication) -> None:
    widget = QListWidget()
    rows = ListFiller(widget)
    rows.fill([Cell("置处\u202e需无", tooltip="<b>已核实</b>")])
    item = widget.item(0)
    assert item.text() == "置处[U+202E]需无"
    assert item.toolTip() == plain_tooltip("<b>已核实</b>")
    assert "&lt;b&gt;" in item.toolTip()


def test_a_list_refill_reuses_its_items(qapp: QApplication) -> None:
    widget = QListWidget()
    widget.show()
    rows = ListFiller(widget)

    def fill(i: int) -> None:
        if i % 3 == 0:
            rows.fill([Cell("没有热点", enabled=False)])
        else:
            rows.fill([Cell(f"热点 {k}", data=[f"E{k}"]) for k in range(i % 4 + 1)])

    assert none_refs_after(qapp, 120, fill) <= 5
    assert rows.made == 4
    assert [widget.item(k).text() for k in range(widget.count())] == [
        f"热点 {k}" for k in range(239 % 4 + 1)
    ]
    assert widget.item(0).data(USER) == ["E0"] and widget.item(0).flags() != Qt.ItemFlag.NoItemFlags


def test_a_tree_refill_reuses_its_items_at_every_level(qapp: QApplication) -> None:
    tree = QTreeWidget()
    tree.setColumnCount(2)
    tree.show()
    rows = TreeFiller(tree)

    def fill(i: int) -> None:
        towns = [
            Node([f"镇{t}", str(i)], [Node([f"村{t}{v}", ""]) for v in range((i + t) % 3)])
            for t in range(i % 3 + 1)
        ]
        rows.fill([Node(["县", str(i)], towns)])
        tree.expandAll()
        tree.resizeColumnToContents(1)

    assert none_refs_after(qapp, 150, fill) <= 5
    top = tree.topLevelItem(0)
    assert tree.topLevelItemCount() == 1 and top.text(1) == "299"
    assert [top.child(t).text(0) for t in range(top.childCount())] == ["镇0", "镇1", "镇2"]
    # the last fill (299): (299 + t) % 3 villages under 镇t
    assert [top.child(t).childCount() for t in range(3)] == [2, 0, 1]
    assert rows.made <= 1 + 3 + 3 * 2


def test_a_tree_cell_takes_colour_tooltip_and_data(qapp: QApplication) -> None:
    tree = QTreeWidget()
    tree.setColumnCount(2)
    rows = TreeFiller(tree)
    rows.fill(
        [Node([Cell("r1", data="relay-1"), Cell("失败", Qt.GlobalColor.red, tooltip="<i>x</i>")])]
    )
    item: QTreeWidgetItem = tree.topLevelItem(0)
    assert item.data(0, USER) == "relay-1"
    assert item.foreground(1) == QBrush(Qt.GlobalColor.red)
    assert item.toolTip(1) == plain_tooltip("<i>x</i>")
    rows.fill([Node(["r2", "正常"])])
    assert item.data(0, USER) is None and item.foreground(1) == QBrush() and item.toolTip(1) == ""
