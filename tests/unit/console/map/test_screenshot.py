"""The map of the demo site grabbed offscreen (saved under artifacts/screenshots to look at):
markers in the warning colours where their events are, grids filled, the base map under."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from console.map.install import add_base_tiles
from console.map.items import WARNING
from console.map.model import CameraState, MapModel
from console.map.panel import MapPanel
from dispatch.domain.site import demo_site_path, load_site
from tests.integration.console.wall.test_wall_support import ARTIFACTS
from tests.unit.console.map.sample import COLOURS, map_event


def near(c: QColor, want: QColor, tol: int = 40) -> bool:
    return (
        abs(c.red() - want.red()) <= tol
        and abs(c.green() - want.green()) <= tol
        and abs(c.blue() - want.blue()) <= tol
    )


def test_demo_map_screenshot_has_the_warning_colours_in_place(qapp: QApplication) -> None:
    site = load_site(demo_site_path())
    panel = MapPanel(MapModel(site))
    tiles = site.map.tiles_path(demo_site_path())
    assert tiles is not None and add_base_tiles(panel, tiles, site.map.datum) is None
    panel.resize(1200, 800)
    panel.show()
    model, view = panel.model, panel.view
    model.set_camera_states({c.id: CameraState.ONLINE for c in site.cameras})
    far_apart = [model.grids[0], model.grids[len(model.grids) // 2], model.grids[-1]]
    events = [(map_event(f"e{i}", grid=g.id), COLOURS[i]) for i, g in enumerate(far_apart)]
    model.set_events(events)
    view.fit_county()
    qapp.processEvents()
    shot = panel.grab().toImage()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot.save(str(ARTIFACTS / "map_demo_offscreen.png"))
    top = view.mapTo(panel, view.viewport().pos())
    for i, g in enumerate(far_apart):
        p = view.mapFromScene(QPointF(g.centre[0], -g.centre[1])) + top
        assert near(shot.pixelColor(p), WARNING[i]), (i, shot.pixelColor(p).name())
    panel.close()
