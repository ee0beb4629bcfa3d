"""The legend explains every mark the map draws, only for the layers switched on, and
fits the view (two columns when tall). Offscreen screenshot with every kind of mark:
artifacts/screenshots/map_legend_offscreen.png (look at it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QApplication

from console.map.leaders import leader_marks
from console.map.model import CameraState, Layer, MapModel, RollResult
from console.map.overlay import legend_rows
from console.map.panel import MapPanel
from dispatch.domain.site import demo_site_path, load_site
from dispatch.positions.messages import LeaderPosition
from tests.kit.paths import ROOT
from tests.unit.console.map.sample import COLOURS, map_event

SHOTS = ROOT / "artifacts" / "screenshots"


def test_every_mark_has_a_row_and_switched_off_layers_have_none() -> None:
    texts = [r.text for r in legend_rows()]
    for words in (
        "摄像机在线", "摄像机离线", "摄像机故障", "摄像机未巡检", "红色预警", "黄色预警",
        "绿色", "事件聚合", "选中", "闪烁", "点名已应答", "点名未应答", "本人同意共享",
        "淡显", "热点网格", "搜索定位",
    ):  # fmt: skip
        assert any(words in t for t in texts), words
    layers = dict.fromkeys(Layer, True)
    layers[Layer.EVENTS] = False
    layers[Layer.LEADERS] = False
    shown = [r.text for r in legend_rows(layers)]
    assert not any("预警" in t or "网格长" in t for t in shown) and "热点网格（红色斜线）" in shown
    layers[Layer.LEGEND] = False
    assert legend_rows(layers) == []


def test_a_map_with_every_mark_and_its_legend(qapp: QApplication) -> None:
    site = load_site(demo_site_path())
    model = MapModel(site)
    panel = MapPanel(model)
    panel.resize(1100, 760)
    panel.show()
    panel.view.fit_county()
    cams = list(model.cameras)
    states = list(CameraState)
    model.set_camera_states({c: states[i % len(states)] for i, c in enumerate(cams)})
    g = model.grids
    events = [(map_event(f"c{i}", grid=g[0].id), COLOURS[i % 3]) for i in range(12)]
    events += [(map_event(f"s{i}", grid=g[3 + i].id), COLOURS[i]) for i in range(3)]
    model.set_events(events)
    model.highlight(["s1"])
    model.alarm("s0")
    villages = list(model.villages)
    model.set_rollcall(
        {villages[0]: RollResult(True, "已应答"), villages[1]: RollResult(False, "未应答")}
    )
    now = datetime.now(UTC)
    fresh, old = now - timedelta(minutes=3), now - timedelta(minutes=80)
    ps = [
        LeaderPosition(
            person_id="p00", name="张建国", lon=112.5425, lat=37.8741, at=fresh, accuracy_m=10
        ),
        LeaderPosition(
            person_id="p01", name="王秀英", lon=112.5535, lat=37.8745, at=old, accuracy_m=30
        ),
    ]
    model.set_leaders(leader_marks(ps, now, 7200))
    model.set_hotspots([g[1].id])
    panel.search.setText(g[2].name)
    panel.places.choose_current()
    panel.view.fit_county()
    qapp.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = panel.grab()
    assert shot.save(str(SHOTS / "map_legend_offscreen.png"))
    assert set(model.leaders) == {"p00", "p01"} and model.leaders["p01"].faded
    panel.close()


def test_a_small_view_gets_the_compact_legend(qapp: QApplication) -> None:
    from PySide6.QtGui import QImage, QPainter

    from console.map.overlay import LINE, MAX_AREA, paint_legend

    rows = len(legend_rows())
    for w, h, compact in ((1100, 760, False), (420, 520, True), (300, 300, True)):
        image = QImage(w, h, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        box = paint_legend(painter, w, h, dict.fromkeys(Layer, True))
        painter.end()
        assert box.left() >= 0 and box.top() >= 0 and box.right() <= w and box.bottom() <= h
        if compact:  # a few lines; within MAX_AREA of a docked map's view
            assert box.height() <= 6 * LINE + 6, (w, h)
            assert w < 400 or box.width() * box.height() <= MAX_AREA * w * h, (w, h)
        else:
            assert box.height() >= rows * LINE  # one row per mark, full words


def test_the_docked_map_with_its_compact_legend(qapp: QApplication) -> None:
    panel = MapPanel(MapModel(load_site(demo_site_path())))
    panel.resize(430, 560)
    panel.show()
    panel.view.fit_county()
    qapp.processEvents()
    assert panel.grab().save(str(SHOTS / "map_legend_docked_offscreen.png"))
    panel.close()
