"""Running coturn (Debian's `turnserver`) for the hub, the demo and the tests.

`turnserver_conf(settings)` writes the configuration: the listen, relay and (behind NAT)
external address; time-limited credentials (`use-auth-secret` + `static-auth-secret`,
minted by `dispatch.hub.turn`); no TLS unless a certificate is given; relays may reach
only `allowed_peers` (everything else, IPv4 and IPv6, is denied), with
`allow-loopback-peers` when a loopback address is allowed (one machine: coturn then
also needs a non-empty `cli-password`, the CLI itself stays off); the log goes to
stdout. `Coturn(settings, folder)` writes that file into `folder` (0600: it holds the secret) and
runs `turnserver -c FILE` until `stop()` (and no longer than the thread that started it:
a hub killed hard takes it along); `start()` returns once the server answers a STUN
Binding request on its UDP port. Both are safe to call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from aioice import stun

log = logging.getLogger(__name__)

TURNSERVER = "turnserver"


class CoturnError(RuntimeError):
    pass


@dataclass(frozen=True)
class CoturnSettings:
    secret: str
    listen_ip: str = "127.0.0.1"
    port: int = 3478
    relay_ip: str | None = None
    external_ip: str | None = None
    realm: str = "hall"
    min_port: int = 49160
    max_port: int = 49400
    allowed_peers: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_port: int = 5349

    def relay(self) -> str:
        return self.relay_ip or self.listen_ip

    def peers(self) -> tuple[str, ...]:
        """The networks relays may reach (default: the listen and relay addresses)."""
        return self.allowed_peers or tuple(dict.fromkeys((self.listen_ip, self.relay())))


def _range(net: str) -> str:
    n = ipaddress.ip_network(net, strict=False)
    return f"{n[0]}-{n[-1]}"


def _is_loopback(net: str) -> bool:
    return ipaddress.ip_network(net, strict=False).overlaps(
        ipaddress.ip_network("127.0.0.0/8")
    ) or net.strip() in ("::1", "::1/128")


def turnserver_conf(s: CoturnSettings, folder: Path | None) -> str:
    """The turnserver.conf text for `s` (pid file and user db under `folder`; None: coturn's
    defaults, for the system service)."""
    lines = [
        f"listening-ip={s.listen_ip}",
        f"listening-port={s.port}",
        f"relay-ip={s.relay()}",
        f"min-port={s.min_port}",
        f"max-port={s.max_port}",
        f"realm={s.realm}",
        "use-auth-secret",
        f"static-auth-secret={s.secret}",
        "fingerprint",
        "no-multicast-peers",
        "no-software-attribute",
        "no-cli",
        "no-stdout-log",
        "log-file=stdout",
        "simple-log",
    ]
    if folder is not None:
        lines += [f"pidfile={folder / 'turnserver.pid'}", f"userdb={folder / 'turndb'}"]
    if s.external_ip:
        lines.append(f"external-ip={s.external_ip}/{s.relay()}")
    if s.tls_cert is not None and s.tls_key is not None:
        lines += [f"cert={s.tls_cert}", f"pkey={s.tls_key}", f"tls-listening-port={s.tls_port}"]
        lines.append("no-dtls")
    else:
        lines += ["no-tls", "no-dtls"]
    lines += [f"denied-peer-ip={_range('0.0.0.0/0')}", f"denied-peer-ip={_range('::/0')}"]
    lines += [f"allowed-peer-ip={_range(n)}" for n in s.peers()]
    if any(_is_loopback(n) for n in s.peers()):
        # coturn refuses loopback peers without this, and this without a CLI password
        lines += ["allow-loopback-peers", f"cli-password={secrets.token_hex(16)}"]
    return "\n".join(lines) + "\n"


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the thread that started it ends (Linux
    PR_SET_PDEATHSIG), so a hub killed with SIGKILL leaves no turnserver behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stun_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when a STUN Binding request to host:port (UDP) is answered."""
    req = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.sendto(bytes(req), (host, port))
            data, _ = sock.recvfrom(2048)
        except OSError:
            return False
    try:
        rep = stun.parse_message(data)
    except ValueError:
        return False
    return rep.transaction_id == req.transaction_id


class Coturn:
    """One `turnserver` subprocess with its own configuration folder."""

    def __init__(self, settings: CoturnSettings, folder: Path, *, binary: str = TURNSERVER) -> None:
        self.settings = settings
        self.folder = folder
        self.binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path = folder / "turnserver.log"

    @property
    def conf_path(self) -> Path:
        return self.folder / "turnserver.conf"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        try:
            return self._log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def start_blocking(self, timeout_s: float = 10.0) -> None:
        if self.running():
            return
        self._spawn()
        self._wait_ready(timeout_s)

    def _spawn(self) -> None:
        exe = shutil.which(self.binary)
        if exe is None:
            raise CoturnError(f"{self.binary} not found (Debian package coturn)")
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # it holds the secret
            f.write(turnserver_conf(self.settings, self.folder))
        with open(self._log, "wb") as out:
            self._proc = subprocess.Popen(
                [exe, "-c", str(self.conf_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )

    def _wait_ready(self, timeout_s: float) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + timeout_s
        s = self.settings
        while not stun_answers(s.listen_ip, s.port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.log_text().splitlines()[-15:])
                self.stop_blocking()
                raise CoturnError(f"turnserver did not come up on {s.listen_ip}:{s.port}\n{tail}")
            time.sleep(0.05)
        log.info("coturn on %s:%d (relay %s)", s.listen_ip, s.port, s.relay())

    def stop_blocking(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    async def start(self, timeout_s: float = 10.0) -> None:
        """Started from the loop's thread (the parent-death signal follows the thread that
        forks), then waited for in a worker thread."""
        if self.running():
            return
        self._spawn()
        await asyncio.to_thread(self._wait_ready, timeout_s)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)


def free_udp_tcp_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `host` now (the usual small race)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = int(u.getsockname()[1])
            with contextlib.suppress(OSError), socket.socket() as t:
                t.bind((host, port))
                return port
    raise CoturnError("no free port")


def relay_range(count: int = 200) -> tuple[int, int]:
    """A random block of `count` relay ports in 50000-60000 (tests run several coturns).
    Not too few: Chromium allocates a relay from every local interface for every
    connection, and coturn answers 508 (insufficient capacity) once the block is used."""
    start = 50000 + secrets.randbelow(10000 - count)
    return start, start + count - 1
