"""`HandshakeSite`: aiohttp's `TCPSite` with a bound on the TLS handshake.

asyncio closes a connection whose TLS handshake is not finished after 60 s by default,
and aiohttp's `TCPSite` has no option for it: a client that opens connections and never
finishes its ClientHello would hold each for a minute, before the header timeout
(`[http] header_timeout_s`, aiohttp's `keepalive_timeout`, which only starts once the
handshake is done) can act. This site passes `ssl_handshake_timeout` to
`loop.create_server`, so an unfinished handshake is closed after the same seconds.
"""

from __future__ import annotations

import asyncio
import ssl

from aiohttp import web


class HandshakeSite(web.TCPSite):
    """A `TCPSite` whose TLS handshakes must finish within `handshake_timeout_s`."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        handshake_timeout_s: float,
        backlog: int = 128,
    ) -> None:
        super().__init__(runner, host, port, ssl_context=ssl_context, backlog=backlog)
        self.handshake_timeout_s = handshake_timeout_s

    async def start(self) -> None:
        if self._ssl_context is None:
            await super().start()
            return
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            server,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
            ssl_handshake_timeout=self.handshake_timeout_s,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
