"""The camera tree's index, Qt-free: built once, then counts and search without walking
the tree.

For a county of 5,000 cameras walking the tree per node (`tree.online_count` on every
node, `tree.matches`) costs tens of milliseconds each time; the index keeps each node's
camera total, each camera's ancestors and every node's folded name, so that the online
counts of all nodes are one pass over the online cameras and a search is one pass over
the names (measured in `tests/bench/county.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from console.cameras.tree import Node, NodeKind


def node_key(node: Node) -> str:
    return f"{node.kind.value}:{node.id}"


class TreeIndex:
    """Totals, ancestors and names of a camera tree (the whole tree: `root`)."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self.nodes: dict[str, Node] = {}
        self.totals: dict[str, int] = {}
        self._ancestors: dict[str, tuple[str, ...]] = {}  # camera id -> keys above it
        self._entries: list[tuple[str, str, str, tuple[str, ...]]] = []
        self._walk(root, ())

    def _walk(self, node: Node, above: tuple[str, ...]) -> int:
        key = node_key(node)
        self.nodes[key] = node
        self._entries.append((node.name.casefold(), node.id.casefold(), key, above))
        if node.kind is NodeKind.CAMERA:
            self._ancestors[node.id] = above
            total = 1
        else:
            path = (*above, key)
            total = sum(self._walk(child, path) for child in node.children)
        self.totals[key] = total
        return total

    @property
    def cameras(self) -> int:
        return self.totals[node_key(self.root)]

    def has_camera(self, camera_id: str) -> bool:
        return camera_id in self._ancestors

    def counts(self, online: Iterable[str]) -> Counter[str]:
        """Online cameras under each node (key -> count; the cameras' own keys too), from
        the ids of the cameras online now; ids not in the tree are ignored."""
        out: Counter[str] = Counter()
        for cam in online:
            above = self._ancestors.get(cam)
            if above is None:
                continue
            out[f"camera:{cam}"] += 1
            for key in above:
                out[key] += 1
        return out

    def search(self, text: str) -> Node:
        """The tree to show for a search: matching cameras and their ancestors; a matching
        township, village or grid with its whole branch. An empty search: the whole tree.

        A new, pruned root whose kept nodes are copies; whole branches are the tree's own
        nodes (nothing is copied below them)."""
        needle = text.strip().casefold()
        if not needle:
            return self.root
        keep: set[str] = set()
        whole: set[str] = set()
        for name, nid, key, above in self._entries:
            if needle in name or needle == nid:
                whole.add(key)
                keep.update(above)
        if not whole:
            return Node(self.root.kind, self.root.id, self.root.name)
        return self._pruned(self.root, keep, whole)

    def _pruned(self, node: Node, keep: set[str], whole: set[str]) -> Node:
        if node_key(node) in whole:
            return node
        children = [
            self._pruned(c, keep, whole)
            for c in node.children
            if node_key(c) in keep or node_key(c) in whole
        ]
        return Node(node.kind, node.id, node.name, children)
