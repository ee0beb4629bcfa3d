"""The hub's zmq face: a ROUTER answering typed requests and a PUB for changes.

Each request is decoded and handled by the `HandlerRegistry` the features filled (a
type nobody registered gets a typed `invalid` error reply), in its own task (a slow
write does not hold up a ping); the reply goes back through the ROUTER with the
request's `rid`. Changes are published
as `EventChanged` frames in seq order, and a `Heartbeat` carrying the last seq goes
out every `heartbeat_s` so clients notice both a dead hub and a missed change.

With a `CurveSetup` both sockets are CURVE servers behind the hub's ZAP handler
(`dispatch.hub.zap`): only enrolled, non-revoked consoles complete the handshake. ZAP is
asked only at the handshake, so a console revoked while connected is cut off twice over:
its requests are dropped (each frame's `User-Id` is its name, checked against the book
as it is now), and both sockets are bound again, which closes every connection; the
others reconnect through ZAP (their seq-gap catch-up covers the moment), the revoked one
is refused. The ROUTER reads no frame above `max_message_bytes` (libzmq drops the
sender's connection instead), and a request that cannot be decoded, however it is
malformed (deep nesting included), gets a typed `invalid` error reply.

Each request's task knows its enrolled console (`CONSOLE`, the ZAP User-Id): a login
opens the session for that workstation whatever the console declares, and the login
limits count per console (`CLIENT` is `console:NAME`, else the peer's address).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import zmq
import zmq.asyncio
from pydantic import BaseModel

from dispatch.domain.security import CLIENT, CONSOLE, console_client
from dispatch.domain.wire import ErrorCode, ErrorReply, HubError, ProtocolError, encode, request_rid
from dispatch.events.service import HubService
from dispatch.hub.enrol import EnrolmentBook
from dispatch.hub.keys import HubKeys, load_or_create_hub_keys
from dispatch.hub.messages import Heartbeat
from dispatch.hub.registry import HandlerRegistry, request_tag, rid_of
from dispatch.hub.writer import Committed
from dispatch.hub.zap import ZapHandler

log = logging.getLogger(__name__)


def bind_random(sock: zmq.asyncio.Socket, endpoint: str) -> str:
    """Bind; `tcp://host:0` picks a free port. Returns the endpoint actually bound."""
    if endpoint.startswith("tcp://") and endpoint.endswith(":0"):
        port = sock.bind_to_random_port(endpoint[: -len(":0")])
        return f"{endpoint[: -len(':0')]}:{port}"
    sock.bind(endpoint)
    last = sock.getsockopt(zmq.LAST_ENDPOINT)
    return last.decode() if isinstance(last, bytes) else endpoint


def _user_id(frame: zmq.Frame) -> str:
    """The enrolled console's name ZAP gave the connection (its User-Id), "" if none."""
    try:
        name = frame.get("User-Id")
    except (zmq.ZMQError, UnicodeDecodeError):
        return ""
    return name if isinstance(name, str) else ""


def _peer(frame: zmq.Frame) -> str:
    """The sender's address (TCP: its IP) from the frame's metadata, "?" when unknown."""
    try:
        return str(frame.get("Peer-Address"))
    except (zmq.ZMQError, UnicodeDecodeError):
        return "?"


@dataclass(frozen=True)
class CurveSetup:
    """Where the hub's key pair and enrolment book are (read at `start()`), and how often
    the book is looked at for changes."""

    keys_dir: Path
    reload_s: float = 0.5


def curve_server(sock: zmq.asyncio.Socket, keys: HubKeys) -> None:
    sock.setsockopt(zmq.ZAP_DOMAIN, b"hall")
    sock.setsockopt(zmq.CURVE_SERVER, 1)
    sock.setsockopt(zmq.CURVE_SECRETKEY, keys.secret_key.encode("ascii"))


async def rebind(sock: zmq.asyncio.Socket, endpoint: str, tries: int = 50) -> None:
    """Unbind and bind `endpoint` again: every connection through it is closed."""
    sock.unbind(endpoint)
    for _ in range(tries):
        try:
            sock.bind(endpoint)
            return
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EADDRINUSE:
                raise
            await asyncio.sleep(0.02)
    sock.bind(endpoint)


class ZmqServer:
    def __init__(
        self,
        service: HubService,
        req_endpoint: str,
        pub_endpoint: str,
        *,
        handlers: HandlerRegistry,
        heartbeat_s: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        curve: CurveSetup | None = None,
        max_message_bytes: int = 1 << 20,
    ) -> None:
        self.service = service
        self._handlers = handlers
        self._req_ep = req_endpoint
        self._pub_ep = pub_endpoint
        self.heartbeat_s = heartbeat_s
        self._clock = clock if clock is not None else service.clock
        self._ctx: zmq.asyncio.Context | None = None
        self._router: zmq.asyncio.Socket | None = None
        self._pub: zmq.asyncio.Socket | None = None
        self._curve = curve
        self._zap: ZapHandler | None = None
        self._book: EnrolmentBook | None = None
        self.public_key = ""  # the hub's CURVE public key once started with CURVE
        self._max_message_bytes = max_message_bytes
        self.rebinds = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self.req_endpoint = ""
        self.pub_endpoint = ""

    @property
    def request_types(self) -> list[str]:
        """The request types the features registered, in registration order."""
        return self._handlers.types

    async def start(self) -> None:
        if self._ctx is not None:
            return
        self._ctx = zmq.asyncio.Context()
        self._router = self._ctx.socket(zmq.ROUTER)
        self._router.setsockopt(zmq.LINGER, 0)
        self._router.setsockopt(zmq.ROUTER_MANDATORY, 0)
        self._router.setsockopt(zmq.MAXMSGSIZE, self._max_message_bytes)
        self._pub = self._ctx.socket(zmq.PUB)
        self._pub.setsockopt(zmq.LINGER, 0)
        self._pub.setsockopt(zmq.SNDHWM, 100_000)
        book = None
        if self._curve is not None:  # the ZAP handler first: CURVE without one lets anyone in
            keys = load_or_create_hub_keys(self._curve.keys_dir)
            self.public_key = keys.public_key
            self._book = book = EnrolmentBook(self._curve.keys_dir)
            book.changed()
            self._zap = ZapHandler(self._ctx, lambda: book.allowed)
            self._zap.start()
            curve_server(self._router, keys)
            curve_server(self._pub, keys)
        self.req_endpoint = bind_random(self._router, self._req_ep)
        self.pub_endpoint = bind_random(self._pub, self._pub_ep)
        self._loops = [
            asyncio.create_task(self._serve(), name="zmq-router"),
            asyncio.create_task(self._heartbeats(), name="zmq-heartbeat"),
        ]
        if book is not None:
            reload_s = self._curve.reload_s if self._curve is not None else 1.0
            self._loops.append(
                asyncio.create_task(self._watch_book(book, reload_s), name="zmq-book")
            )

    async def stop(self) -> None:
        if self._ctx is None:
            return
        for t in [*self._loops, *self._tasks]:
            t.cancel()
        await asyncio.gather(*self._loops, *self._tasks, return_exceptions=True)
        self._loops.clear()
        self._tasks.clear()
        for s in (self._router, self._pub):
            if s is not None:
                s.close(linger=0)
        if self._zap is not None:
            await self._zap.stop()
            self._zap = None
        self._ctx.destroy(linger=0)  # any socket left open (a re-bind's) must not hang stop
        self._ctx = self._router = self._pub = None
        self._book = None

    # -- publishing (called on the loop, in seq order) ------------------------------------
    def publish(self, changes: list[Committed]) -> None:
        pub = self._pub
        if pub is None:
            return
        for c in changes:
            # PUB drops rather than blocks; clients see the gap in the seqs
            with contextlib.suppress(zmq.Again):
                pub.send(c.frame, zmq.NOBLOCK)
                for f in c.extra:
                    pub.send(f, zmq.NOBLOCK)

    def publish_frame(self, frame: bytes) -> None:
        """Publish one already-encoded frame (roll-call changes, issue 6)."""
        if self._pub is not None:
            with contextlib.suppress(zmq.Again):
                self._pub.send(frame, zmq.NOBLOCK)

    async def _heartbeats(self) -> None:
        while True:
            pub = self._pub
            if pub is not None:
                health = self.service.storage
                hb = Heartbeat(
                    seq=self.service.last_seq,
                    at=self._clock(),
                    hub_instance=self.service.instance,
                    storage=health.state,
                    storage_since=health.since,
                )
                with contextlib.suppress(zmq.Again):
                    await pub.send(encode(hb), zmq.NOBLOCK)
            await asyncio.sleep(self.heartbeat_s)

    # -- requests ----------------------------------------------------------------------------
    async def _serve(self) -> None:
        router = self._router
        assert router is not None
        while True:
            frames = await router.recv_multipart(copy=False)
            if len(frames) < 2:
                continue
            console = _user_id(frames[-1]) if self._book is not None else ""
            if self._book is not None and not self._still_enrolled(self._book, console):
                continue  # revoked while connected: no answer at all
            ident, body = frames[0].bytes, frames[-1].bytes
            t = asyncio.create_task(self._handle(ident, body, _peer(frames[-1]), console))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    @staticmethod
    def _still_enrolled(book: EnrolmentBook, name: str) -> bool:
        """The request's User-Id (the console's name, set by ZAP) is still enrolled."""
        if name and name in book.allowed.values():
            return True
        log.warning("request from %r dropped: not enrolled (revoked?)", name)
        return False

    async def _watch_book(self, book: EnrolmentBook, every_s: float) -> None:
        """Reread the enrolment book when it changes; a key taken away → rebind."""
        while True:
            await asyncio.sleep(every_s)
            try:
                gone = book.changed()
            except (OSError, ValueError):
                log.exception("enrolment book unreadable: kept the last one")
                continue
            if gone:
                log.warning("%d console key(s) revoked: closing every connection", len(gone))
                await self.drop_connections()

    async def drop_connections(self) -> None:
        """Bind both sockets again: every console reconnects through ZAP."""
        for sock, ep in ((self._router, self.req_endpoint), (self._pub, self.pub_endpoint)):
            if sock is not None and ep:
                await rebind(sock, ep)
        self.rebinds += 1

    async def _handle(self, ident: bytes, body: bytes, peer: str = "?", console: str = "") -> None:
        # this request's task only: the enrolled console (the session's workstation) and
        # the login throttle's client (the console where there is one, else the address)
        CONSOLE.set(console)
        CLIENT.set(console_client(console, peer))
        try:
            req = self._handlers.decode(body)
        except (ProtocolError, ValueError, RecursionError) as exc:
            message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            reply: BaseModel | bytes = ErrorReply(
                rid=request_rid(body), code=ErrorCode.INVALID, message=message
            )
        else:
            try:
                reply = await self._handlers.handle(req)
            except HubError as exc:
                reply = ErrorReply(
                    rid=rid_of(req),
                    code=exc.code,
                    message=exc.message,
                    retry_after_s=exc.retry_after_s,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("request %s failed", request_tag(type(req)))
                reply = ErrorReply(rid=rid_of(req), code=ErrorCode.INTERNAL, message=repr(exc))
        router = self._router
        if router is not None:
            frame = reply if isinstance(reply, bytes) else encode(reply)
            try:
                await router.send_multipart([ident, frame], zmq.NOBLOCK)
            except zmq.ZMQError:
                log.warning("reply to a gone client dropped")
