"""A real `hall-hub` inside the "hub" namespace of `tests.kit.netns`.

`NsHub(netns, db_url, …)` is a `HubProcess` whose command runs under `ip netns exec`:
HTTP on every address of the hub's host (the public one for pages, the county LAN one
for the console's own HTTP), the zmq sockets on the county LAN address only. Ports are
fixed (nothing else listens in a namespace made for this run). `page_url(path)` is the
URL a browser on the internet uses (the host name `hub.test`, mapped to the hub's
public address with `chromium_args`), `lan_url(path)` the console's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dispatch.hub.process import HubProcess
from tests.kit.netns import HUB_LAN, HUB_NAME, HUB_PUBLIC, Netns, Role

HTTP_PORT = 8080
ZMQ_REQ_PORT = 5570
ZMQ_PUB_PORT = 5571


def resolver_rule(addr: str = HUB_PUBLIC) -> str:
    """Chromium's `--host-resolver-rules` mapping the hub's name to `addr`."""
    return f"--host-resolver-rules=MAP {HUB_NAME} {addr}"


class NsHub(HubProcess):
    """`HubProcess` run with `ip netns exec` in the hub's namespace."""

    def __init__(
        self,
        netns: Netns,
        db_url: str,
        *,
        role: Role = "hub",
        site: Path | None = None,
        demo: bool = True,
        extra_args: Sequence[str] = (),
        **kw: Any,
    ) -> None:
        super().__init__(
            db_url,
            site=site,
            demo=demo,
            zmq_req=f"tcp://{HUB_LAN}:{ZMQ_REQ_PORT}",
            zmq_pub=f"tcp://{HUB_LAN}:{ZMQ_PUB_PORT}",
            # the last --http wins over HubProcess's loopback one
            extra_args=[*extra_args, "--http", f"0.0.0.0:{HTTP_PORT}"],
            **kw,
        )
        self.netns = netns
        self.role = role
        self.scheme = "http"

    def command(self) -> list[str]:
        return self.netns.exec_args(self.role, *super().command())

    def page_url(self, path: str = "") -> str:
        return f"{self.scheme}://{HUB_NAME}:{HTTP_PORT}{path}"

    def lan_url(self, path: str = "") -> str:
        return f"{self.scheme}://{HUB_LAN}:{HTTP_PORT}{path}"
