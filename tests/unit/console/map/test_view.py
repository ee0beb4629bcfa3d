"""The map view offscreen: clicks, rectangle pick, flashing, zoom, plain outside text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem

from console.map.install import add_base_tiles
from console.map.model import CameraState, Layer, MapModel
from console.map.panel import MapPanel
from console.map.tiles import TileLayer
from console.map.view import MapView
from dispatch.domain.site import Site, demo_site_path, load_site
from tests.kit import pump_until
from tests.kit.hostile import HEADING, RTL, assert_no_risky_labels, assert_tooltip_literal
from tests.unit.console.map.sample import COLOURS, map_event


def shown(qapp: QApplication, site: Site | None = None) -> MapPanel:
    panel = MapPanel(MapModel(site or load_site(demo_site_path())))
    panel.resize(900, 600)
    panel.show()
    panel.view.fit_county()
    qapp.processEvents()
    return panel


def viewport_pos(view: MapView, x: float, y: float) -> QPointF:
    return QPointF(view.mapFromScene(QPointF(x, -y)))


def test_click_camera_and_event(qapp: QApplication) -> None:
    panel = shown(qapp)
    view, model = panel.view, panel.model
    cams: list[str] = []
    events: list[str] = []
    view.cameraClicked.connect(cams.append)
    view.eventClicked.connect(events.append)
    cam = next(iter(model.cameras.values()))
    view.centre_on_world(*cam.at, scale=0.5)  # zoomed in: nothing else within reach
    assert view.click(viewport_pos(view, *cam.at))
    assert cams == [cam.id]
    grid = model.grids[0]
    model.set_events([(map_event("e1", grid=grid.id), COLOURS[0])])
    view.centre_on_world(*grid.centre)
    assert view.click(viewport_pos(view, *grid.centre))
    assert events == ["e1"]
    model.set_layer(Layer.EVENTS, False)
    assert not view.events.isVisible()
    assert not view.click(viewport_pos(view, *grid.centre))
    panel.close()


def test_zoomed_out_events_cluster(qapp: QApplication) -> None:
    panel = shown(qapp)
    view, model = panel.view, panel.model
    grid = model.grids[0]
    model.set_events([(map_event(f"e{i}", grid=grid.id), COLOURS[i % 3]) for i in range(30)])
    view.zoom(0.05)
    clusters = view.events.clusters(view.scale_px_per_m)
    assert len(clusters) == 1 and len(clusters[0].members) == 30 and clusters[0].rank == 0
    panel.close()


def test_pick_rectangle_and_keys(qapp: QApplication) -> None:
    panel = shown(qapp)
    view, model = panel.view, panel.model
    picked: list[list[str]] = []
    view.camerasPicked.connect(picked.append)
    minx, miny, maxx, maxy = model.bounds()
    ids = view.pick(QRectF(QPointF(minx - 1, -(maxy + 1)), QPointF(maxx + 1, -(miny - 1))))
    assert picked == [ids] and set(ids) == set(model.cameras)
    before = view.scale_px_per_m
    view.zoom(2.0)
    assert view.scale_px_per_m > before
    assert view.ground_m_per_px() > 0
    panel.close()


def test_new_red_event_flashes_then_stops(qapp: QApplication) -> None:
    panel = shown(qapp)
    view, model = panel.view, panel.model
    model.set_events([(map_event("red", grid=model.grids[0].id), COLOURS[0])])
    model.alarm("red")
    assert view.flashing() == {"red"}
    phases: set[bool] = set()

    def both_phases() -> bool:
        phases.add(view.marks.flash_on)
        return len(phases) == 2

    pump_until(both_phases, timeout=10)
    painted = view.marks.painted
    pump_until(lambda: view.marks.painted > painted, timeout=10)
    model.set_camera_states({next(iter(model.cameras)): CameraState.OFFLINE})
    panel.close()


def test_outside_names_are_plain(qapp: QApplication) -> None:
    site = load_site(demo_site_path())
    towns = [t.model_copy(update={"name": HEADING}) for t in site.townships]
    grids = [g.model_copy(update={"name": RTL}) for g in site.grids]
    panel = shown(qapp, site.model_copy(update={"townships": towns, "grids": grids}))
    labels = [i for i in panel.view.scene().items() if isinstance(i, QGraphicsSimpleTextItem)]
    assert HEADING in [lb.text() for lb in labels]  # drawn as typed, never as a heading
    grid = site.grids[0]
    leader = next(p.name for p in site.people if p.id == grid.leader)
    tip = panel.view.grid_items[grid.id].toolTip()
    assert_tooltip_literal(tip, f"{RTL}\n网格长：{leader}")
    assert panel.find_place(HEADING[:6])
    assert_no_risky_labels(panel)
    assert not panel.find_place(RTL + "x")
    assert_no_risky_labels(panel)
    panel.close()


def test_base_tiles_under_the_geometry_or_a_message(qapp: QApplication, tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    tiles = site.map.tiles_path(demo_site_path())
    assert tiles is not None
    panel = shown(qapp, site)
    assert add_base_tiles(panel, tiles, site.map.datum) is None
    base = [i for i in panel.view.scene().items() if isinstance(i, TileLayer)]
    assert len(base) == 1 and base[0].zValue() < min(
        g.zValue() for g in panel.view.grid_items.values()
    )
    panel.view.viewport().repaint()
    pump_until(lambda: base[0].tiles_drawn > 0, 5, what="tiles drawn")
    panel.model.set_layer(Layer.BASE, False)
    assert not base[0].isVisible()
    bad = tmp_path / "not.mbtiles"
    bad.write_bytes(b"not sqlite")
    error = add_base_tiles(shown(qapp, site), bad, "wgs84")
    assert error is not None and error.startswith("离线底图无法打开")
    panel.close()


def test_leaders_shared_positions_are_marked_as_consented(qapp: QApplication) -> None:
    panel = shown(qapp)
    model = panel.model
    changed: list[None] = []
    model.leaders_changed.connect(changed.append)
    mark = MapModel.leader_mark("p00", RTL, 112.542, 37.874, "09:41")
    model.set_leaders([mark])
    model.set_leaders([mark])
    assert changed == [None] and model.leaders["p00"].name == RTL
    text = panel.view.leaders._text(mark.name, mark.when)
    assert text.endswith("09:41（本人同意共享）")
    panel.view.viewport().repaint()  # paints without error
    model.set_layer(Layer.LEADERS, False)
    assert not panel.view.leaders.isVisible()
    panel.close()
