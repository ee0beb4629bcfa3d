"""The camera tree at county scale: lazy rows, one-pass counts, search through the index."""

from __future__ import annotations

import random
import statistics

import pytest
from PySide6.QtWidgets import QApplication

from console.cameras.index import TreeIndex
from console.cameras.online import OnlineSources
from console.cameras.panel import CameraTreePanel
from console.cameras.tree import Node, build_tree, matches, online_count
from dispatch.domain.site import Site, demo_site_path, load_site, parse_site
from dispatch.domain.sitegen import CountySpec, county_site
from streams.ingest.types import CameraState, CameraStatus


@pytest.fixture(scope="module")
def county() -> Site:
    return parse_site(county_site(CountySpec(cameras=5000)))


def shown_cameras(keep: set[str]) -> set[str]:
    return {k.split(":", 1)[1] for k in keep if k.startswith("camera:")}


@pytest.mark.parametrize("text", ["", "社区", "村委会", "c00042", "t03", "城关镇", "不存在的名字"])
def test_search_shows_what_the_tree_walk_showed(county: Site, text: str) -> None:
    root = build_tree(county)
    pruned = TreeIndex(root).search(text)
    assert set(pruned.camera_ids()) == shown_cameras(matches(root, text))


def test_counts_agree_with_the_tree_walk() -> None:
    site = load_site(demo_site_path())
    root = build_tree(site)
    index = TreeIndex(root)
    rng = random.Random(3)
    for _ in range(20):
        online = {c.id for c in site.cameras if rng.random() < 0.5}
        statuses = {c: CameraStatus(c, CameraState.LIVE) for c in online}
        counts = index.counts(online | {"not-a-camera"})
        stack: list[Node] = [root]
        while stack:
            node = stack.pop()
            key = f"{node.kind.value}:{node.id}"
            assert (counts.get(key, 0), index.totals[key]) == online_count(node, statuses)
            stack.extend(node.children)


def test_5000_cameras_start_lazy_and_search_fast(qapp: QApplication, county: Site) -> None:
    panel = CameraTreePanel(build_tree(county))
    panel.resize(320, 900)
    panel.show()
    qapp.processEvents()
    assert panel.model.fetched_rows == 1 + 20  # the county and its townships, nothing more
    assert panel.online_total() == (0, 5000)
    panel.set_online({c.id for c in county.cameras[::2]})
    assert panel.online_total() == (2500, 5000)
    assert panel.text("township:t01").endswith(f"/{panel.index.totals['township:t01']}）")
    times = []
    for text in ["社区", "村委会", "c00042", "城关镇", "城关", "村", "", "不存在"]:
        panel.search.setText(text)
        qapp.processEvents()
        times.append(panel.last_search_ms)
        want = TreeIndex(panel.root).search(text).camera_ids()
        assert len(panel.visible_camera_ids()) == len(want)
    assert panel.model.fetched_rows < 2000  # "村" matches nearly every camera: not opened out
    assert statistics.median(times) < 100, times
    panel.search.setText("c00042")
    cam = panel.model.find("camera:c00042")
    assert cam.isValid() and panel.tree.isExpanded(cam.parent())
    panel.close()


def test_online_sources_freshest_wins() -> None:
    src = OnlineSources()
    src.set_patrol({"a": True, "b": True, "c": False, "d": True})
    src.set_relay({"b": False, "c": True})
    wall = {
        "d": CameraStatus("d", CameraState.OFFLINE),  # the tile sees it down now
        "e": CameraStatus("e", CameraState.LIVE),  # never patrolled, live on the wall
        "a": CameraStatus("a", CameraState.CONNECTING),  # says nothing yet
    }
    assert src.online(wall) == {"a", "c", "e"}
    assert src.online({}) == {"a", "c", "d"}
