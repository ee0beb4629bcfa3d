"""The hub's HTTPS at run time: which certificate it serves (`dispatch.hub.tls`), the
public URL every link carries, and a daily look at the certificate while running.

`HubCertificates(config, centre)`: `prepare()` makes or loads the certificates (mode
"auto": the hub's own CA; "files": the operator's) and builds the server `SSLContext`;
`public_url(bound_port)` is the configured `[http] public_url`, else the listen address
(the machine's name for a wildcard address) with the bound port; `start()`/`stop()` run
the daily renewal check (auto mode), which re-issues the certificate and reloads it into
the same context, so new connections get it without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import socket
import ssl
from pathlib import Path

from dispatch.hub import tls
from dispatch.hub.config import HubConfig

log = logging.getLogger("hall-hub.tls")


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def default_public_host(listen_host: str) -> str:
    """The listen address, or the machine's name when it listens on every address."""
    if listen_host in tls.WILDCARD_HOSTS:
        return socket.getfqdn().lower() or "localhost"
    return listen_host


def local_url(scheme: str, listen_host: str, port: int) -> str:
    """The URL this machine reaches a listener at (loopback for a wildcard address)."""
    host = "127.0.0.1" if listen_host in tls.WILDCARD_HOSTS else listen_host
    return f"{scheme}://{_url_host(host)}:{port}"


class HubCertificates:
    """The certificates and TLS context of one hub. No I/O before `prepare()`."""

    def __init__(self, config: HubConfig, centre: str | None = None) -> None:
        self.config = config
        self.centre = centre
        self.material: tls.TlsMaterial | None = None
        self.context: ssl.SSLContext | None = None
        self._names: tls.Names | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.config.tls.mode != "off"

    @property
    def scheme(self) -> str:
        return "https" if self.enabled else "http"

    def names(self) -> tls.Names:
        http = self.config.http
        public = http.public_url or f"https://{_url_host(default_public_host(http.host))}/"
        return tls.server_names(public, self.config.tls.names, http.host)

    def prepare(self) -> ssl.SSLContext | None:
        """Make or load the certificates; the server context (None in mode "off")."""
        cfg = self.config.tls
        if cfg.mode == "off":
            return None
        if cfg.mode == "files":
            assert cfg.cert is not None and cfg.key is not None  # checked by TlsConfig
            self.material = tls.operator_files(cfg.cert, cfg.key, cfg.ca)
        else:
            self._names = self.names()
            self.material, reason = tls.ensure_auto(self.config.tls_dir(), self._names, self.centre)
            if reason is not None:
                log.warning("server certificate issued (%s): %s", reason, self.material.cert)
        self.context = tls.server_context(self.material)
        return self.context

    def public_url(self, bound_port: int) -> str:
        configured = self.config.http.public_url
        if configured:
            return configured.rstrip("/")
        host = _url_host(default_public_host(self.config.http.host))
        return f"{self.scheme}://{host}:{bound_port}"

    def ca_page_url(self, public_url: str, plain_port: int) -> str:
        """Where phones find the CA and its install steps: the public host, plain port."""
        host = tls.url_host(public_url)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}/ca" if plain_port == 80 else f"http://{host}:{plain_port}/ca"

    def ca_pem(self) -> bytes | None:
        """The CA certificate phones install (None when the hub has none to offer)."""
        if self.material is None or self.material.ca_cert is None:
            return None
        return self.material.ca_cert.read_bytes()

    def ca_file(self) -> Path | None:
        return self.material.ca_cert if self.material is not None else None

    def renew_if_due(self, now: dt.datetime | None = None) -> str | None:
        """Auto mode: re-issue the server certificate when due (at `now`, default the
        current time) and reload it into the server context; why, or None."""
        if self.config.tls.mode != "auto" or self._names is None or self.context is None:
            return None
        self.material, reason = tls.ensure_auto(
            self.config.tls_dir(), self._names, self.centre, now
        )
        if reason is not None:
            tls.reload_chain(self.context, self.material)
            log.warning("server certificate re-issued (%s)", reason)
        return reason

    async def start(self, every_s: float = tls.CHECK_EVERY_S) -> None:
        if self._task is None and self.config.tls.mode == "auto":
            self._task = asyncio.create_task(self._daily(every_s), name="tls-renewal")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _daily(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await asyncio.to_thread(self.renew_if_due)
            except tls.TlsError:
                log.exception("server certificate renewal failed")
