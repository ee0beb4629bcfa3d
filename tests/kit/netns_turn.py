"""A coturn server inside a namespace of `tests.kit.netns`, for the cross-network tests.

`NsTurn(netns, folder)` writes a coturn configuration (shared-secret REST credentials,
UDP on `TURN`:3478, relays from `TURN` too, no TLS, no CLI) and runs Debian's
`turnserver` with `ip netns exec` in the "public" namespace; `start()` returns when the
server answers a STUN binding request, `stop()` ends it (both safe twice).
`credentials(name, ttl_s)` makes a time-limited user and password the way the hub's
TURN support does (user `"<expiry>:<name>"`, password base64 HMAC-SHA1 of the user).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import socket
import struct
import subprocess
import time
from pathlib import Path

from tests.kit.netns import TURN, Netns, Role

TURN_PORT = 3478
STUN_MAGIC = 0x2112A442


def turn_credentials(secret: str, name: str, ttl_s: int = 3600) -> tuple[str, str]:
    """coturn's `use-auth-secret` scheme: (user, password) valid for `ttl_s` seconds
    (user `"<expiry>:<name>"`, or just `"<expiry>"` without a name)."""
    expiry = int(time.time()) + ttl_s
    user = f"{expiry}:{name}" if name else str(expiry)
    mac = hmac.new(secret.encode(), user.encode(), hashlib.sha1).digest()
    return user, base64.b64encode(mac).decode()


def stun_binding_ok(sock: socket.socket, addr: tuple[str, int], timeout: float = 0.5) -> bool:
    """Send a STUN binding request from `sock`; True when a success response came back."""
    tid = secrets.token_bytes(12)
    sock.settimeout(timeout)
    sock.sendto(struct.pack("!HHI", 0x0001, 0, STUN_MAGIC) + tid, addr)
    try:
        data, _ = sock.recvfrom(2048)
    except OSError:
        return False
    return len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == tid


def coturn_config(secret: str, folder: Path, ip: str = TURN) -> str:
    return "\n".join(
        [
            f"listening-ip={ip}",
            f"relay-ip={ip}",
            f"listening-port={TURN_PORT}",
            "min-port=49152",
            "max-port=49407",
            "use-auth-secret",
            f"static-auth-secret={secret}",
            "realm=hall.test",
            "fingerprint",
            "no-tls",
            "no-dtls",
            "no-cli",
            "no-multicast-peers",
            "no-software-attribute",
            "simple-log",
            f"log-file={folder / 'turnserver.log'}",
            f"pidfile={folder / 'turnserver.pid'}",
            "",
        ]
    )


class NsTurn:
    """coturn in a namespace (the "public" one by default)."""

    def __init__(self, netns: Netns, folder: Path, role: Role = "public") -> None:
        self.netns = netns
        self.role = role
        self.folder = folder
        self.secret = secrets.token_hex(16)
        self.url = f"turn:{TURN}:{TURN_PORT}?transport=udp"
        self._proc: subprocess.Popen[bytes] | None = None

    def credentials(self, name: str, ttl_s: int = 3600) -> tuple[str, str]:
        return turn_credentials(self.secret, name, ttl_s)

    def start(self, timeout_s: float = 20) -> None:
        if self._proc is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "turnserver.conf"
        conf.write_text(coturn_config(self.secret, self.folder), encoding="utf-8")
        os.chmod(conf, 0o600)
        self._proc = subprocess.Popen(
            self.netns.exec_args(self.role, "turnserver", "-c", str(conf), "--no-stdout-log"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = self.netns.socket_in(self.role, socket.SOCK_DGRAM)
        try:
            deadline = time.monotonic() + timeout_s
            while not stun_binding_ok(probe, (TURN, TURN_PORT)):
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    log = self.log()
                    self.stop()
                    raise RuntimeError(f"turnserver did not answer STUN: {log[-1500:]}")
        finally:
            probe.close()

    def log(self) -> str:
        path = self.folder / "turnserver.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def stop(self) -> None:
        p, self._proc = self._proc, None
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
