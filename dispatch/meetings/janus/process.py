"""A `janus` process of our own: a generated configuration folder (`janus -F DIR`) and
start/stop (both safe twice) that wait until its HTTP API answers.

Only the videoroom plugin and the HTTP transport are loaded. The engine's API is plain
HTTP on `api_ip` (loopback by default: only the hub talks to it there); pages reach the
same API over HTTPS on `public_ip`:`https_port` when a certificate is given. Rooms can be
created only with the `admin_key` (videoroom), so a page that knows Janus's URL can join
a room with its PIN and token but never make or destroy one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

JANUS = "janus"
LIB = Path("/usr/lib/x86_64-linux-gnu/janus")
PLUGINS_OFF = (
    "audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip",
    "streaming", "textroom", "videocall", "voicemail",
)  # fmt: skip
TRANSPORTS_OFF = ("mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets")


class JanusProcessError(RuntimeError):
    """Janus could not be started (the tail of its log in the message)."""


@dataclass(frozen=True)
class TurnForJanus:
    """A TURN server for Janus's own candidates (`nat.turn_*`)."""

    server: str
    port: int
    user: str
    password: str
    transport: str = "udp"


@dataclass(frozen=True)
class JanusSettings:
    admin_key: str  # videoroom: creating rooms needs it
    api_ip: str = "127.0.0.1"
    api_port: int = 8088
    public_ip: str | None = None  # HTTPS for pages (with cert_pem/cert_key)
    https_port: int = 8089
    cert_pem: Path | None = None
    cert_key: Path | None = None
    rtp_min: int = 20000
    rtp_max: int = 20999
    ice_enforce: tuple[str, ...] = ()  # interfaces/addresses for candidates ("" = all)
    nat_1_1: str | None = None
    turn: TurnForJanus | None = None
    debug_level: int = 3
    session_timeout_s: int = 60

    def api_url(self) -> str:
        return f"http://{self.api_ip}:{self.api_port}/janus"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _disable(names: Sequence[str]) -> str:
    return ",".join(f"libjanus_{n}.so" for n in names)


def janus_jcfg(s: JanusSettings, folder: Path) -> str:
    nat = ["\tnice_debug = false", "\tignore_mdns = true", "\tfull_trickle = false"]
    if s.ice_enforce:
        nat.append(f"\tice_enforce_list = {_q(','.join(s.ice_enforce))}")
    else:
        nat.append('\tice_ignore_list = "vmnet,docker,veth-host"')
    if s.nat_1_1:
        nat.append(f"\tnat_1_1_mapping = {_q(s.nat_1_1)}")
    if s.turn is not None:
        t = s.turn
        nat += [
            f"\tturn_server = {_q(t.server)}",
            f"\tturn_port = {t.port}",
            f"\tturn_type = {_q(t.transport)}",
            f"\tturn_user = {_q(t.user)}",
            f"\tturn_pwd = {_q(t.password)}",
        ]
    return "\n".join(
        [
            "general: {",
            f"\tconfigs_folder = {_q(str(folder))}",
            f"\tplugins_folder = {_q(str(LIB / 'plugins'))}",
            f"\ttransports_folder = {_q(str(LIB / 'transports'))}",
            f"\tevents_folder = {_q(str(LIB / 'events'))}",
            f"\tloggers_folder = {_q(str(LIB / 'loggers'))}",
            f"\tdebug_level = {s.debug_level}",
            f"\tsession_timeout = {s.session_timeout_s}",
            "\tevent_loops = 2",
            f"\tserver_name = {_q('command-hall')}",
            "}",
            "media: {",
            f'\trtp_port_range = "{s.rtp_min}-{s.rtp_max}"',
            "\tno_media_timer = 2",
            "}",
            "nat: {",
            *nat,
            "}",
            "plugins: {",
            f"\tdisable = {_q(_disable(PLUGINS_OFF))}",
            "}",
            "transports: {",
            f"\tdisable = {_q(_disable(TRANSPORTS_OFF))}",
            "}",
            "events: {",
            "\tbroadcast = false",
            "}",
            "loggers: {",
            '\tdisable = "libjanus_jsonlog.so"',
            "}",
            "",
        ]
    )


def http_jcfg(s: JanusSettings) -> str:
    https = s.public_ip is not None and s.cert_pem is not None and s.cert_key is not None
    lines = [
        "general: {",
        '\tjson = "compact"',
        '\tbase_path = "/janus"',
        "\thttp = true",
        f"\tport = {s.api_port}",
        f"\tip = {_q(s.api_ip)}",
        f"\thttps = {'true' if https else 'false'}",
    ]
    if https:
        lines += [f"\tsecure_port = {s.https_port}", f"\tsecure_ip = {_q(str(s.public_ip))}"]
    lines += ["}", "admin: {", "\tadmin_http = false", "\tadmin_https = false", "}"]
    lines += ["cors: {", "}"]
    if https:
        lines += [
            "certificates: {",
            f"\tcert_pem = {_q(str(s.cert_pem))}",
            f"\tcert_key = {_q(str(s.cert_key))}",
            "}",
        ]
    return "\n".join([*lines, ""])


def videoroom_jcfg(s: JanusSettings) -> str:
    return "\n".join(
        [
            "general: {",
            f"\tadmin_key = {_q(s.admin_key)}",
            "\tlock_rtp_forward = true",
            "\tevents = false",
            "}",
            "",
        ]
    )


def write_config(s: JanusSettings, folder: Path) -> None:
    """The configuration folder (0700, files 0600: they hold the admin key)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, text in (
        ("janus.jcfg", janus_jcfg(s, folder)),
        ("janus.transport.http.jcfg", http_jcfg(s)),
        ("janus.plugin.videoroom.jcfg", videoroom_jcfg(s)),
    ):
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)


def api_answers(url: str, timeout_s: float = 1.0) -> bool:
    """True when Janus's `GET <url>/info` answers (its HTTP transport is up)."""
    try:
        with urllib.request.urlopen(f"{url}/info", timeout=timeout_s) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class JanusProcess:
    """One `janus -F folder` subprocess. `wrapper` prefixes the command (for example
    `ip netns exec NAME` in tests)."""

    def __init__(
        self,
        settings: JanusSettings,
        folder: Path,
        *,
        wrapper: Sequence[str] = (),
        binary: str = JANUS,
    ) -> None:
        self.settings = settings
        self.folder = folder
        self.wrapper = tuple(wrapper)
        self.binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "janus.log"
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def spawn(self) -> None:
        exe = shutil.which(self.binary)
        if exe is None:
            raise JanusProcessError(f"{self.binary} not found (Debian package janus)")
        write_config(self.settings, self.folder)
        cmd = [*self.wrapper, exe, "-F", str(self.folder), "-C", str(self.folder / "janus.jcfg")]
        with open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen(
                [*cmd, "--disable-colors"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        self.starts += 1

    def wait_ready(self, timeout_s: float, probe: str | None = None) -> None:
        """Until the API answers (`probe`: another URL to ask, e.g. inside a namespace
        the caller reaches differently)."""
        url = probe or self.settings.api_url()
        deadline = time.monotonic() + timeout_s
        while not api_answers(url):
            proc = self._proc
            if proc is None or proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop_blocking()
                raise JanusProcessError(f"janus did not answer on {url}\n{tail}")
            time.sleep(0.05)
        log.info("janus up: %s (pid %s)", url, self.pid)

    def start_blocking(self, timeout_s: float = 15.0, probe: str | None = None) -> None:
        if self.running():
            return
        self.spawn()
        self.wait_ready(timeout_s, probe)

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests of restart recovery)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def stop_blocking(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    async def start(self, timeout_s: float = 15.0) -> None:
        if self.running():
            return
        self.spawn()  # from the loop's thread: the parent-death signal follows it
        await asyncio.to_thread(self.wait_ready, timeout_s)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)
