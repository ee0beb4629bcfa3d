"""PTZ on the wall's tiles with real parts (offscreen Qt, a real hub, the simulator's
PTZ camera): a camera another operator holds shows "被 leader 控制中" on this console's
tile, this console's drag is refused while it is held (the refusal on the tile), and
after the release the same drag turns the camera (its ONVIF position moves)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.shell.app import build_window, parse_args
from console.wall.ptz_controller import PtzController
from console.wall.ptz_install import ptz_accesses
from console.wall.ptz_model import PtzModel
from console.wall.ptz_view import HELD, PtzTiles
from dispatch.client.connection import HubClient
from dispatch.domain.site import parse_site
from dispatch.hub.process import HubProcess
from streams.ptz.onvif_client import OnvifPtz
from streams.ptz.types import Vector
from streams.simulator import CamSim
from tests.integration.console.wall.test_wall_support import (
    ARTIFACTS,
    camsim_site_dict,
    image_array,
    site_toml,
    tile_on_screen,
)
from tests.kit.hub import client_keys
from tests.kit.wait import pump_until

pytestmark = pytest.mark.integration


@pytest.fixture
def ptz_camsim() -> Iterator[CamSim]:
    sim = CamSim(2, ptz=["cam1"], encoding="fast")
    sim.start(timeout_s=30.0)
    try:
        yield sim
    finally:
        sim.stop()


def held_pixels(img: Any) -> int:
    px = image_array(img)[..., :3].astype(int)
    bgr = np.array([HELD.blue(), HELD.green(), HELD.red()])
    return int(np.all(np.abs(px - bgr) <= 40, axis=-1).sum())


def test_holder_refusal_and_drag_on_a_ptz_tile(
    qapp: QApplication, ptz_camsim: CamSim, tmp_path: Path
) -> None:
    site_dict = camsim_site_dict(ptz_camsim)
    cams = site_dict["cameras"]
    assert isinstance(cams, list)
    cams[0]["onvif"] = ptz_camsim.onvif_url("cam1")
    site_dict["people"] = [{"id": "maint", "name": "运维单位", "role": "maintenance"}]
    site_file = tmp_path / "site.toml"
    site_file.write_text(site_toml(site_dict), encoding="utf-8")
    site = parse_site(site_dict, "test")
    hub = HubProcess(
        f"sqlite:///{tmp_path / 'hall.db'}", site=site_file, demo=True, data_dir=tmp_path
    )
    hub.start(timeout_s=60)
    net = NetThread()
    net.start()
    window = None
    clients: list[HubClient] = []
    try:

        async def logged_in(user: str, password: str) -> HubClient:
            c = HubClient(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub),
                          workstation=user, on_change=lambda ch: None,
                          on_connection=lambda st: None)  # fmt: skip
            clients.append(c)
            await c.start()
            await c.login(user, password)
            await c.ptz.fetch()
            return c

        duty = net.submit(logged_in("duty", "duty123")).result(30)
        leader = net.submit(logged_in("leader", "leader123")).result(30)
        bridge = QtBridge()
        args = parse_args(["--site", str(site_file), "--layout", "4"])
        window, _ = build_window(args, site)
        window.resize(1280, 800)
        window.show()
        model = PtzModel(list(ptz_accesses(site)))
        controller = PtzController(
            ptz_accesses(site), model, net.submit, bridge.post, lambda: duty.ptz
        )
        tiles = PtzTiles(window.wall, controller, model)
        tiles.attach()
        duty.ptz.listen(
            lambda v: bridge.post(
                lambda: model.set_holds({c: h.operator for c, h in v.items()}, "duty")
            )
        )
        net.submit(leader.ptz.hold("cam1")).result(10)
        pump_until(lambda: (s := model.state("cam1")) is not None and s.holder == "leader", 15)
        tile = next(t for t in window.wall.tiles if t.camera_id == "cam1")
        other = next(t for t in window.wall.tiles if t.camera_id == "cam2")
        pump_until(lambda: held_pixels(tile_on_screen(tile)) > 300, 10)
        assert held_pixels(tile_on_screen(other)) == 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        window.wall.grab().save(str(ARTIFACTS / "ptz_wall_held.png"))

        controller.begin("cam1")
        controller.drag("cam1", Vector(0.8, 0.0, 0.0))
        pump_until(lambda: "被 leader 控制中" in (model.state("cam1") or model).error, 15)  # type: ignore[union-attr]
        controller.end("cam1")

        net.submit(leader.ptz.release("cam1")).result(10)
        pump_until(lambda: (s := model.state("cam1")) is not None and s.holder is None, 15)

        async def pan() -> float:
            probe = OnvifPtz(ptz_accesses(site)["cam1"], timeout_s=10)
            await probe.connect()
            try:
                return (await probe.status()).position.pan
            finally:
                await probe.close()

        before = net.submit(pan()).result(30)
        controller.begin("cam1")
        controller.drag("cam1", Vector(0.8, 0.0, 0.0))
        pump_until(lambda: (s := model.state("cam1")) is not None and s.mine, 15)
        pump_until(lambda: net.submit(pan()).result(30) > before + 0.1, 20, interval=0.3)
        controller.end("cam1")
        assert model.state("cam1").error == ""  # type: ignore[union-attr]
        net.submit(controller.close()).result(10)
    finally:
        for c in clients:  # stopped even when a step failed (else their sockets leak
            net.submit(c.stop()).result(10)  # into the next test's warnings)
        if window is not None:
            window.stop()
            window.close()
        net.stop()
        hub.stop()
        asyncio.set_event_loop(None)
