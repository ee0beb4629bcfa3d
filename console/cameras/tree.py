"""The camera tree, Qt-free: county → township → village → grid → camera, counts and search."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dispatch.domain.site import Site
from dispatch.platform.messages import PlatformCameraInfo
from streams.ingest.types import CameraState, CameraStatus


class NodeKind(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"
    CAMERA = "camera"


@dataclass(slots=True)
class Node:
    kind: NodeKind
    id: str
    name: str
    children: list[Node] = field(default_factory=list)

    def camera_ids(self) -> list[str]:
        if self.kind is NodeKind.CAMERA:
            return [self.id]
        out: list[str] = []
        for child in self.children:
            out.extend(child.camera_ids())
        return out


UNPLACED = "unplaced"
"""The id of the 未归属 branch: a platform's cameras no table placed (docs/platform.md)."""


def build_tree(
    site: Site,
    platform: Iterable[PlatformCameraInfo] = (),
    loose: Iterable[PlatformCameraInfo] = (),
    loose_name: str = "未归属",
) -> Node:
    """The site's cameras under their township, village and grid (missing levels skipped),
    a video platform's cameras (docs/platform.md) under their township or village, and its
    unplaced ones (`loose`) on a last branch `loose_name` (未归属)."""
    root = Node(NodeKind.COUNTY, "county", site.name)
    towns = {t.id: Node(NodeKind.TOWNSHIP, t.id, t.name) for t in site.townships}
    villages = {v.id: Node(NodeKind.VILLAGE, v.id, v.name) for v in site.villages}
    grids = {g.id: Node(NodeKind.GRID, g.id, g.name) for g in site.grids}
    for t in site.townships:
        root.children.append(towns[t.id])
    for v in site.villages:
        towns[v.township].children.append(villages[v.id])
    for g in site.grids:
        villages[g.village].children.append(grids[g.id])
    for c in site.cameras:
        if c.grid is not None:
            parent = grids[c.grid]
        elif c.village is not None:
            parent = villages[c.village]
        else:
            parent = towns[c.township]
        parent.children.append(Node(NodeKind.CAMERA, c.id, c.name))
    for p in platform:
        place = villages.get(p.village or "") or towns.get(p.township)
        if place is not None:  # a tree read with another site file: not shown
            place.children.append(Node(NodeKind.CAMERA, p.id, p.name))
    rest = Node(NodeKind.TOWNSHIP, UNPLACED, loose_name)
    rest.children = [Node(NodeKind.CAMERA, p.id, p.name) for p in loose]
    root.children.append(rest)
    prune(root)
    return root


def prune(node: Node) -> bool:
    """Drop branches without cameras; True if `node` keeps any camera."""
    if node.kind is NodeKind.CAMERA:
        return True
    node.children = [c for c in node.children if prune(c)]
    return bool(node.children) or node.kind is NodeKind.COUNTY


def online_count(node: Node, statuses: Mapping[str, CameraStatus]) -> tuple[int, int]:
    """(cameras live now, cameras) under `node`; cameras not being watched count as not live."""
    ids = node.camera_ids()
    live = sum(1 for i in ids if (s := statuses.get(i)) is not None and s.state is CameraState.LIVE)
    return live, len(ids)


def matches(node: Node, text: str) -> set[str]:
    """Ids (kind:id) of the nodes to show for a search: matching cameras and their ancestors.

    An empty search shows everything. A matching township/village/grid shows its whole branch.
    """
    needle = text.strip().casefold()
    keep: set[str] = set()

    def key(n: Node) -> str:
        return f"{n.kind.value}:{n.id}"

    def add_all(n: Node) -> None:
        keep.add(key(n))
        for c in n.children:
            add_all(c)

    def walk(n: Node) -> bool:
        if not needle or needle in n.name.casefold() or needle == n.id.casefold():
            add_all(n)
            return True
        hit = False
        for c in n.children:
            hit = walk(c) or hit
        if hit:
            keep.add(key(n))
        return hit

    walk(node)
    return keep
