"""The hub's ZAP handler: only enrolled, non-revoked CURVE keys get through.

libzmq asks the ZAP handler of the socket's context (`inproc://zeromq.zap.01`) at every
CURVE handshake on the ROUTER and on the PUB socket. The answer is 200 with the
workstation's name as the User-Id (each request frame carries it: `frame.get("User-Id")`)
or 400: the console's socket then reports a failed authentication and gets nothing.
The handler runs on the hub's event loop; it must be bound before the CURVE sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

import zmq
import zmq.asyncio
from zmq.utils import z85

log = logging.getLogger(__name__)

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_VERSION = b"1.0"


def zap_reply(request: list[bytes], allowed: Mapping[str, str]) -> list[bytes]:
    """The ZAP reply (with the ROUTER envelope) to one ZAP request (with its envelope):
    200 and the console's name for an allowed CURVE key, else 400 (or 500 if malformed)."""
    ident, rest = request[:2], request[2:]
    if len(rest) < 6 or rest[0] != ZAP_VERSION:
        return [*ident, ZAP_VERSION, rest[1] if len(rest) > 1 else b"", b"500", b"bad", b"", b""]
    request_id, mechanism, creds = rest[1], rest[5], rest[6:]
    if mechanism != b"CURVE" or len(creds) != 1 or len(creds[0]) != 32:
        return [*ident, ZAP_VERSION, request_id, b"400", b"CURVE only", b"", b""]
    key = z85.encode(creds[0]).decode("ascii")
    name = allowed.get(key)
    if name is None:
        return [*ident, ZAP_VERSION, request_id, b"400", b"not enrolled", b"", b""]
    return [*ident, ZAP_VERSION, request_id, b"200", b"OK", name.encode(), b""]


class ZapHandler:
    """Answers ZAP requests on `ctx` from `allowed()` (public key → name), read each time."""

    def __init__(self, ctx: zmq.asyncio.Context, allowed: Callable[[], Mapping[str, str]]):
        self._ctx = ctx
        self._allowed = allowed
        self._sock: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.refused = 0

    def start(self) -> None:
        if self._sock is not None:
            return
        sock = self._ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.bind(ZAP_ENDPOINT)
        self._sock = sock
        self._task = asyncio.create_task(self._serve(sock), name="zmq-zap")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close(linger=0)

    async def _serve(self, sock: zmq.asyncio.Socket) -> None:
        while True:
            request = await sock.recv_multipart()
            reply = zap_reply(request, self._allowed())
            if reply[4] != b"200":
                self.refused += 1
                log.info("zmq handshake refused: %s", reply[5].decode())
            await sock.send_multipart(reply)
