"""Run under a real X server (Xvfb, `QT_QPA_PLATFORM=xcb`) by `test_map_xvfb`: the demo
site's map with its base tiles, events in the three warning colours, a grid leader's
shared position and the legend, full screen on the screen (the second-screen mode),
the whole screen grabbed to a PNG. Prints one `MAP {json}` line: where the markers are
on the screen and the window's geometry.

    python -m tests.integration.console.map.map_window OUT.png
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from console.map.install import add_base_tiles
from console.map.leaders import leader_marks
from console.map.model import CameraState, MapModel
from console.map.panel import MapPanel
from dispatch.domain.site import demo_site_path, load_site
from dispatch.positions.messages import LeaderPosition
from tests.unit.console.map.sample import COLOURS, map_event


def main(out: str) -> int:
    app = QApplication([sys.argv[0]])
    site = load_site(demo_site_path())
    panel = MapPanel(MapModel(site))
    tiles = site.map.tiles_path(demo_site_path())
    assert tiles is not None and add_base_tiles(panel, tiles, site.map.datum) is None
    model = panel.model
    model.set_camera_states({c.id: CameraState.ONLINE for c in site.cameras})
    far_apart = [model.grids[0], model.grids[len(model.grids) // 2], model.grids[-1]]
    model.set_events([(map_event(f"e{i}", grid=g.id), COLOURS[i]) for i, g in enumerate(far_apart)])
    now = datetime.now(UTC)
    pos = LeaderPosition(
        person_id="p00", name="张建国", lon=112.5425, lat=37.8760, at=now, accuracy_m=10
    )
    model.set_leaders(leader_marks([pos], now, 7200))
    panel.resize(430, 560)
    panel.show()
    panel.toggle_fullscreen()  # one screen: the map full screen on it

    def shoot() -> None:
        win = panel.window_
        assert win is not None
        win.view.fit_county()
        app.processEvents()
        screen = QGuiApplication.primaryScreen()
        assert screen is not None and screen.grabWindow(0).save(out)
        origin = win.view.viewport().mapToGlobal(win.view.viewport().rect().topLeft())
        markers = []
        for g in far_apart:
            p = win.view.mapFromScene(QPointF(g.centre[0], -g.centre[1]))
            markers.append([p.x() + origin.x(), p.y() + origin.y()])
        report = {
            "markers": markers,
            "window": [win.geometry().width(), win.geometry().height()],
            "screen": [screen.geometry().width(), screen.geometry().height()],
            "fullscreen": win.isFullScreen(),
            "platform": QGuiApplication.platformName(),
        }
        print("MAP " + json.dumps(report), flush=True)
        app.quit()

    QTimer.singleShot(1500, shoot)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
