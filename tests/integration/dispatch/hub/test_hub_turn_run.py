"""`hall-hub --turn-run` (the demo's TURN): the hub starts coturn on loopback with its
own configuration folder and hands out credentials for it; a hub killed with SIGKILL
leaves no turnserver behind (the parent-death signal), a stopped one neither."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from dispatch.hub.process import HubProcess
from streams.webrtc.coturn import free_udp_tcp_port, relay_range, stun_answers

pytestmark = pytest.mark.integration


def _gone(port: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not stun_answers("127.0.0.1", port, timeout_s=0.2):
            return True
    return False


@pytest.mark.parametrize("end", ["stop", "kill"])
def test_the_hub_runs_coturn_and_takes_it_along(tmp_path: Path, end: str) -> None:
    port = free_udp_tcp_port()
    lo, hi = relay_range()
    conf = tmp_path / "hub.toml"
    conf.write_text(f"[turn]\nmin_port = {lo}\nmax_port = {hi}\n", encoding="utf-8")
    hub = HubProcess(
        f"sqlite:///{tmp_path / 'hall.db'}",
        extra_args=["--config", str(conf), "--turn-run", "--turn-port", str(port)],
    )
    hub.start()
    try:
        assert stun_answers("127.0.0.1", port)
        folder = tmp_path / "coturn"
        conf_file = folder / "turnserver.conf"
        assert stat.S_IMODE(conf_file.stat().st_mode) == 0o600
        assert "static-auth-secret=" in conf_file.read_text(encoding="utf-8")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    finally:
        hub.kill() if end == "kill" else hub.stop()
    assert _gone(port), f"turnserver still answers on {port} after the hub's {end}"
