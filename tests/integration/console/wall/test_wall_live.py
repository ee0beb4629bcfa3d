"""The wall against the real simulator: live pictures, states, tours, layouts after restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from console.cameras.tree import build_tree
from console.shell.main_window import MainWindow
from console.wall.controller import WallController
from console.wall.layouts import LayoutStore
from console.wall.model import WallModel
from console.wall.sources import camera_names, rtsp_factory
from console.wall.tile import TileWidget
from dispatch.domain.site import Site
from streams.ingest.stamp import decode_stamp
from streams.ingest.types import CameraState
from tests.integration.console.wall.test_wall_support import (
    ARTIFACTS,
    camsim_site,
    image_array,
    tile_on_screen,
)
from tests.kit import pump_for, pump_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _themed(qapp: QApplication) -> None:
    """The wall as the console shows it: the hall's theme on the application."""
    from console.shell import theme

    theme.apply(qapp)


@pytest.fixture
def site(camsim: Any) -> Site:
    return camsim_site(camsim)


def make_window(site: Site, cfg: Path) -> MainWindow:
    c = WallController(
        WallModel(), rtsp_factory(site), evidence_dir=cfg / "evidence", names=camera_names(site)
    )
    w = MainWindow(c, build_tree(site), LayoutStore(cfg))
    w.resize(1600, 900)
    return w


@pytest.fixture
def window(qapp: QApplication, site: Site, tmp_path: Path) -> Iterator[MainWindow]:
    w = make_window(site, tmp_path)
    yield w
    w.close()
    assert w.controller.live_slots() == []


def painted_stamp(tile: TileWidget) -> int | None:
    return decode_stamp(image_array(tile_on_screen(tile)))


def all_painted(w: MainWindow) -> bool:
    tiles = [t for t in w.wall.tiles if not t.isHidden() and t.camera_id]
    return bool(tiles) and all(t.frame is not None and t.overlay_text() is None for t in tiles)


def test_tiles_show_live_pictures_whose_stamps_advance(
    qapp: QApplication, window: MainWindow, site: Site
) -> None:
    cams = [c.id for c in site.cameras]
    window.start("4", default_cameras=cams)
    window.model.assign_many([(i, cams[i % len(cams)]) for i in range(4)])
    window.show()
    pump_until(
        lambda: all_painted(window), 20, what=lambda: [t.status_text() for t in window.wall.tiles]
    )
    pump_for(1.0)
    tiles = [t for t in window.wall.tiles if not t.isHidden()]
    first = [painted_stamp(t) for t in tiles]
    pixels = [image_array(tile_on_screen(t)) for t in tiles]
    pump_for(1.0)
    second = [painted_stamp(t) for t in tiles]
    for tile, a, b, px in zip(tiles, first, second, pixels, strict=True):
        assert a is not None and b is not None, tile.status_text()
        assert 500 <= b - a <= 2500, (a, b)  # the painted picture moves on in real time
        assert float(px[..., :3].mean()) > 20  # not black
        assert float(px[..., :3].std()) > 10  # not a flat colour
        assert tile.frame is not None
        assert (tile.frame.width, tile.frame.height) == (tile.width(), tile.height())
        assert "在线" in tile.status_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "console_offscreen.png"))
    window.model.set_shape("9")
    window.model.assign_many([(i, cams[i % len(cams)]) for i in range(9)])
    pump_until(lambda: all_painted(window), 20)
    pump_for(1.5)
    assert window.grab().save(str(ARTIFACTS / "console_offscreen_9.png"))


def test_killed_camera_tile_says_offline_then_live_again(
    qapp: QApplication, window: MainWindow, site: Site, camsim: Any
) -> None:
    cam = site.cameras[-1].id
    window.start("1", default_cameras=[cam])
    window.model.assign(0, cam)
    window.show()
    tile = window.wall.tiles[0]
    pump_until(lambda: all_painted(window), 20)
    camsim.kill(cam)
    try:
        down = ("离线", "重连中", "连接中")
        pump_until(
            lambda: any(w in (tile.overlay_text() or "") for w in down),
            2.5,
            what=lambda: tile.status_text(),
        )
    finally:
        camsim.revive(cam)
    pump_until(lambda: tile.overlay_text() is None and all_painted(window), 3.5 + 2)
    status = tile.status
    assert status is not None and status.state is CameraState.LIVE


def test_tour_advances_on_a_live_tile(qapp: QApplication, window: MainWindow, site: Site) -> None:
    cams = [c.id for c in site.cameras][:2]
    window.start("1", default_cameras=cams)
    window.show()
    window.controller.start_tour(cams, [0], dwell_s=2.0)
    tile = window.wall.tiles[0]
    pump_until(lambda: tile.frame is not None and tile.frame.camera_id == cams[0], 15)
    pump_until(
        lambda: tile.frame is not None and tile.frame.camera_id == cams[1],
        15,
        what=lambda: tile.status_text(),
    )
    assert window.controller.tour is not None and window.controller.tour.step >= 1
    window.controller.pause_tour()
    step = window.controller.tour.step
    pump_for(2.5)
    assert window.controller.tour.step == step


def test_saved_layout_comes_back_after_restart(
    qapp: QApplication, site: Site, tmp_path: Path
) -> None:
    cams = [c.id for c in site.cameras]
    first = make_window(site, tmp_path)
    first.start(default_cameras=cams)
    first.model.set_shape("1+5")
    first.model.assign_many([(i, cams[(i + 1) % len(cams)]) for i in range(6)])
    first.save_layout("早班")
    first.model.set_shape("4")
    first.close()
    assert first.controller.live_slots() == []

    second = make_window(site, tmp_path)
    try:
        second.start(default_cameras=cams)
        second.show()
        assert second.model.shape.name == "4"  # the last used
        second.load_layout("早班")
        assert second.model.shape.name == "1+5"
        assert [second.model.camera(i) for i in range(6)] == [
            cams[(i + 1) % len(cams)] for i in range(6)
        ]
        pump_until(lambda: all_painted(second), 20)
        big = second.wall.tiles[0]
        assert big.width() > 2 * second.wall.tiles[1].width() - 4
        assert big.frame is not None and big.frame.camera_id == cams[1]
    finally:
        second.close()


def test_maximised_tile_switches_to_the_main_stream(
    qapp: QApplication, window: MainWindow, site: Site
) -> None:
    cams = [c.id for c in site.cameras]
    window.start("16", default_cameras=cams)
    window.model.assign_many([(i, cams[i % len(cams)]) for i in range(16)])
    window.resize(1920, 1080)
    window.show()
    pump_until(lambda: all_painted(window), 30)
    tile = window.wall.tiles[5]
    assert tile.frame is not None and tile.frame.stream.startswith("sub")
    window.controller.toggle_maximise(5)
    assert window.controller.live_slots() == [5]
    tile = window.wall.tile_for(5)  # type: ignore[assignment]
    assert tile is not None and window.wall.width() - tile.width() <= 1
    pump_until(
        lambda: tile.frame is not None and tile.frame.stream.startswith("main"),
        15,
        what=lambda: tile.status_text(),
    )
    assert tile.frame is not None and tile.frame.width == tile.width()


def test_snapshot_and_clip_land_in_the_evidence_folder(
    qapp: QApplication, window: MainWindow, site: Site
) -> None:
    cam = site.cameras[0]
    window.start("1", default_cameras=[cam.id])
    window.show()
    pump_until(lambda: all_painted(window), 20)
    pump_for(3.0)
    window.wall.snapshot(0)
    window.wall.save_clip(0)
    msgs = window.statusBar()
    ev = window.controller.evidence_dir
    pump_until(
        lambda: "录像已保存" in msgs.currentMessage(), 30, what=lambda: msgs.currentMessage()
    )
    pngs, mp4s = list(ev.glob("*.png")), list(ev.glob("*.mp4"))
    assert len(pngs) == 1 and len(mp4s) == 1
    assert str(mp4s[0]) in msgs.currentMessage()
