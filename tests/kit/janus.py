"""A real Janus (Debian `janus`) for tests, inside the "hub" namespace of `tests.kit.netns`.

Janus offers no loopback candidates (TESTING.md), so it runs where the hub runs in a
deployment: `janus_server` starts `janus -F <tmp>` under `ip netns exec <hub ns>` with its
API on every address of that namespace (plain HTTP, and HTTPS with a certificate from the
test CA when `https=True`), an RTP port block of its own, and a fresh admin key; it is
stopped after the test (also when the test failed). `JanusServer.engine()` makes the
hub's engine (`JanusMedia`) for it, driving this same process (so a killed Janus is
started again by the engine, as in the hub). Run the engine on `hub_loop` (an `NsLoop` in
the hub namespace) and peers on loops in the "phone" or "county" namespace; they reach
Janus at `public_url` (HUB_PUBLIC) or `lan_url` (HUB_LAN).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatch.meetings.janus.process import JanusProcess, JanusSettings
from dispatch.meetings.janus.rooms import EngineSettings, JanusMedia
from streams.webrtc.config import restrict_host_addresses, restricted_hosts
from tests.kit.netns import HUB_LAN, HUB_NAME, HUB_PUBLIC, Netns, NsLoop, call_in


def hub_janus_toml(path: Path, extra: str = "") -> Path:
    """A hub configuration file that runs its own Janus (`[janus] run = true`, its API on
    every address of the hub's namespace, an RTP block of its own), plus `extra` TOML."""
    base = 40000 + secrets.randbelow(200) * 100
    path.write_text(
        f'[janus]\nrun = true\napi_ip = "0.0.0.0"\nrtp_min = {base}\nrtp_max = {base + 99}\n'
        + extra,
        encoding="utf-8",
    )
    return path


def free_port_in(netns: Netns) -> int:
    def pick() -> int:
        import socket

        with socket.socket() as s:
            s.bind(("0.0.0.0", 0))
            return int(s.getsockname()[1])

    return call_in(netns.name("hub"), pick)


@dataclass(frozen=True)
class JanusCerts:
    """A throwaway CA and a server certificate for `hub.test` and the hub's addresses."""

    cert: Path
    key: Path
    spki_b64: str  # what Chromium's --ignore-certificate-errors-spki-list takes


def make_certs(folder: Path) -> JanusCerts:
    import datetime as dt
    import ipaddress

    from dispatch.hub import tls

    now = dt.datetime.now(dt.UTC)
    ca_key, ca = tls.make_ca("Command Hall test CA", now)
    ips = (ipaddress.ip_address(HUB_PUBLIC), ipaddress.ip_address(HUB_LAN))
    key, cert = tls.make_server_cert(ca_key, ca, tls.Names((HUB_NAME,), ips), now)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.crt").write_bytes(tls.cert_pem(cert) + tls.cert_pem(ca))
    (folder / "server.key").write_bytes(tls.key_pem(key))
    return JanusCerts(folder / "server.crt", folder / "server.key", tls.spki_sha256_b64(ca))


@dataclass
class JanusServer:
    netns: Netns
    process: JanusProcess
    hub_loop: NsLoop

    @property
    def port(self) -> int:
        return self.process.settings.api_port

    @property
    def public_url(self) -> str:
        return f"http://{HUB_PUBLIC}:{self.port}/janus"

    @property
    def lan_url(self) -> str:
        return f"http://{HUB_LAN}:{self.port}/janus"

    def https_url(self, host: str) -> str:
        return f"https://{host}:{self.process.settings.https_port}/janus"

    def engine(self, public_url: str | None = None) -> JanusMedia:
        s = EngineSettings(
            api_url=f"http://127.0.0.1:{self.port}/janus",
            public_url=public_url or self.public_url,
            admin_key=self.process.settings.admin_key,
        )
        return JanusMedia(s, process=self.process)

    def wait_ready(self, timeout_s: float = 20) -> None:
        url = f"http://127.0.0.1:{self.port}/janus"
        call_in(self.netns.name("hub"), lambda: self.process.wait_ready(timeout_s, url))


def start_janus(
    netns: Netns, folder: Path, *, cert: tuple[Path, Path] | None = None
) -> JanusServer:
    base = 30000 + secrets.randbelow(300) * 100
    https_port = free_port_in(netns) if cert else 8089
    settings = JanusSettings(
        admin_key=secrets.token_urlsafe(12),
        api_ip="0.0.0.0",
        api_port=free_port_in(netns),
        public_ip=HUB_PUBLIC if cert else None,
        https_port=https_port,
        cert_pem=cert[0] if cert else None,
        cert_key=cert[1] if cert else None,
        rtp_min=base,
        rtp_max=base + 99,
    )
    proc = JanusProcess(settings, folder, wrapper=netns.exec_args("hub"))
    loop = NsLoop(netns, "hub")
    loop.start()
    server = JanusServer(netns, proc, loop)
    try:
        proc.spawn()
        server.wait_ready()
    except BaseException:
        proc.stop_blocking()
        loop.stop()
        raise
    return server


@pytest.fixture
def janus_server(netns: Netns, tmp_path: Path) -> Iterator[JanusServer]:
    server = start_janus(netns, tmp_path / "janus")
    try:
        yield server
    finally:
        server.hub_loop.stop()  # first: an engine left running would start Janus again
        server.process.stop_blocking()


@pytest.fixture
def aioice_default_hosts() -> Iterator[None]:
    """Janus offers no loopback candidates and the namespaces' peers need their veth
    addresses: tests that ran earlier in the same process (mediation, roll call) restricted
    aioice's host candidates to 127.0.0.1 process-wide, which made every ICE check with
    Janus fail in a whole run while each file passed alone. The test starts with aioice's
    own addresses and leaves the previous restriction as it found it."""
    before = restricted_hosts()
    restrict_host_addresses(None)
    try:
        yield
    finally:
        restrict_host_addresses(before)
