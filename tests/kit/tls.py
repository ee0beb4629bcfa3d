"""Talking to a hub over HTTPS in tests, with its own CA trusted (never unverified).

- `chromium_args_for(hub, host=None)`: Chromium flags that trust the hub's CA by its SPKI
  hash (`--ignore-certificate-errors-spki-list`), and with `host` (e.g. "hub.test") map
  that name to 127.0.0.1, so a page opened by name is a secure context the way a real
  deployment's is (Chromium treats 127.0.0.1 itself as secure, which hides mistakes);
- `hub_session(hub, **kw)`: an `aiohttp.ClientSession` verifying against the hub's CA;
- `hub_ssl(hub)`: the `ssl.SSLContext` for aiohttp's `ssl=`, urllib's `context=`.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp

from dispatch.hub.process import HubProcess
from dispatch.hub.tls import NEEDS_CLEANUP_CLOSED

HUB_HOST = "hub.test"  # the name tests open the hub by (mapped to 127.0.0.1)


def chromium_args_for(hub: HubProcess, *, host: str | None = None) -> list[str]:
    """Nothing to trust for a hub started `--tls off` (its pages over plain HTTP)."""
    spki = hub.info.get("ca_spki")
    args = [f"--ignore-certificate-errors-spki-list={spki}"] if spki else []
    if host is not None:
        args.append(f"--host-resolver-rules=MAP {host} 127.0.0.1")
    return args


def hub_ssl(hub: HubProcess) -> ssl.SSLContext:
    return hub.ssl_context()


def hub_session(hub: HubProcess, **kw: Any) -> aiohttp.ClientSession:
    """A client session whose every request verifies the hub's certificate by its CA."""
    connector = aiohttp.TCPConnector(
        ssl=hub.ssl_context(), enable_cleanup_closed=NEEDS_CLEANUP_CLOSED
    )
    return aiohttp.ClientSession(connector=connector, **kw)
