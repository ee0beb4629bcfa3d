"""Background services for `hall-console --demo`: cameras, hub and incoming reports.

`DemoServices` brings up, in this order, the camera simulator for the demo site, a hub
on an embedded SQLite file (demo operators and intake key seeded), a camera relay
(`hall-relay`'s parts) in front of every camera, reporting its upstreams to the hub, and
a generator of realistic incoming reports. The simulator records every camera into
`record_dir` (the 回放 window plays it; its timeline shows the recorded spans) and runs
`DEMO_PTZ` as a PTZ camera with an ONVIF service (the wall's PTZ pad). The demo runs on a
copy of the site (`site`, `site_path` after `start()`) naming that camera's ONVIF address
and, with the relay, the relay: the console's wall, the hub's patrol and the tree's
tooltips all go through it, as in a county. `start()` and `stop()` are
idempotent; nothing runs until `start()`; a part that fails to start stops the parts
already running. The hub is a CURVE hub like any other: `HubProcess` enrols the demo's own
console workstation in the hub's keys folder (beside the database), under this machine's
workstation name, before the hub starts; the console uses `console_keys`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.domain.site import Site, demo_site_path
from streams.private import private_dir

if TYPE_CHECKING:
    from dispatch.client.keys import ConsoleKeys
    from dispatch.hub.generator import ReportGenerator
    from dispatch.hub.process import HubProcess
    from dispatch.relays.runner import RelayRunner
    from streams.simulator import CamSim

PASSWORD_ENV = "HALL_CAMSIM_PASSWORD"
DEMO_RELAY = "demo-relay"
DEMO_USER = "admin"
DEMO_OPERATOR = ("duty", "duty123")  # seeded by `hall-hub --demo`
DEMO_PTZ = "cam1"  # the demo's PTZ camera (ONVIF, a window over a larger scene)


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_onvif(text: str, camera: str, onvif: str) -> str:
    """The site file's text with `onvif = "<url>"` on camera `camera` (unchanged if the
    camera is not there or already has one)."""
    head = f'[[cameras]]\nid = "{camera}"\n'
    at = text.find(head)
    if at < 0 or "onvif" in text[at : text.find("[[", at + len(head))]:
        return text
    end = at + len(head)
    return f"{text[:end]}onvif = {json.dumps(onvif)}\n{text[end:]}"


def absolute_tiles(text: str, site_path: Path, site: Site) -> str:
    """The site file's text with its map's tile package made absolute (for a copy that
    lives elsewhere)."""
    tiles = site.map.tiles_path(site_path)
    if tiles is not None and site.map.tiles is not None:
        text = text.replace(
            f"tiles = {json.dumps(site.map.tiles)}", f"tiles = {json.dumps(str(tiles))}"
        )
    return text


def relayed_site_text(site_path: Path, site: Site, port: int, text: str | None = None) -> str:
    """The site file's text (or `text`) with one relay (`DEMO_RELAY` on `port`) for all
    its townships, its map's tile package made absolute (the copy lives elsewhere)."""
    raw = site_path.read_text(encoding="utf-8") if text is None else text
    text = absolute_tiles(raw, site_path, site)
    townships = ", ".join(json.dumps(t.id) for t in site.townships)
    relay = (
        "\n\n# the demo's relay (hall-relay): every camera pulled once, for everyone\n"
        f'[[relays]]\nid = "{DEMO_RELAY}"\nurl = "rtsp://127.0.0.1:{port}"\n'
        f"townships = [{townships}]\n"
    )
    return text.rstrip("\n") + relay


class DemoServices:
    def __init__(
        self,
        site: Site,
        *,
        data_dir: Path,
        site_path: Path | None = None,
        reports_per_min: float = 6.0,
        with_hub: bool = True,
        patrol_every_s: float = 300.0,
        workstation: str = "demo-console",
        with_relay: bool = True,
    ) -> None:
        self.site = site
        self.workstation = workstation  # the console's enrolment name (its session's)
        self.site_path = site_path or demo_site_path()
        self.data_dir = data_dir
        self.reports_per_min = reports_per_min
        self.with_hub = with_hub
        self.patrol_every_s = patrol_every_s  # the hub's camera patrol (0 = off)
        self.with_relay = with_relay  # a relay in front of the cameras (with the hub)
        self._camsim: CamSim | None = None
        self._relay: RelayRunner | None = None
        self._hub: HubProcess | None = None
        self._console_keys: ConsoleKeys | None = None
        self._generator: ReportGenerator | None = None
        self.record_dir = data_dir / "recordings"

    def start(self, timeout_s: float = 30.0) -> None:
        if self._camsim is not None:
            return
        try:
            self._start_cameras(timeout_s)
            self._demo_site(self.with_hub and self.with_relay and not self.site.relays)
            if self._relay is not None:
                self._relay.start(timeout_s)  # listening before the hub's first patrol
            if self.with_hub:
                self._start_hub(timeout_s)
            if self._relay is not None:
                self._report_relay()
        except BaseException:
            self.stop()
            raise

    def _start_cameras(self, timeout_s: float) -> None:
        from streams.ingest.sources import read_camera_sources
        from streams.simulator import CamSim

        # the demo site's credentials refer to this variable: set it before any URL is built
        password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(12)
        os.environ[PASSWORD_ENV] = password
        # cameras that encode like cameras (H.264 High, CABAC) showing streets and squares,
        # every fourth at night in infrared black and white
        cameras = read_camera_sources(self.site_path)
        private_dir(self.data_dir)
        sim = CamSim(
            site=cameras,
            auth=(DEMO_USER, password),
            encoding="camera",
            scene="mixed",
            ptz=[DEMO_PTZ] if any(c.id == DEMO_PTZ for c in cameras) else [],
            record_dir=self.record_dir,  # 回放: the last 2 hours of every camera
        )
        self._camsim = sim
        sim.start(timeout_s)

    def _demo_site(self, relay: bool) -> None:
        """The demo site with its PTZ camera's ONVIF address and (with `relay`) a relay
        for every township, beside the demo's database: the hub, the patrol and the
        console then pull every camera through it and know the PTZ camera."""
        from dispatch.domain.site import load_site
        from dispatch.relays.runner import RelayConfig, RelayRunner, relay_spec

        sim = self._camsim
        assert sim is not None
        text = self.site_path.read_text(encoding="utf-8")
        if DEMO_PTZ in sim.camera_ids:
            text = with_onvif(text, DEMO_PTZ, sim.onvif_url(DEMO_PTZ))
        private_dir(self.data_dir)
        path = self.data_dir / "demo-site-relayed.toml"
        text = absolute_tiles(text, self.site_path, self.site)
        if relay:
            text = relayed_site_text(self.site_path, self.site, free_tcp_port(), text)
        path.write_text(text, encoding="utf-8")
        site = load_site(path)
        if relay:
            cfg = RelayConfig(site=path, relay=DEMO_RELAY, listen="127.0.0.1")
            self._relay = RelayRunner(DEMO_RELAY, relay_spec(site, cfg), None)
        self.site, self.site_path = site, path

    def _report_relay(self) -> None:
        """The running relay starts reporting its upstreams' states to the demo hub."""
        from dispatch.hub.demo import DEMO_API_KEY
        from dispatch.relays.runner import HubReporter

        relay, hub = self._relay, self._hub
        assert relay is not None and hub is not None
        relay.set_post(HubReporter(hub.http_url, DEMO_API_KEY, ssl_context=hub.ssl_context()).post)
        relay.start()  # the server runs already: this starts the reports

    def _start_hub(self, timeout_s: float) -> None:
        from dispatch.hub.demo import DEMO_API_KEY
        from dispatch.hub.generator import ReportGenerator
        from dispatch.hub.process import HubProcess
        from streams.webrtc.coturn import free_udp_tcp_port

        private_dir(self.data_dir)
        db = self.data_dir / "hall-demo.db"
        hub = HubProcess(
            f"sqlite:///{db}",
            site=self.site_path,
            demo=True,
            # TURN on loopback, as a deployment runs it on its public address
            extra_args=[
                "--patrol-every",
                str(self.patrol_every_s),
                "--turn-run",
                "--turn-port",
                str(free_udp_tcp_port()),
            ],
        )
        self._hub = hub
        # enrolled before the hub starts, so its first read of the book admits the console
        self._console_keys = hub.enrol_console(self.workstation)
        hub.start(timeout_s)
        if self.reports_per_min > 0:
            gen = ReportGenerator(
                hub.http_url,
                DEMO_API_KEY,
                self.reports_per_min,
                self.site,
                ssl_context=hub.ssl_context(),
            )
            self._generator = gen
            gen.start()

    def stop(self) -> None:
        gen, self._generator = self._generator, None
        if gen is not None:
            gen.stop()
        relay, self._relay = self._relay, None
        if relay is not None:
            relay.stop()
        hub, self._hub = self._hub, None
        if hub is not None:
            hub.stop()
        sim, self._camsim = self._camsim, None
        if sim is not None:
            sim.stop()

    @property
    def running(self) -> bool:
        return self._camsim is not None

    @property
    def relay(self) -> RelayRunner | None:
        return self._relay

    @property
    def hub(self) -> HubProcess | None:
        return self._hub

    @property
    def console_keys(self) -> ConsoleKeys | None:
        """The key file of the console enrolled as `workstation` (None before start)."""
        return self._console_keys
