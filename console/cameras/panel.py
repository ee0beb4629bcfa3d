"""The camera tree panel: search box, county → … → camera tree with online counts, drag source.

The tree is a lazy model (`console.cameras.model`): townships show at start, villages and
cameras when their parent is expanded. Search and counts go through the tree's index
(`console.cameras.index`), built once: a search shows a pruned tree (matching cameras and
their ancestors, a matching place with its whole branch), opened out when it is small.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.cameras.index import TreeIndex, node_key
from console.cameras.model import ROLE_NODE, CameraTreeModel, node_text
from console.cameras.relays import CameraRelay, tooltip
from console.cameras.tree import Node, NodeKind
from console.kit import i18n
from console.kit.i18n import tr
from console.kit.qt_observe import release_on_destroy
from streams.ingest.types import CameraState, CameraStatus

__all__ = ["ROLE_NODE", "CameraTreePanel"]

EXPAND_ALL_UP_TO = 200
"""A search with at most this many cameras is opened out completely; a larger one down
to its villages' parents (opening thousands of rows at once is what the lazy tree avoids)."""


class CameraTreePanel(QWidget):
    cameraActivated = Signal(str)

    def __init__(self, root: Node, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraTree")
        self.root = root
        self.index = TreeIndex(root)
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.model = CameraTreeModel(root, self.index)
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)  # no per-row size hint: fast at any size
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.note = QLabel(self)  # a video platform's catalogue is not current (why)
        self.note.setObjectName("treeNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)  # outside text: shown literally
        self.note.setStyleSheet("color: #d08000;")
        self.note.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.note)
        lay.addWidget(self.tree)
        self._online: Mapping[str, int] = {}
        self._online_ids: frozenset[str] = frozenset()
        self._relays: Mapping[str, CameraRelay] = {}
        self.last_search_ms = 0.0
        self._open(self.model.index(0, 0))
        self.search.textChanged.connect(self.apply_filter)
        self.tree.doubleClicked.connect(self._activated)
        release_on_destroy(self, i18n.on_change(self.retranslate))
        self.retranslate()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(tr("tree.search"))
        self.model.set_online(self._online)

    def set_root(self, root: Node) -> None:
        """Another tree (a video platform's catalogue changed): index, counts and the
        search shown again over it."""
        self.root = root
        self.index = TreeIndex(root)
        self.model.set_index(self.index)
        self._online = self.index.counts(self._online_ids)
        self.apply_filter(self.search.text())
        self.model.set_online(self._online)

    def set_note(self, text: str | None) -> None:
        """A line above the tree (a platform down: its cameras are the last known)."""
        self.note.setText(text or "")
        self.note.setVisible(bool(text))

    # -- online counts ---------------------------------------------------------------
    def set_online(self, online: Collection[str]) -> None:
        """The cameras online now (from the wall, the patrol, the relays): every node's
        count follows; only the rows on show are repainted."""
        ids = frozenset(online)
        if ids == self._online_ids:
            return  # the window asks every second; most seconds nothing changed
        self._online_ids = ids
        self._online = self.index.counts(ids)
        self.model.set_online(self._online)

    def set_relays(self, relays: Mapping[str, CameraRelay]) -> None:
        """What the relays say of each camera: rows of failed or silent relays marked,
        every camera's tooltip says its relay's state (`console.cameras.relays`)."""
        if relays == self._relays:
            return
        self._relays = relays
        self.model.set_relays(relays)

    def set_via(self, via: Mapping[str, str]) -> None:
        """Camera -> the relay the site pulls it through (for the tooltips)."""
        self.model.set_via(via)

    def tooltip(self, camera: str) -> str:
        """A camera row's tooltip (also for rows not fetched yet)."""
        return tooltip(self.model.via(camera), self._relays.get(camera))

    def set_statuses(self, statuses: Mapping[str, CameraStatus]) -> None:
        """Online = decoding live on the wall (the wall's own statuses only)."""
        self.set_online([c for c, s in statuses.items() if s.state is CameraState.LIVE])

    def online_total(self) -> tuple[int, int]:
        """(cameras online, cameras) of the whole site."""
        return self._online.get(node_key(self.root), 0), self.index.cameras

    def text(self, key: str) -> str:
        """What the tree shows (or would show, when its branch is opened) for node `key`."""
        return node_text(self.index.nodes[key], self.index, self._online, self._relays)

    # -- search ------------------------------------------------------------------------
    def apply_filter(self, text: str) -> None:
        t0 = time.perf_counter()
        shown = self.index.search(text)
        if shown is not self.model.root:
            self.model.set_root(shown)
        top = self.model.index(0, 0)
        self._open(top, all_below=bool(text.strip()) and self._small(shown))
        self.last_search_ms = (time.perf_counter() - t0) * 1000.0

    def _small(self, node: Node) -> bool:
        return len(node.camera_ids()) <= EXPAND_ALL_UP_TO

    def _open(self, index: QModelIndex, *, all_below: bool = False) -> None:
        """Fetch and expand `index` (and with `all_below` every branch under it), also
        while the view is not shown yet (a hidden view defers fetching)."""
        self.model.fetchMore(index)
        self.tree.expand(index)
        if not all_below:
            return
        for row in range(self.model.rowCount(index)):
            child = self.model.index(row, 0, index)
            if self.model.hasChildren(child):
                self._open(child, all_below=True)

    def visible_camera_ids(self) -> list[str]:
        """The cameras the tree shows now (all, or a search's), in tree order."""
        return self.model.root.camera_ids()

    def selected_cameras(self) -> list[str]:
        """Cameras under the selected nodes, in tree order, each once."""
        chosen: dict[str, None] = {}
        rows = sorted(self.tree.selectionModel().selectedIndexes(), key=self._tree_order)
        for index in rows:
            node = self.model.node(index)
            if node is not None:
                chosen.update(dict.fromkeys(node.camera_ids()))
        return list(chosen)

    def _tree_order(self, index: QModelIndex) -> list[int]:
        path = []
        while index.isValid():
            path.append(index.row())
            index = index.parent()
        return path[::-1]

    def _activated(self, index: QModelIndex) -> None:
        node = self.model.node(index)
        if node is not None and node.kind is NodeKind.CAMERA:
            self.cameraActivated.emit(node.id)
