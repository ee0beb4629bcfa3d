"""coturn inside a namespace of `tests.kit.netns`, for the cross-network tests.

`NsTurn(netns, folder)` runs the hub's own coturn runner (`streams.webrtc.coturn`) in
the "public" namespace on `TURN`:3478, relays allowed only towards the public network
(the hub's internet-facing address; everything else is denied). `start()` forks
`turnserver` from an `NsLoop` thread inside the namespace (it stays there until
`stop()`: the runner ties turnserver's life to the thread that forked it) and probes it
with STUN from there; `stop()` ends both (both safe twice). `credentials(name)` mints time-limited
credentials (`dispatch.hub.turn`), `hub_toml()` is the `[turn]` table pointing a hub
at it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.hub.turn import mint
from streams.webrtc.coturn import Coturn, CoturnSettings
from tests.kit.netns import TURN, Netns, NsLoop, Role

TURN_PORT = 3478
PUBLIC_NET = "10.231.0.0/24"


class NsTurn:
    """coturn in a namespace (the "public" one by default)."""

    def __init__(self, netns: Netns, folder: Path, role: Role = "public") -> None:
        self.ns_name = netns.name(role)
        self.secret = secrets.token_urlsafe(24)
        self.url = f"turn:{TURN}:{TURN_PORT}?transport=udp"
        settings = CoturnSettings(
            secret=self.secret, listen_ip=TURN, port=TURN_PORT, allowed_peers=(PUBLIC_NET,)
        )
        self.coturn = Coturn(settings, folder)
        self._loop = NsLoop(netns, role)

    def credentials(self, name: str, ttl_s: int = 3600) -> tuple[str, str]:
        c = mint(self.secret, name, datetime.now(UTC), ttl_s)
        return c.username, c.password

    def hub_toml(self, *, relay_only: bool = False, ttl_s: int = 3600) -> str:
        return (
            "[turn]\n"
            f'urls = ["{self.url}"]\n'
            f'secret = "{self.secret}"\n'
            f"ttl_s = {ttl_s}\n"
            f"relay_only = {'true' if relay_only else 'false'}\n"
        )

    def start(self, timeout_s: float = 20) -> None:
        if self.coturn.running():
            return
        # forked from a thread that stays inside the namespace until stop(): the runner
        # ties turnserver's life to the thread that started it (PR_SET_PDEATHSIG)
        self._loop.start()
        self._loop.run(self.coturn.start(timeout_s), timeout=timeout_s + 10)

    def log(self) -> str:
        return self.coturn.log_text()

    def stop(self) -> None:
        if self._loop.loop is not None:
            self._loop.run(self.coturn.stop(), timeout=30)
        self.coturn.stop_blocking()
        self._loop.stop()


@pytest.fixture
def ns_turn(netns: Netns, tmp_path: Path) -> Iterator[NsTurn]:
    """coturn in the public namespace for one test, always stopped."""
    t = NsTurn(netns, tmp_path / "turn")
    t.start()
    try:
        yield t
    finally:
        t.stop()
