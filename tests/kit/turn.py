"""A real coturn (`turnserver`) for tests: `turn_server` starts one on loopback with a
random listening port and relay-port block, a fresh shared secret, loopback peers
allowed (one machine; TESTING.md), and stops it after the test.

`TurnServer.url` is its `turn:127.0.0.1:PORT?transport=udp`, `mint(name)` credentials of
the shared-secret scheme (`dispatch.hub.turn`), `hub_toml()` the `[turn]` table that
points a hub at it (`relay_only` optional)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.hub.turn import TurnCredential, mint
from streams.webrtc.config import IceServer
from streams.webrtc.coturn import Coturn, CoturnSettings, free_udp_tcp_port, relay_range


@dataclass
class TurnServer:
    coturn: Coturn
    secret: str

    @property
    def host(self) -> str:
        return self.coturn.settings.listen_ip

    @property
    def port(self) -> int:
        return self.coturn.settings.port

    @property
    def url(self) -> str:
        return f"turn:{self.host}:{self.port}?transport=udp"

    def mint(self, name: str, ttl_s: int = 600, *, secret: str | None = None) -> TurnCredential:
        return mint(secret or self.secret, name, datetime.now(UTC), ttl_s)

    def ice_server(self, name: str, ttl_s: int = 600) -> IceServer:
        c = self.mint(name, ttl_s)
        return IceServer((self.url,), c.username, c.password)

    def hub_toml(self, *, relay_only: bool = False, ttl_s: int = 3600) -> str:
        return (
            "[turn]\n"
            f'urls = ["{self.url}"]\n'
            f'secret = "{self.secret}"\n'
            f"ttl_s = {ttl_s}\n"
            f"relay_only = {'true' if relay_only else 'false'}\n"
        )


def start_turn(folder: Path, listen_ip: str = "127.0.0.1") -> TurnServer:
    lo, hi = relay_range()
    secret = secrets.token_urlsafe(24)
    settings = CoturnSettings(
        secret=secret,
        listen_ip=listen_ip,
        port=free_udp_tcp_port(listen_ip),
        min_port=lo,
        max_port=hi,
    )
    server = Coturn(settings, folder)
    server.start_blocking()
    return TurnServer(server, secret)


@pytest.fixture
def turn_server(tmp_path: Path) -> Iterator[TurnServer]:
    server = start_turn(tmp_path / "coturn")
    try:
        yield server
    finally:
        server.coturn.stop_blocking()
