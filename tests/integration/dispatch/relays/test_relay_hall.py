"""hall-camsim → hall-relay → two consoles' wall sources and the patrol, with a real hub.

Real parts only: a CamSim asking for digest credentials (only the relay has them), the
relay's gst-rtsp-server process posting its states to a real hub process over HTTPS, two
consoles each with a real `HubClient` (CURVE) following the published relay states and a
wall source built by `console.wall.sources.rtsp_factory` from the site (its URL from
`stream_url`: the relay's), and a patrol probe of the site's targets (`site_targets`).
The camera sees one session per stream; a camera killed and revived behind the relay
shows failed then live at each console, and the wall sources go offline and come back;
the relay killed and restarted, each console sees it stale (it stopped reporting), then
the consoles' sources recover on their own and the relay reports live again. The
console's health panel (relay table) and camera tree (row mark, tooltip) show each of
those states (offscreen widgets fed as the console's relay feed feeds them).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.cameras.panel import CameraTreePanel
from console.cameras.relays import camera_relays, site_via
from console.cameras.tree import build_tree
from console.health.model import HealthModel
from console.health.view import HealthView
from console.wall.sources import rtsp_factory
from dispatch.client.connection import HubClient
from dispatch.domain.relay import stream_url
from dispatch.domain.site import Site, load_site
from dispatch.hub.process import HubProcess
from dispatch.patrol.runner import site_targets
from dispatch.relays.runner import HubReporter, RelayConfig, RelayRunner, relay_spec
from streams.ingest.types import CameraState, CameraStatus
from streams.patrol.probe import probe
from streams.patrol.relayed import probe_url
from streams.relay.states import UpstreamState
from streams.simulator import CamSim
from tests.kit.hub import HUB_API_KEY, client_keys
from tests.kit.wait import async_wait_until

pytestmark = pytest.mark.integration

USER, PASSWORD = "admin", "cam-only-secret"
CAM = "cam1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_text(sim: CamSim, relay_port: int) -> str:
    lines = [
        'name = "接力测试县"',
        "[credentials.cams]",
        f'username = "{USER}"',
        f'password = "{PASSWORD}"',
        "[[townships]]",
        'id = "t1"',
        'name = "城关镇"',
        "[[people]]",
        'id = "maint"',
        'name = "运维"',
        'role = "maintenance"',
        "[[relays]]",
        'id = "r1"',
        f'url = "rtsp://127.0.0.1:{relay_port}"',
        'townships = ["t1"]',
    ]
    for cam in sim.camera_ids:
        lines += [
            "[[cameras]]",
            f'id = "{cam}"',
            f'name = "路口{cam}"',
            'township = "t1"',
            "lon = 113.6",
            "lat = 34.7",
            'credentials = "cams"',
            f'main = {{ url = "{sim.url(cam, "main")}", width = 1280, height = 720 }}',
            f'sub = {{ url = "{sim.url(cam, "sub")}", width = 704, height = 576 }}',
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Hall:
    sim: CamSim
    site: Site
    hub: HubProcess
    relay: RelayRunner


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    sim = CamSim(cameras=2, auth=(USER, PASSWORD))
    sim.start(timeout_s=30.0)
    site_path = tmp_path / "site.toml"
    site_path.write_text(site_text(sim, free_port()), encoding="utf-8")
    site = load_site(site_path)
    hub = HubProcess(f"sqlite:///{tmp_path / 'hall.db'}", site=site_path, demo=True)
    relay: RelayRunner | None = None
    try:
        hub.enrol_console("wall-b")  # before the start: its first read of the book admits it
        hub.start(timeout_s=60)
        cfg = RelayConfig(
            site=site_path, relay="r1", listen="127.0.0.1", idle_s=30, backoff_max_s=1.0
        )
        post = HubReporter(hub.http_url, HUB_API_KEY, ssl_context=hub.ssl_context()).post
        relay = RelayRunner("r1", relay_spec(site, cfg), post, report_every_s=2.0)
        relay.start()
        yield Hall(sim, site, hub, relay)
    finally:
        if relay is not None:
            relay.stop()
        hub.stop()
        sim.stop()


class Console:
    """One console's parts: its hub client (relay states) and one wall source."""

    def __init__(self, hall: Hall, name: str) -> None:
        keys = client_keys(hall.hub) if name == "a" else hall.hub.enrol_console("wall-b")
        self.client = HubClient(
            hall.hub.req_endpoint,
            hall.hub.pub_endpoint,
            keys=keys,
            workstation=f"wall-{name}",
            on_change=lambda _ch: None,
            on_connection=lambda _st: None,
            request_timeout_s=30,
        )
        self.statuses: list[CameraStatus] = []
        self.source = rtsp_factory(hall.site)(CAM, (480, 270), self.statuses.append)

    def relay_state(self) -> UpstreamState | None:
        up = self.client.relays.upstream(CAM, "sub")
        return None if up is None else up.state

    def wall_state(self) -> CameraState:
        return self.source.status().state


@dataclass
class Views:
    health: HealthView
    tree: CameraTreePanel


def console_views(site: Site, client: HubClient) -> Views:
    """The health panel and the camera tree fed as the console's relay feed feeds them
    (`console.cameras.feeds.RelayFeed`): the facade's view and stale relays."""
    facade = client.relays
    view = facade.view()
    model = HealthModel(site)
    model.show_relays(view, {r for r in view if facade.is_stale(r)})
    tree = CameraTreePanel(build_tree(site))
    tree.set_via(site_via(site))
    tree.set_relays(camera_relays(view, facade.is_stale))
    return Views(HealthView(model, NoHistory()), tree)


class NoHistory:
    """The health view's intents (history reads), not used here."""

    def load_history(self, camera: str) -> None:
        pass


def shot(views: Views) -> None:
    out = os.environ.get("HALL_SCREENSHOT_DIR")
    if out:
        views.health.resize(700, 500)
        views.health.grab().save(str(Path(out) / "relay-hall-health.png"))


async def each(consoles: list[Console], pred: Callable[[Console], bool], what: str) -> None:
    await async_wait_until(lambda: all(pred(c) for c in consoles), 60, what=what)


def test_one_pull_for_two_consoles_and_the_patrol_faults_and_recovery(
    hall: Hall, qapp: QApplication
) -> None:
    cam = hall.site.camera(CAM)
    assert stream_url(hall.site, cam, "sub") == hall.relay.server.url(CAM, "sub")
    assert PASSWORD not in stream_url(hall.site, cam, "sub")  # the relay holds it
    before = hall.sim.sessions(CAM)[0]

    async def go() -> None:
        consoles = [Console(hall, "a"), Console(hall, "b")]
        for c, (user, pw) in zip(
            consoles, [("duty", "duty123"), ("leader", "leader123")], strict=True
        ):
            await c.client.start()
            await c.client.login(user, pw)
            await c.client.relays.fetch()
            c.source.start()
        try:
            await each(consoles, lambda c: c.wall_state() is CameraState.LIVE, "walls live")
            await each(consoles, lambda c: c.relay_state() is UpstreamState.LIVE, "relay live")
            target = next(t for t in site_targets(hall.site) if t.camera == CAM)
            assert target.url == probe_url(hall.relay.server.url(CAM, "sub"))
            assert target.via == "r1"
            got = await asyncio.to_thread(probe, target.url)
            assert got.online, got  # from the relay's pull: no new session at the camera
            # one session at the camera for what the relay pulls (one per stream)
            pulled = {s: hall.relay.server.pulls(CAM, s) for s in ("main", "sub")}
            assert pulled["sub"] == 1, pulled
            assert hall.sim.sessions(CAM)[0] - before == sum(pulled.values()), pulled

            hall.sim.kill(CAM)
            await each(consoles, lambda c: c.relay_state() is UpstreamState.FAILED, "failed")
            await each(consoles, lambda c: c.wall_state() is not CameraState.LIVE, "walls down")
            up = consoles[0].client.relays.upstream(CAM, "sub")
            assert up is not None and up.error and PASSWORD not in up.error
            # what the console's panels show of it (the feed's path: facade view -> models)
            shown = console_views(hall.site, consoles[0].client)
            assert shown.health.relays.topLevelItem(0).text(1) == "上游故障"
            assert up.error in shown.tree.tooltip(CAM)
            assert shown.tree.text(f"camera:{CAM}").endswith("中继故障")
            hall.sim.revive(CAM)
            await each(consoles, lambda c: c.relay_state() is UpstreamState.LIVE, "live again")
            await each(consoles, lambda c: c.wall_state() is CameraState.LIVE, "walls back")
            shown = console_views(hall.site, consoles[0].client)
            assert "拉流中" in shown.tree.tooltip(CAM)
            assert shown.health.relays.topLevelItem(0).text(1) == "在报"

            hall.relay.server.kill()
            await each(consoles, lambda c: c.wall_state() is not CameraState.LIVE, "relay gone")
            await each(consoles, lambda c: c.client.relays.is_stale("r1"), "relay stale")
            shown = console_views(hall.site, consoles[0].client)
            assert shown.health.relays.topLevelItem(0).text(1) == "失联（无报告）"
            assert shown.tree.tooltip(CAM) == "经中继 r1：失联（无报告）"
            shot(shown)
            hall.relay.start()
            await each(consoles, lambda c: c.wall_state() is CameraState.LIVE, "walls recover")
            await each(consoles, lambda c: not c.client.relays.is_stale("r1"), "reporting")
            await each(consoles, lambda c: c.relay_state() is UpstreamState.LIVE, "reported")
        finally:
            for c in consoles:
                await asyncio.to_thread(c.source.stop)
                await c.client.stop()

    asyncio.run(go())
