"""A video platform's cameras in the console, with real parts: the kit's WVP-shaped
platform server (aiohttp, its own thread) handing out `hall-camsim` RTSP URLs that expire,
a real hub (SQLite) reading its catalogue, and the console (offscreen Qt): the window of
`hall-console`, its event queue logged in, the platform install of `install_hub_panels`.

The platform camera shows in the camera tree under its village, an unplaced channel
under 未归属; dropped on a tile it plays (the pictures' stamps read); before its URL
expires the tile asks the hub again and the platform answers a new URL (the server
rotates them): the tile switches with a short gap; the platform down → the tree stays as
last known with "平台离线，显示最后目录"; up again → the note goes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from console.cameras.platform_install import install_platform
from console.cameras.tree import UNPLACED
from console.events.wiring import EventQueue
from console.shell.app import build_window, parse_args
from console.shell.main_window import MainWindow
from console.wall.platform_stream import PlatformTileStream
from dispatch.domain.site import load_site
from dispatch.hub.process import HubProcess
from streams.ingest.stamp import decode_stamp
from streams.simulator import CamSim
from tests.integration.console.events.test_event_queue_hub import Console
from tests.integration.console.wall.test_wall_support import camsim_site_dict, site_toml
from tests.kit.platform import KitChannel, PlatformServer, ThreadedPlatform, county_channels
from tests.kit.platform_site import with_platform_toml
from tests.kit.wait import pump_until

pytestmark = pytest.mark.integration

EXPIRE_S = 9.0  # the platform's URL lifetime: the tile asks again 3 s before


@pytest.fixture
def sim() -> Iterator[CamSim]:
    s = CamSim(2, encoding="fast")
    s.start(timeout_s=30.0)
    try:
        yield s
    finally:
        s.stop()


def test_platform_camera_in_tree_on_the_wall_renewed_and_platform_down(
    qapp: QApplication, sim: CamSim, tmp_path: Path
) -> None:
    channels = county_channels(3, 1, 1)  # civil code 330521001001: township t01, village v01
    channels.append(KitChannel("34052100001189999999", "34052100001319999999", "河道", "99"))
    urls = [sim.url("cam2", "sub"), sim.url("cam2", "third")]
    server = PlatformServer(channels, urls, expire_s=EXPIRE_S, rotate=True)
    threaded = ThreadedPlatform(server)
    with threaded, _console(sim, server, tmp_path) as (window, queue, hub):
        panel = window.cameras
        cam, loose = (f"gaw.{c.device_id}.{c.channel_id}" for c in (channels[0], channels[-1]))
        pump_until(lambda: panel.index.has_camera(cam), 60, what="the platform camera")
        assert panel.index.has_camera(loose)
        assert panel.index.nodes[f"township:{UNPLACED}"].camera_ids() == [loose]
        village = panel.index.nodes["village:v01"]
        assert cam in village.camera_ids() and "cam1" in village.camera_ids()
        assert panel.note.isHidden()

        # dragged from the tree onto the (only) tile
        row = panel.model.find("township:t01")
        panel.model.fetchMore(row)
        vrow = panel.model.find("village:v01")
        panel.model.fetchMore(vrow)
        mime = panel.model.mimeData([panel.model.find(f"camera:{cam}")])
        tile = window.wall.tiles[0]
        drop = QDropEvent(
            QPointF(20, 20),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        tile.dropEvent(drop)
        assert window.controller.model.camera(tile.slot) == cam
        pump_until(  # a picture wide enough for the stamp (the tile takes its size first)
            lambda: tile.frame is not None and tile.frame.width >= 240,
            30,
            what="the platform camera's picture",
        )
        stream = window.controller.stream(tile.slot)
        assert isinstance(stream, PlatformTileStream) and stream.urls == [urls[0]]
        assert decode_stamp(tile.frame.image) is not None  # type: ignore[union-attr]

        # before the URL expires the tile asks again; the platform's new URL plays on
        painted: list[float] = []  # when each new picture reached the tile
        switched: list[float] = []  # when the tile's stream became the new URL's
        last_seq = [-1]

        def watch() -> bool:
            now = time.monotonic()
            f = tile.frame
            if f is not None and f.seq != last_seq[0]:
                last_seq[0] = f.seq
                painted.append(now)
            if stream.url == urls[1] and not switched:
                switched.append(now)
            return bool(switched) and now - switched[0] > 2.0

        t0 = time.monotonic()
        pump_until(watch, 3 * EXPIRE_S, interval=0.01, what="a renewed URL playing")
        assert stream.urls[:2] == urls and len(server.plays) >= 2
        assert switched[0] - t0 < EXPIRE_S, "asked again before the first URL expired"
        near = [t for t in painted if abs(t - switched[0]) < 2.0]
        gap = max(b - a for a, b in itertools.pairwise(near))
        # the same measure on the first URL's pictures, well before the switch (the load's)
        calm = [t for t in painted if switched[0] - 5.0 < t < switched[0] - 2.0]
        base = max((b - a for a, b in itertools.pairwise(calm)), default=0.0)
        print(
            f"platform URL switch: largest gap between painted pictures {gap * 1000:.0f} ms "
            f"around the switch, {base * 1000:.0f} ms before it ({len(calm)} pictures)"
        )
        assert gap < 1.0 + base, f"the switch left the tile without a new picture for {gap:.2f} s"
        assert decode_stamp(tile.frame.image) is not None  # type: ignore[union-attr]

        # the platform goes down: the tree stays as last known, with the note
        threaded.run(server.down())
        pump_until(lambda: not panel.note.isHidden(), 45, what="the platform-down note")
        assert "平台离线，显示最后目录" in panel.note.text()
        assert panel.index.has_camera(cam) and panel.index.has_camera(loose)
        threaded.run(server.up())
        pump_until(lambda: panel.note.isHidden(), 45, what="the note cleared")
        assert hub.pid is not None and queue.model.session is not None


class _console:
    """The hub on the camsim + platform site, the window and its logged-in event queue
    with the platform install (as `hall-console --site … --hub …` puts them together)."""

    def __init__(self, sim: CamSim, server: PlatformServer, folder: Path) -> None:
        site_dict = camsim_site_dict(sim)
        site_dict["people"] = [{"id": "maint", "name": "运维单位", "role": "maintenance"}]
        text = site_toml(site_dict)
        site_file = folder / "site.toml"
        site_file.write_text(
            with_platform_toml(text, server.url, "330521001001", "t01", "v01"), encoding="utf-8"
        )
        self.site_file = site_file
        self.site = load_site(site_file)
        self.hub = HubProcess(
            f"sqlite:///{folder / 'hall.db'}", site=site_file, demo=True, data_dir=folder
        )

    def __enter__(self) -> tuple[MainWindow, EventQueue, HubProcess]:
        self.hub.start(timeout_s=60)
        args = parse_args(["--site", str(self.site_file), "--layout", "1"])
        self.window, _ = build_window(args, self.site)
        self.window.resize(1280, 800)
        self.window.show()
        self.console = Console(self.hub, "ws-platform")
        queue = self.console.queue
        install = install_platform(self.site, self.window.cameras, self.window.controller, queue)
        assert install is not None
        self.install = install
        out = self.console.login()
        assert out.ok, out
        return self.window, queue, self.hub

    def __exit__(self, *exc: object) -> None:
        self.install.stop()
        self.window.stop()
        self.window.close()
        self.console.close()
        self.hub.stop()
