"""The camera tree as a lazy Qt model: a node's children become rows only when it is
expanded (`canFetchMore` / `fetchMore`), so a county of 5,000 cameras starts with one
row per township, not 6,000 items.

Rows are identified by a small integer (`internalId`) handed out as nodes are fetched;
the texts come from the tree's index (totals) and the online counts given to
`set_online`, computed when Qt asks for a visible row, never for all rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from console.cameras.index import TreeIndex, node_key
from console.cameras.relays import CameraRelay, row_text, tooltip
from console.cameras.tree import Node, NodeKind
from console.kit.i18n import tr
from console.kit.plain import inert_bidi
from console.wall.tile import CAMERA_MIME

ROLE_NODE = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex
_TOP = QModelIndex()  # the invisible root


def node_text(
    node: Node,
    index: TreeIndex,
    online: Mapping[str, int],
    relays: Mapping[str, CameraRelay] | None = None,
) -> str:
    """What the tree shows for `node`: a camera with ● (online) or ○, marked when its relay
    failed or went silent (`relays`), a branch with its online and total cameras. Outside
    text, shown literally."""
    name = inert_bidi(node.name)
    key = node_key(node)
    if node.kind is NodeKind.CAMERA:
        text = ("● " if online.get(key) else "○ ") + name
        return row_text(text, (relays or {}).get(node.id))
    total = index.totals.get(key, len(node.camera_ids()))
    return tr("tree.count", name=name, online=online.get(key, 0), total=total)


class CameraTreeModel(QAbstractItemModel):
    """One column; the root node is the single top row."""

    def __init__(self, root: Node, index: TreeIndex) -> None:
        super().__init__()
        self._index = index
        self._online: Mapping[str, int] = {}
        self._relays: Mapping[str, CameraRelay] = {}
        self._via: Mapping[str, str] = {}
        self._reset_rows(root)

    def _reset_rows(self, root: Node) -> None:
        self.root = root
        self._nodes: list[Node] = [root]
        self._parent: list[int] = [-1]
        self._row: list[int] = [0]
        self._kids: dict[int, list[int]] = {}

    def set_index(self, index: TreeIndex) -> None:
        """The index of a new whole tree (before `set_root`)."""
        self._index = index

    def set_root(self, root: Node) -> None:
        """Show another tree (a search's); nothing is fetched below its top row."""
        self.beginResetModel()
        self._reset_rows(root)
        self.endResetModel()

    @property
    def fetched_rows(self) -> int:
        """Rows made so far (the laziness, for tests and the benchmark)."""
        return len(self._nodes)

    def set_via(self, via: Mapping[str, str]) -> None:
        """Camera -> the relay the site pulls it through (cameras without one left out)."""
        self._via = via

    def via(self, camera: str) -> str | None:
        return self._via.get(camera)

    def set_relays(self, relays: Mapping[str, CameraRelay]) -> None:
        """What the relays say of each camera (row marks and tooltips)."""
        self._relays = relays
        self._repaint()

    def set_online(self, online: Mapping[str, int]) -> None:
        """New online counts (node key -> online cameras under it): the rows Qt has are
        repainted, one range per fetched parent."""
        self._online = online
        self._repaint()

    def _repaint(self) -> None:
        self.dataChanged.emit(self.index(0, 0), self.index(0, 0))
        for nid, kids in self._kids.items():
            if kids:
                parent = self._make(nid)
                last = self.index(len(kids) - 1, 0, parent)
                self.dataChanged.emit(self.index(0, 0, parent), last)

    # -- the tree's shape --------------------------------------------------------------
    def _nid(self, index: AnyIndex) -> int:
        return int(index.internalId()) if index.isValid() else -1

    def node(self, index: AnyIndex) -> Node | None:
        return self._nodes[self._nid(index)] if index.isValid() else None

    def _make(self, nid: int) -> QModelIndex:
        return self.createIndex(self._row[nid], 0, nid)

    def find(self, key: str) -> QModelIndex:
        """The row of node `key` if it has been fetched, else an invalid index."""
        for nid, node in enumerate(self._nodes):
            if node_key(node) == key:
                return self._make(nid)
        return QModelIndex()

    def index(self, row: int, column: int = 0, parent: AnyIndex = _TOP) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(0, 0, 0) if row == 0 else QModelIndex()
        kids = self._kids.get(self._nid(parent))
        if kids is None or row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, 0, kids[row])

    def parent(self, index: AnyIndex = _TOP) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = self._parent[self._nid(index)]
        return QModelIndex() if up < 0 else self._make(up)

    def rowCount(self, parent: AnyIndex = _TOP) -> int:
        if not parent.isValid():
            return 1
        return len(self._kids.get(self._nid(parent), ()))

    def columnCount(self, parent: AnyIndex = _TOP) -> int:
        return 1

    def hasChildren(self, parent: AnyIndex = _TOP) -> bool:
        node = self.node(parent)
        return node is None or (node.kind is not NodeKind.CAMERA and bool(node.children))

    def canFetchMore(self, parent: AnyIndex) -> bool:
        node = self.node(parent)
        return node is not None and bool(node.children) and self._nid(parent) not in self._kids

    def fetchMore(self, parent: AnyIndex) -> None:
        if not self.canFetchMore(parent):
            return
        pid = self._nid(parent)
        children = self._nodes[pid].children
        self.beginInsertRows(parent, 0, len(children) - 1)
        first = len(self._nodes)
        self._nodes.extend(children)
        self._parent.extend([pid] * len(children))
        self._row.extend(range(len(children)))
        self._kids[pid] = list(range(first, first + len(children)))
        self.endInsertRows()

    # -- what a row shows --------------------------------------------------------------
    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        node = self.node(index)
        if node is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return node_text(node, self._index, self._online, self._relays)
        if role == Qt.ItemDataRole.ToolTipRole and node.kind is NodeKind.CAMERA:
            return tooltip(self._via.get(node.id), self._relays.get(node.id))
        if role == ROLE_NODE:
            return node
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        node = self.node(index)
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if node.kind is NodeKind.CAMERA:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        for index in indexes:
            node = self.node(index)
            if node is not None and node.kind is NodeKind.CAMERA:
                data.setData(CAMERA_MIME, node.id.encode("utf-8"))
                data.setText(node.name)
                break
        return data
