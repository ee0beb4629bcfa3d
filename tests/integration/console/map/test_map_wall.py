"""The map in the main window against the real camera simulator: a camera clicked on the
map plays on the wall; cameras picked with a rectangle go to the wall as a group."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QApplication, QDockWidget

from console.map.install import add_map
from console.shell.main_window import MainWindow
from dispatch.domain.site import Site
from tests.integration.console.wall.test_wall_live import make_window
from tests.integration.console.wall.test_wall_support import camsim_site
from tests.kit import pump_until

pytestmark = pytest.mark.integration


@pytest.fixture
def site(camsim: Any) -> Site:
    return camsim_site(camsim)


@pytest.fixture
def window(qapp: QApplication, site: Site, tmp_path: Path) -> Iterator[MainWindow]:
    w = make_window(site, tmp_path)
    yield w
    w.close()
    assert w.controller.live_slots() == []


def test_camera_clicked_on_the_map_plays_on_the_wall(
    qapp: QApplication, window: MainWindow, site: Site
) -> None:
    panel = add_map(window, site, window, window.controller, window.findChild(QDockWidget))
    window.start("4", default_cameras=[])
    window.show()
    qapp.processEvents()
    view = panel.view
    cam = panel.model.cameras[site.cameras[1].id]
    view.centre_on_world(*cam.at, scale=0.05)
    qapp.processEvents()
    assert view.click(QPointF(view.mapFromScene(QPointF(cam.at[0], -cam.at[1]))))

    def playing(camera_id: str) -> bool:
        return any(
            t.camera_id == camera_id and t.frame is not None and t.overlay_text() is None
            for t in window.wall.tiles
            if not t.isHidden()
        )

    pump_until(lambda: playing(cam.id), 20, what="the clicked camera live on the wall")
    minx, miny, maxx, maxy = panel.model.bounds()
    picked = view.pick(QRectF(QPointF(minx - 10, -maxy - 10), QPointF(maxx + 10, -miny + 10)))
    assert set(picked) == {c.id for c in site.cameras}
    pump_until(lambda: window.model.linkage is not None, 5, what="picked cameras as a group")
    pump_until(lambda: all(playing(c) for c in picked[:2]), 20, what="the group live")
