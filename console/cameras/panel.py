"""The camera tree panel: search box, county → … → camera tree with online counts, drag source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.cameras.tree import Node, NodeKind, matches, online_count
from console.kit import i18n
from console.kit.i18n import tr
from console.kit.plain import inert_bidi
from console.kit.qt_observe import release_on_destroy
from console.wall.tile import CAMERA_MIME
from streams.ingest.types import CameraStatus

ROLE_NODE = Qt.ItemDataRole.UserRole + 1


class _Tree(QTreeWidget):
    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        for item in items:
            node = item.data(0, ROLE_NODE)
            if isinstance(node, Node) and node.kind is NodeKind.CAMERA:
                data.setData(CAMERA_MIME, node.id.encode("utf-8"))
                data.setText(node.name)
                break
        return data

    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME]


class CameraTreePanel(QWidget):
    cameraActivated = Signal(str)

    def __init__(self, root: Node, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraTree")
        self.root = root
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._statuses: Mapping[str, CameraStatus] = {}
        self._populate()
        self.search.textChanged.connect(self.apply_filter)
        self.tree.itemDoubleClicked.connect(self._activated)
        release_on_destroy(self, i18n.on_change(self.retranslate))
        self.retranslate()

    def _populate(self) -> None:
        def add(node: Node, parent: QTreeWidgetItem | None) -> None:
            item = QTreeWidgetItem([inert_bidi(node.name)])
            item.setData(0, ROLE_NODE, node)
            flags = item.flags()
            if node.kind is not NodeKind.CAMERA:
                flags &= ~Qt.ItemFlag.ItemIsDragEnabled
            item.setFlags(flags)
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            self._items[f"{node.kind.value}:{node.id}"] = item
            for child in node.children:
                add(child, item)

        add(self.root, None)
        self.tree.expandToDepth(1)

    def retranslate(self) -> None:
        self.search.setPlaceholderText(tr("tree.search"))
        self.set_statuses(self._statuses)

    def set_statuses(self, statuses: Mapping[str, CameraStatus]) -> None:
        """Refresh the online counts (called about once a second by the main window)."""
        self._statuses = statuses
        for item in self._items.values():
            node = item.data(0, ROLE_NODE)
            if not isinstance(node, Node):
                continue
            if node.kind is NodeKind.CAMERA:
                online, _ = online_count(node, statuses)
                item.setText(0, ("● " if online else "○ ") + inert_bidi(node.name))
            else:
                online, total = online_count(node, statuses)
                name = inert_bidi(node.name)
                item.setText(0, tr("tree.count", name=name, online=online, total=total))

    def apply_filter(self, text: str) -> None:
        keep = matches(self.root, text)
        for key, item in self._items.items():
            item.setHidden(key not in keep)
        if text.strip():
            self.tree.expandAll()

    def visible_camera_ids(self) -> list[str]:
        return [
            key.split(":", 1)[1]
            for key, item in self._items.items()
            if key.startswith("camera:") and not item.isHidden()
        ]

    def item(self, key: str) -> QTreeWidgetItem:
        return self._items[key]

    def selected_cameras(self) -> list[str]:
        """Cameras under the selected nodes, in tree order, each once."""
        chosen: list[str] = []
        for item in self.tree.selectedItems():
            node = item.data(0, ROLE_NODE)
            if isinstance(node, Node):
                for cam in node.camera_ids():
                    if cam not in chosen:
                        chosen.append(cam)
        return chosen

    def _activated(self, item: QTreeWidgetItem, column: int) -> None:
        node = item.data(0, ROLE_NODE)
        if isinstance(node, Node) and node.kind is NodeKind.CAMERA:
            self.cameraActivated.emit(node.id)
