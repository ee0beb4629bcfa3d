"""Network namespaces for tests that leave loopback: the county as it is deployed.

    public  (namespace with bridge br0; 10.231.0.3 = the TURN server's address)
      ├── hub      up0  10.231.0.2   the hub's internet-facing address (pages, media)
      │            lan0 10.231.1.1 ── county  10.231.1.2   a console on the county LAN
      ├── router   up0  10.231.0.4   NAT (iptables MASQUERADE out of up0)
      │            lan0 10.231.2.1 ── village 10.231.2.2   a village centre behind it
      └── phone    up0  10.231.0.5   a phone on the internet

The hub namespace does not forward (a new namespace never does), so the county LAN and
the internet meet only in the hub's processes. The router forwards and masquerades, and
drops UDP from the village to the hub's public address: the village's only way to the
hub's media is the TURN server. Nobody routes to 10.231.1.0/24 or 10.231.2.0/24 from
outside. All addresses live only in these namespaces; the host's own network is never
touched.

`Netns(prefix)` builds it on `start()` and deletes every namespace it made on `stop()`
(both safe twice; a failed `start()` cleans up before raising). Namespaces are named
`<prefix>-<role>`, the prefix `ch<pid>` by default, so parallel runs never collide;
`sweep_stale()` deletes what a killed run of this kit left (prefix `ch<pid>` whose pid
is gone). The `netns` fixture (session scope) gives a started one and always stops it.

Running things inside: `exec_args(role, *cmd)` (`ip netns exec …`, for subprocesses
such as the hub, coturn or Chromium), `chromium_wrapper(role, folder)` (a script that
Playwright takes as `executable_path`), `socket_in(role, …)` (a socket made inside the
namespace, usable from any thread), and `NsLoop(netns, role)`: an asyncio loop on a
thread that entered the namespace, so aiortc peers and HTTP clients made on it live
there (`NsLoop(None, …)`: the same on a thread that stays where it is).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import socket
import stat
import subprocess
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest

Role = Literal["public", "hub", "county", "router", "village", "phone"]
ROLES: tuple[Role, ...] = ("public", "hub", "county", "router", "village", "phone")

HUB_PUBLIC = "10.231.0.2"
TURN = "10.231.0.3"
ROUTER_PUBLIC = "10.231.0.4"
PHONE = "10.231.0.5"
HUB_LAN = "10.231.1.1"
CONSOLE = "10.231.1.2"
ROUTER_LAN = "10.231.2.1"
VILLAGE = "10.231.2.2"
HUB_NAME = "hub.test"  # the hub's public host name (Chromium maps it to HUB_PUBLIC)

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
_STALE = re.compile(r"^ch(\d+)-")
T = TypeVar("T")


class NetnsError(RuntimeError):
    """A command building or using the namespaces failed (its output in the message)."""


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {r.stderr.strip()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def existing_namespaces() -> list[str]:
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def sweep_stale() -> list[str]:
    """Delete namespaces named `ch<pid>-…` by this kit whose run (pid) is gone."""
    gone = []
    for name in existing_namespaces():
        m = _STALE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
            gone.append(name)
    return gone


def enter(ns_name: str) -> None:
    """Move the calling thread (only it) into the network namespace `ns_name`."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(NETNS_DIR / ns_name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetnsError(f"setns({ns_name}): {os.strerror(err)}")
    finally:
        os.close(fd)


def call_in(ns_name: str, fn: Callable[[], T]) -> T:
    """Run `fn()` on a fresh thread inside the namespace and return what it returns."""
    out: Future[T] = Future()

    def run() -> None:
        try:
            enter(ns_name)
            out.set_result(fn())
        except BaseException as e:  # handed to the caller
            out.set_exception(e)

    t = threading.Thread(target=run, name=f"netns-{ns_name}", daemon=True)
    t.start()
    t.join()
    return out.result()


class Netns:
    """The namespaces above, named `<prefix>-<role>`."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"ch{os.getpid()}"
        self.names: dict[Role, str] = {r: f"{self.prefix}-{r}" for r in ROLES}
        self._made: list[str] = []

    def name(self, role: Role) -> str:
        return self.names[role]

    # -- building ------------------------------------------------------------------------

    def start(self) -> None:
        if self._made:
            return
        try:
            self._build()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        made, self._made = self._made, []
        for name in reversed(made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)

    def _build(self) -> None:
        for role in ROLES:
            _ip("netns", "add", self.names[role])
            self._made.append(self.names[role])
            _ip("-n", self.names[role], "link", "set", "lo", "up")
        pub = self.names["public"]
        _ip("-n", pub, "link", "add", "br0", "type", "bridge")
        _ip("-n", pub, "addr", "add", f"{TURN}/24", "dev", "br0")
        _ip("-n", pub, "link", "set", "br0", "up")
        for role, addr in (("hub", HUB_PUBLIC), ("router", ROUTER_PUBLIC), ("phone", PHONE)):
            self._veth(role, "up0", addr, "public", f"p-{role}", None)
            _ip("-n", pub, "link", "set", f"p-{role}", "master", "br0")
        self._veth("hub", "lan0", HUB_LAN, "county", "eth0", CONSOLE)
        self._veth("router", "lan0", ROUTER_LAN, "village", "eth0", VILLAGE)
        _ip("-n", self.names["village"], "route", "add", "default", "via", ROUTER_LAN)
        self._router()

    def _veth(
        self, a: Role, a_dev: str, a_addr: str, b: Role, b_dev: str, b_addr: str | None
    ) -> None:
        na, nb = self.names[a], self.names[b]
        _ip("link", "add", a_dev, "netns", na, "type", "veth", "peer", "name", b_dev, "netns", nb)
        _ip("-n", na, "addr", "add", f"{a_addr}/24", "dev", a_dev)
        _ip("-n", na, "link", "set", a_dev, "up")
        if b_addr is not None:
            _ip("-n", nb, "addr", "add", f"{b_addr}/24", "dev", b_dev)
        _ip("-n", nb, "link", "set", b_dev, "up")

    def _router(self) -> None:
        self.check("router", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        rules = [
            ["-t", "nat", "-A", "POSTROUTING", "-o", "up0", "-j", "MASQUERADE"],
            ["-A", "FORWARD", "-i", "lan0", "-d", HUB_PUBLIC, "-p", "udp", "-j", "DROP"],
        ]
        for rule in rules:
            self.check("router", "iptables", *rule)

    # -- using ---------------------------------------------------------------------------

    def exec_args(self, role: Role, *cmd: str) -> list[str]:
        """`cmd` run inside the namespace (for `subprocess`)."""
        return ["ip", "netns", "exec", self.names[role], *cmd]

    def check(self, role: Role, *cmd: str, timeout: float = 30) -> str:
        """Run `cmd` inside the namespace; its stdout, or `NetnsError` if it failed."""
        r = subprocess.run(
            self.exec_args(role, *cmd), capture_output=True, text=True, timeout=timeout
        )
        if r.returncode != 0:
            raise NetnsError(f"{role}: {' '.join(cmd)}: {r.returncode} {r.stderr.strip()}")
        return r.stdout

    def socket_in(self, role: Role, kind: socket.SocketKind = socket.SOCK_STREAM) -> socket.socket:
        """An IPv4 socket made inside the namespace (it stays there, whoever uses it)."""
        return call_in(self.names[role], lambda: socket.socket(socket.AF_INET, kind))

    def chromium_wrapper(self, role: Role, folder: Path) -> Path:
        """A script running /usr/bin/chromium inside the namespace, for Playwright's
        `executable_path`."""
        path = folder / f"chromium-{role}"
        path.write_text(
            f'#!/bin/sh\nexec ip netns exec {self.names[role]} /usr/bin/chromium "$@"\n',
            encoding="utf-8",
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path


class NsLoop:
    """An asyncio loop on its own thread inside a namespace: sockets that coroutines
    submitted here open (aiohttp, aiortc/aioice) are made in that namespace.
    `start()`/`stop()` are safe twice; `run(coro)` waits for the result."""

    def __init__(self, netns: Netns | None, role: Role) -> None:
        self.ns_name = netns.name(role) if netns is not None else None  # None: stay here
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        ready: Future[asyncio.AbstractEventLoop] = Future()

        def main() -> None:
            try:
                if self.ns_name is not None:
                    enter(self.ns_name)
                loop = asyncio.new_event_loop()
            except BaseException as e:
                ready.set_exception(e)
                return
            asyncio.set_event_loop(loop)
            ready.set_result(loop)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=main, name=f"nsloop-{self.ns_name}", daemon=True)
        self._thread.start()
        self.loop = ready.result(30)

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        if self.loop is None:
            coro.close()
            raise RuntimeError("NsLoop is not started")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        loop, thread, self.loop, self._thread = self.loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


@pytest.fixture(scope="session")
def netns() -> Iterator[Netns]:
    """The county's networks in namespaces (see the module); deleted after the session,
    also when a test failed."""
    sweep_stale()
    net = Netns()
    net.start()
    try:
        yield net
    finally:
        net.stop()
