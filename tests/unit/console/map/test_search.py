"""The map's place search offscreen: a live results list (places and events by name,
title or id), keyboard-navigable, plain text whatever the names hold; choosing one
centres the view and marks it (an event: highlighted). The full-screen map has the base
tiles too."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from console.kit.plain import inert_bidi
from console.map.install import add_base_tiles
from console.map.model import Layer, MapModel, Place
from console.map.panel import MapPanel
from console.map.search import MAX_NAME, row_text
from console.map.tiles import TileLayer
from dispatch.domain.site import demo_site_path, load_site
from tests.kit.hostile import HOSTILE, LONG, RTL, assert_no_risky_labels
from tests.unit.console.map.sample import COLOURS, map_event

SITE = load_site(demo_site_path())


def shown(qapp: QApplication) -> MapPanel:
    panel = MapPanel(MapModel(SITE))
    panel.resize(900, 600)
    panel.show()
    panel.view.fit_county()
    qapp.processEvents()
    return panel


def rows(panel: MapPanel) -> list[str]:
    return [panel.places.results.item(i).text() for i in range(panel.places.results.count())]


def centre_of(panel: MapPanel) -> QPointF:
    return panel.view.mapToScene(panel.view.viewport().rect().center())


def test_typing_lists_places_and_the_keyboard_chooses(qapp: QApplication) -> None:
    panel = shown(qapp)
    model, places = panel.model, panel.places
    assert not places.results.isVisible()
    panel.search.setText("城关")
    assert places.results.isVisible()
    town = SITE.townships[0]
    assert f"［乡镇］  {town.name}" in rows(panel)
    assert all(h.name.find("城关") >= 0 or h.id.find("城关") >= 0 for h in places.hits)
    chosen: list[Place] = []
    places.chosen.connect(chosen.append)
    QTest.keyClick(panel.search, Qt.Key.Key_Down)
    assert places.results.currentRow() == 0
    QTest.keyClick(places.results, Qt.Key.Key_Down)
    assert places.results.currentRow() == 1
    QTest.keyClick(places.results, Qt.Key.Key_Return)
    assert chosen == [places.hits[1]] and not places.results.isVisible()
    assert model.found == places.hits[1]
    at = centre_of(panel)
    assert abs(at.x() - chosen[0].at[0]) < 5 and abs(at.y() + chosen[0].at[1]) < 5
    ring = [i for i in panel.view.scene().items() if i.zValue() == 40]
    assert len(ring) == 1 and ring[0].isVisible()
    # Esc closes the list; Enter without a row chooses the first
    panel.search.setText("村")
    assert places.results.isVisible()
    QTest.keyClick(panel.search, Qt.Key.Key_Escape)
    assert not places.results.isVisible()
    QTest.keyClick(panel.search, Qt.Key.Key_Return)
    assert chosen[-1] == places.hits[0]
    panel.search.setText("不存在的地方")
    assert not places.results.isVisible()
    QTest.keyClick(panel.search, Qt.Key.Key_Return)
    assert panel.found.text().startswith("未找到")
    panel.close()


def test_events_by_id_and_title_are_highlighted(qapp: QApplication) -> None:
    panel = shown(qapp)
    model = panel.model
    grid = model.grids[2]
    model.set_events(
        [
            (map_event("E2512-0042", grid=grid.id, title="河道污水排放"), COLOURS[0]),
            (map_event("E2512-0043", grid=grid.id, title="占道经营"), COLOURS[1]),
        ]
    )
    panel.search.setText("0042")
    assert rows(panel) == ["［事件］  E2512-0042  河道污水排放"]
    panel.search.setText("污水")
    QTest.keyClick(panel.search, Qt.Key.Key_Return)
    assert model.highlighted == frozenset({"E2512-0042"})
    assert model.found is None  # an event is highlighted, not ringed
    panel.close()


def test_hostile_names_are_plain_one_line_rows(qapp: QApplication) -> None:
    panel = shown(qapp)
    model = panel.model
    grid = model.grids[0]
    model.set_events(
        [
            (map_event(f"h{i}", grid=grid.id, title=s[:200]), COLOURS[0])  # titles ≤ 200
            for i, s in enumerate(HOSTILE)
        ]
    )
    panel.search.setText("h")
    texts = rows(panel)
    for i, s in enumerate(HOSTILE):
        place = Place("event", f"h{i}", s[:200], grid.centre)
        assert row_text(place) in texts
    assert inert_bidi(RTL) in "".join(texts) and "\u202e" not in "".join(texts)
    long_row = row_text(Place("event", "h5", LONG, grid.centre))
    assert len(long_row) < MAX_NAME + 30 and long_row.endswith("…")
    assert all("\n" not in t for t in texts)
    panel.search.setText("\n".join(["a", "b"]))  # a pasted line break finds nothing
    assert_no_risky_labels(panel)
    QTest.keyClick(panel.search, Qt.Key.Key_Return)
    assert "\n" not in panel.found.text()
    panel.close()


def test_full_screen_draws_the_base_tiles_too(qapp: QApplication) -> None:
    panel = shown(qapp)
    tiles = SITE.map.tiles_path(demo_site_path())
    assert tiles is not None
    assert add_base_tiles(panel, tiles, SITE.map.datum) is None
    panel.toggle_fullscreen()
    win = panel.window_
    assert win is not None
    qapp.processEvents()
    base = [i for i in win.view.scene().items() if isinstance(i, TileLayer)]
    assert len(base) == 1 and base[0] is not panel.base and base[0].isVisible()
    win.view.viewport().repaint()
    qapp.processEvents()
    assert base[0].tiles_drawn > 0
    # its own tool row: the switches agree with the panel's, 派单… goes where the panel's
    # goes, its search centres its own view, 退出全屏 closes it
    win.tools.toggles[Layer.CAMERAS].setChecked(False)
    assert not panel.model.layers[Layer.CAMERAS] and not panel.toggles[Layer.CAMERAS].isChecked()
    panel.toggles[Layer.CAMERAS].setChecked(True)
    assert win.tools.toggles[Layer.CAMERAS].isChecked()
    win.tools.period.setCurrentIndex(2)
    assert panel.period.currentIndex() == 2
    asked: list[str] = []
    panel.view.dispatchRequested.connect(asked.append)
    win.view.dispatchRequested.emit("E1")
    assert asked == ["E1"]
    win.tools.search.setText(SITE.villages[0].name)
    QTest.keyClick(win.tools.search, Qt.Key.Key_Return)
    at = win.view.mapToScene(win.view.viewport().rect().center())
    village = panel.model.villages[SITE.villages[0].id].at
    assert abs(at.x() - village[0]) < 5 and abs(at.y() + village[1]) < 5
    assert win.tools.extra.text() == "退出全屏（Esc）"
    win.tools.extra.click()
    qapp.processEvents()
    assert panel.window_ is None
    panel.close()


def test_a_leaders_shared_position_is_found_by_name(qapp: QApplication) -> None:
    from datetime import UTC, datetime

    from console.map.leaders import leader_marks
    from dispatch.positions.messages import LeaderPosition

    panel = shown(qapp)
    now = datetime.now(UTC)
    pos = LeaderPosition(
        person_id="p00", name="张建国", lon=112.5425, lat=37.8741, at=now, accuracy_m=10
    )
    panel.model.set_leaders(leader_marks([pos], now, 7200))
    panel.search.setText("张建国")
    assert rows(panel) == ["［网格长位置］  张建国"]
    QTest.keyClick(panel.search, Qt.Key.Key_Return)
    assert panel.model.found is not None and panel.model.found.kind == "leader"
    panel.close()
