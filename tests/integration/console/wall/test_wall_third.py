"""A 25-tile wall on the simulator's cameras decodes their third streams and paints every tile.

Real parts: hall-camsim (each tile its own RTSP session and decoder), the real
controller and ingest, the wall view offscreen. Bounded waits, no timing asserts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from console.wall.controller import WallController
from console.wall.model import WallModel
from console.wall.sources import camera_names, rtsp_factory
from console.wall.view import WallView
from dispatch.domain.site import Site
from tests.integration.console.wall.test_wall_support import camsim_site
from tests.kit import pump_until

pytestmark = pytest.mark.integration

TILES = 25


@pytest.fixture
def site(camsim: Any) -> Site:
    return camsim_site(camsim, third=True)


@pytest.fixture
def wall(qapp: QApplication, site: Site, tmp_path: Path) -> Iterator[WallView]:
    model = WallModel(str(TILES))
    controller = WallController(
        model, rtsp_factory(site), evidence_dir=tmp_path, names=camera_names(site)
    )
    view = WallView(controller)
    view.resize(1920, 1080)
    cams = [c.id for c in site.cameras]
    model.assign_many([(i, cams[i % len(cams)]) for i in range(TILES)])
    controller.start()
    view.start()
    view.show()
    yield view
    view.stop()
    controller.stop()
    view.close()
    assert controller.live_slots() == []


def shown(view: WallView) -> list[str]:
    """Per visible tile: the stream of its painted frame ("" before the first)."""
    out = []
    for t in view.tiles:
        if not t.isHidden():
            painted = t.frame is not None and t.paints > 0 and t.overlay_text() is None
            out.append(t.frame.stream if painted and t.frame is not None else "")
    return out


def test_25_tiles_paint_third_streams_and_4_tiles_the_main_streams(wall: WallView) -> None:
    pump_until(
        lambda: shown(wall) == ["third"] * TILES,
        90,
        what=lambda: [t.status_text() for t in wall.tiles],
    )
    for tile in wall.tiles:
        frame = tile.frame
        assert frame is not None
        assert (frame.source_width, frame.source_height) == (640, 360)
        assert (frame.width, frame.height) == (384, 216)  # scaled to the tile in the decoder
        assert " · 第三码流" in tile.status_text()
        assert tile.status is not None and tile.status.stream.startswith("third")
    # 25 third streams weigh 14.2 D1 streams: within the budget, none shed for it
    assert wall.controller.plan.by_budget == 0

    wall.model.set_shape("4")  # 960x540 tiles: only the main stream covers them
    pump_until(
        lambda: shown(wall) == ["main"] * 4,
        60,
        what=lambda: [t.status_text() for t in wall.tiles if not t.isHidden()],
    )
    assert wall.controller.live_slots() == [0, 1, 2, 3]  # the other 21 stopped decoding
    for tile in wall.tiles[:4]:
        assert " · 主码流" in tile.status_text()
