"""The relays' states in the console: the tree's camera rows and tooltips, and the
health panel's relay table (offscreen; screenshot to $HALL_SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from console.cameras.panel import CameraTreePanel
from console.cameras.relays import (
    CameraRelay,
    camera_relays,
    relay_rows,
    row_text,
    site_via,
    tooltip,
)
from console.cameras.tree import NodeKind, build_tree
from console.health.model import HealthModel
from console.health.relay_status import relay_status_text
from console.health.view import HealthView
from console.kit import i18n
from dispatch.domain.site import Site, load_site
from streams.relay.states import RelayReport, Upstream, UpstreamState

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
Stream = Literal["main", "sub", "third"]
LIVE, FAILED, IDLE = UpstreamState.LIVE, UpstreamState.FAILED, UpstreamState.IDLE


def report(relay: str, *ups: tuple[str, Stream, UpstreamState, str, int]) -> RelayReport:
    return RelayReport(
        relay=relay,
        at=NOW,
        upstreams=[
            Upstream(camera=c, stream=s, state=st, error=e, clients=n, since=NOW)
            for c, s, st, e, n in ups
        ],
    )


VIEW = {
    "r1": report(
        "r1",
        ("c1", "main", FAILED, "no data from the camera for 5 s", 0),
        ("c1", "sub", FAILED, "no data from the camera for 5 s", 0),
        ("c2", "main", IDLE, "", 0),
        ("c2", "sub", LIVE, "", 2),
        ("c2", "third", LIVE, "", 1),
    ),
    "r2": report("r2", ("c3", "sub", LIVE, "", 1)),
}


def test_each_camera_takes_its_most_telling_stream() -> None:
    got = camera_relays(VIEW)
    assert got["c1"] == CameraRelay("r1", FAILED, "no data from the camera for 5 s", 0)
    assert got["c2"] == CameraRelay("r1", LIVE, "", 3)  # live wins; viewers of both streams
    assert camera_relays(VIEW, lambda r: r == "r2")["c3"] == CameraRelay("r2", None)


def test_tooltips_and_rows_say_the_relays_word() -> None:
    i18n.set_language("zh_CN")
    got = camera_relays(VIEW)
    assert tooltip("r1", got["c1"]) == "经中继 r1：故障\n上游错误：no data from the camera for 5 s"
    assert tooltip("r1", got["c2"]) == "经中继 r1：拉流中，3 路观看"
    assert tooltip("r2", CameraRelay("r2", None)) == "经中继 r2：失联（无报告）"
    assert tooltip("r9", None) == "经中继 r9：尚无报告"
    assert tooltip(None, None) == "直连摄像机（无中继）"
    assert row_text("○ 路口", got["c1"]) == "○ 路口 · 中继故障"
    assert row_text("● 路口", got["c2"]) == "● 路口"
    i18n.set_language("en")
    try:
        assert tooltip("r1", got["c2"]) == "through relay r1: pulling, 3 watching"
    finally:
        i18n.set_language("zh_CN")


def test_the_status_bar_line_counts_reporting_relays_and_upstreams() -> None:
    rows = relay_rows(["r1", "r2", "r3"], VIEW, lambda r: r == "r2")
    assert relay_status_text(rows) == "中继 1/3 在报 · 拉流 2 · 故障 2"
    assert relay_status_text(()) == ""


def test_relay_rows_count_every_relay_of_the_site() -> None:
    rows = relay_rows(["r1", "r2", "r3"], VIEW, lambda r: r == "r2")
    assert [(r.relay, r.heard, r.stale) for r in rows] == [
        ("r1", True, False),
        ("r2", True, True),
        ("r3", False, False),
    ]
    assert rows[0].counts == {FAILED: 2, IDLE: 1, LIVE: 2}
    assert [u.camera for u in rows[0].failed] == ["c1", "c1"]


SITE = """
name = "中继县"
[[townships]]
id = "t1"
name = "城关镇"
[[townships]]
id = "t2"
name = "河西乡"
[[relays]]
id = "r1"
url = "rtsp://127.0.0.1:18554"
townships = ["t1"]
[[relays]]
id = "r2"
url = "rtsp://127.0.0.1:18555"
cameras = ["c3"]
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    cams = [("c1", "t1"), ("c2", "t1"), ("c3", "t2"), ("c4", "t2")]
    text = SITE + "".join(
        f'[[cameras]]\nid = "{c}"\nname = "路口{c}"\ntownship = "{t}"\nlon = 113.6\nlat = 34.7\n'
        f'main = {{ url = "rtsp://127.0.0.1:9/{c}/main", width = 1280, height = 720 }}\n'
        f'sub = {{ url = "rtsp://127.0.0.1:9/{c}/sub", width = 704, height = 576 }}\n'
        for c, t in cams
    )
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return load_site(path)


def test_the_tree_and_the_health_panel_show_relay_states(qapp: QApplication, site: Site) -> None:
    assert site_via(site) == {"c1": "r1", "c2": "r1", "c3": "r2"}
    panel = CameraTreePanel(build_tree(site))
    panel.set_via(site_via(site))
    panel.set_relays(camera_relays(VIEW, lambda r: r == "r2"))
    panel.apply_filter("路口c1")  # opens the branch down to the camera
    row = _camera_row(panel, "c1")
    assert panel.model.data(row) == "○ 路口c1 · 中继故障"
    tip = panel.model.data(row, Qt.ItemDataRole.ToolTipRole)
    assert tip == "经中继 r1：故障\n上游错误：no data from the camera for 5 s"
    assert panel.tooltip("c3") == "经中继 r2：失联（无报告）"
    assert panel.tooltip("c4") == "直连摄像机（无中继）"

    model = HealthModel(site)
    view = HealthView(model, _NoHistory())
    assert [view.relays.topLevelItem(i).text(1) for i in range(2)] == ["尚无报告"] * 2
    model.show_relays(VIEW, {"r2"})
    r1, r2 = view.relays.topLevelItem(0), view.relays.topLevelItem(1)
    assert (r1.text(0), r1.text(1), r1.text(2)) == ("r1", "上游故障", "2 / 0 / 2 / 1")
    assert [r1.child(i).text(0) for i in range(r1.childCount())] == [
        "路口c1 (main)",
        "路口c1 (sub)",
    ]
    assert r1.child(0).text(1) == "no data from the camera for 5 s"
    assert (r2.text(1), r2.text(2)) == ("失联（无报告）", "1 / 0 / 0 / 0")
    assert view.relays_label.text() == "中继（2）"
    out = os.environ.get("HALL_SCREENSHOT_DIR")
    if out:
        view.resize(700, 800)
        view.grab().save(str(Path(out) / "health-relays.png"))
        panel.resize(320, 400)
        panel.grab().save(str(Path(out) / "tree-relays.png"))


class _NoHistory:
    def load_history(self, camera: str) -> None:
        pass


def _camera_row(panel: CameraTreePanel, camera: str) -> QModelIndex:
    model = panel.model
    stack = [model.index(0, 0)]
    while stack:
        idx = stack.pop()
        node = model.node(idx)
        if node is not None and node.id == camera and node.kind is NodeKind.CAMERA:
            return idx
        model.fetchMore(idx)
        stack += [model.index(r, 0, idx) for r in range(model.rowCount(idx))]
    raise AssertionError(f"no row for {camera}")
