"""A real `hall-hub` inside the "hub" namespace of `tests.kit.netns`, or on loopback.

`NsHub(netns, db_url, …)` is a `HubProcess` whose command runs under `ip netns exec`:
HTTPS (the hub's own CA, its certificate naming `hub.test` and both addresses; plain
HTTP with `tls=False`) on every address of the hub's host (the public one for pages,
the county LAN one for the console's own HTTP), the zmq sockets on the county LAN
address only. Ports are fixed (nothing else listens in a namespace made for this run).
With `netns=None` it is an ordinary loopback hub on free ports (the benchmark's
baseline). `page_url(path)` is the URL a browser uses (the host name `hub.test`, mapped
to `page_addr` with `resolver_rule`), `lan_url(path)` the console's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dispatch.client.connection import HubClient
from dispatch.hub.process import HubProcess
from tests.kit.hub import client_keys, free_port
from tests.kit.netns import HUB_LAN, HUB_NAME, HUB_PUBLIC, Netns, Role

HTTP_PORT = 8080
ZMQ_REQ_PORT = 5570
ZMQ_PUB_PORT = 5571
LOOPBACK = "127.0.0.1"


def resolver_rule(addr: str = HUB_PUBLIC) -> str:
    """Chromium's `--host-resolver-rules` mapping the hub's name to `addr`."""
    return f"--host-resolver-rules=MAP {HUB_NAME} {addr}"


class NsHub(HubProcess):
    """`HubProcess` run with `ip netns exec` in the hub's namespace (or on loopback)."""

    def __init__(
        self,
        netns: Netns | None,
        db_url: str,
        *,
        role: Role = "hub",
        site: Path | None = None,
        demo: bool = True,
        extra_args: Sequence[str] = (),
        tls: bool = True,
        **kw: Any,
    ) -> None:
        if netns is not None:
            self.http_port_fixed = HTTP_PORT
            http, req, pub = "0.0.0.0", f"{HUB_LAN}:{ZMQ_REQ_PORT}", f"{HUB_LAN}:{ZMQ_PUB_PORT}"
            self.page_addr, self.lan_addr = HUB_PUBLIC, HUB_LAN
        else:
            self.http_port_fixed = free_port()
            http, req, pub = LOOPBACK, f"{LOOPBACK}:{free_port()}", f"{LOOPBACK}:{free_port()}"
            self.page_addr = self.lan_addr = LOOPBACK
        super().__init__(
            db_url,
            site=site,
            demo=demo,
            zmq_req=f"tcp://{req}",
            zmq_pub=f"tcp://{pub}",
            # the last --http wins over HubProcess's loopback one
            extra_args=[
                *extra_args,
                *("--http", f"{http}:{self.http_port_fixed}"),
                *self._tls_args(tls),
            ],
            **kw,
        )
        self.netns = netns
        self.role = role

    def _tls_args(self, tls: bool) -> list[str]:
        """HTTPS with the hub's own CA, its certificate naming `hub.test` and both
        addresses; or (`tls=False`) pages over plain HTTP, as with `[tls] mode = "off"`."""
        self.scheme = "https" if tls else "http"
        if not tls:
            return ["--tls", "off"]
        return [
            *("--public-url", f"https://{HUB_NAME}:{self.http_port_fixed}"),
            *("--tls-name", self.page_addr, "--tls-name", self.lan_addr),
        ]

    def command(self) -> list[str]:
        cmd = super().command()
        return self.netns.exec_args(self.role, *cmd) if self.netns is not None else cmd

    def origin(self) -> str:
        return f"{self.scheme}://{HUB_NAME}:{self.http_port_fixed}"

    def page_url(self, path: str = "") -> str:
        return self.origin() + path

    def lan_url(self, path: str = "") -> str:
        return f"{self.scheme}://{self.lan_addr}:{self.http_port_fixed}{path}"


async def logged_in_console(hub: HubProcess) -> HubClient:
    """The county console's hub client (run it on a loop in the county namespace: zmq on
    the LAN), logged in as the demo duty officer."""
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="hall-1",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
        request_timeout_s=60,
    )
    await c.start()
    await c.login("duty", "duty123")
    return c
