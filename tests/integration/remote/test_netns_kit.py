"""The namespace kit itself: who reaches whom (the village only through NAT, and never
the hub's media port directly; the console only on the county LAN), the hub sees the
router's address for the village, and cleanup leaves nothing behind."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.kit.netns import (
    CONSOLE,
    HUB_LAN,
    HUB_PUBLIC,
    PHONE,
    ROUTER_PUBLIC,
    TURN,
    VILLAGE,
    Netns,
    Role,
    existing_namespaces,
)

pytestmark = pytest.mark.integration

TCP_PORT = 18443
UDP_PORT = 18478


def tcp_reaches(net: Netns, role: Role, addr: str) -> bool:
    s = net.socket_in(role)
    s.settimeout(1.5)
    try:
        return s.connect_ex((addr, TCP_PORT)) == 0
    finally:
        s.close()


def udp_reaches(net: Netns, role: Role, addr: str) -> bool:
    s = net.socket_in(role, socket.SOCK_DGRAM)
    s.settimeout(0.7)
    try:
        for _ in range(2):
            try:
                s.sendto(b"ping", (addr, UDP_PORT))
                data, _ = s.recvfrom(64)
            except OSError:
                continue
            if data == b"pong":
                return True
        return False
    finally:
        s.close()


class Servers:
    """TCP listeners (recording the peer address of each accepted connection) and UDP
    echoes on the given addresses, each inside its namespace."""

    def __init__(self, net: Netns, where: list[tuple[Role, str]]) -> None:
        self.peers: dict[str, list[str]] = {addr: [] for _, addr in where}
        self._socks: list[socket.socket] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        for role, addr in where:
            t = net.socket_in(role)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((addr, TCP_PORT))
            t.listen(8)
            t.settimeout(0.2)
            u = net.socket_in(role, socket.SOCK_DGRAM)
            u.bind((addr, UDP_PORT))
            u.settimeout(0.2)
            self._socks += [t, u]
            self._threads += [
                threading.Thread(target=self._accept, args=(t, addr), daemon=True),
                threading.Thread(target=self._echo, args=(u,), daemon=True),
            ]
        for th in self._threads:
            th.start()

    def _accept(self, s: socket.socket, addr: str) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = s.accept()
            except OSError:
                continue
            self.peers[addr].append(peer[0])
            conn.close()

    def _echo(self, s: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                _, peer = s.recvfrom(64)
                s.sendto(b"pong", peer)
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(5)
        for s in self._socks:
            s.close()


def test_reachability_matrix(netns: Netns) -> None:
    servers = Servers(netns, [("hub", HUB_PUBLIC), ("hub", HUB_LAN), ("public", TURN)])
    try:
        got = {
            (src, dst, proto): reach(netns, src, dst)
            for src in ("village", "phone", "county")
            for dst in (HUB_PUBLIC, HUB_LAN, TURN)
            for proto, reach in (("tcp", tcp_reaches), ("udp", udp_reaches))
        }
        got[("hub", VILLAGE, "tcp")] = tcp_reaches(netns, "hub", VILLAGE)
        got[("hub", CONSOLE, "tcp")] = tcp_reaches(netns, "hub", CONSOLE)
        got[("public", HUB_LAN, "tcp")] = tcp_reaches(netns, "public", HUB_LAN)
        want = {k: False for k in got}
        want.update(
            {
                ("village", HUB_PUBLIC, "tcp"): True,  # the pages, through NAT
                ("village", TURN, "tcp"): True,
                ("village", TURN, "udp"): True,  # TURN: the village's only way to media
                ("phone", HUB_PUBLIC, "tcp"): True,
                ("phone", HUB_PUBLIC, "udp"): True,
                ("phone", TURN, "tcp"): True,
                ("phone", TURN, "udp"): True,
                ("county", HUB_LAN, "tcp"): True,  # the console, on the county LAN only
                ("county", HUB_LAN, "udp"): True,
            }
        )
        wrong = {k: v for k, v in got.items() if v != want[k]}
        assert not wrong, f"reachability differs from the plan: {wrong}"
        # the hub sees the village as the router's public address (masquerade), and the
        # phone and the console as themselves
        assert set(servers.peers[HUB_PUBLIC]) == {ROUTER_PUBLIC, PHONE}
        assert set(servers.peers[HUB_LAN]) == {CONSOLE}
    finally:
        servers.close()


def test_cleanup_deletes_every_namespace() -> None:
    net = Netns(prefix=f"{Netns().prefix}x")
    net.start()
    made = set(net.names.values())
    assert made <= set(existing_namespaces())
    net.stop()
    net.stop()  # safe twice
    assert not made & set(existing_namespaces())
