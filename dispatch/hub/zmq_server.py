"""The hub's zmq face: a ROUTER answering typed requests and a PUB for changes.

Each request is decoded and handled by the `HandlerRegistry` the features filled (a
type nobody registered gets a typed `invalid` error reply), in its own task (a slow
write does not hold up a ping); the reply goes back through the ROUTER with the
request's `rid`. Changes are published
as `EventChanged` frames in seq order, and a `Heartbeat` carrying the last seq goes
out every `heartbeat_s` so clients notice both a dead hub and a missed change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import zmq
import zmq.asyncio
from pydantic import BaseModel

from dispatch.domain.security import CLIENT
from dispatch.domain.wire import ErrorCode, ErrorReply, HubError, ProtocolError, encode, request_rid
from dispatch.events.service import HubService
from dispatch.hub.messages import Heartbeat
from dispatch.hub.registry import HandlerRegistry, request_tag, rid_of
from dispatch.hub.writer import Committed

log = logging.getLogger(__name__)


def bind_random(sock: zmq.asyncio.Socket, endpoint: str) -> str:
    """Bind; `tcp://host:0` picks a free port. Returns the endpoint actually bound."""
    if endpoint.startswith("tcp://") and endpoint.endswith(":0"):
        port = sock.bind_to_random_port(endpoint[: -len(":0")])
        return f"{endpoint[: -len(':0')]}:{port}"
    sock.bind(endpoint)
    last = sock.getsockopt(zmq.LAST_ENDPOINT)
    return last.decode() if isinstance(last, bytes) else endpoint


def _peer(frame: zmq.Frame) -> str:
    """The sender's address (TCP: its IP) from the frame's metadata, "?" when unknown."""
    try:
        return str(frame.get("Peer-Address"))
    except (zmq.ZMQError, UnicodeDecodeError):
        return "?"


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
        self._pub = self._ctx.socket(zmq.PUB)
        self._pub.setsockopt(zmq.LINGER, 0)
        self._pub.setsockopt(zmq.SNDHWM, 100_000)
        self.req_endpoint = bind_random(self._router, self._req_ep)
        self.pub_endpoint = bind_random(self._pub, self._pub_ep)
        self._loops = [
            asyncio.create_task(self._serve(), name="zmq-router"),
            asyncio.create_task(self._heartbeats(), name="zmq-heartbeat"),
        ]

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
        self._ctx.term()
        self._ctx = self._router = self._pub = None

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
                hb = Heartbeat(
                    seq=self.service.last_seq, at=self._clock(), hub_instance=self.service.instance
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
            ident, body = frames[0].bytes, frames[-1].bytes
            t = asyncio.create_task(self._handle(ident, body, _peer(frames[-1])))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _handle(self, ident: bytes, body: bytes, peer: str = "?") -> None:
        CLIENT.set(peer)  # this request's task only: the login throttle's client
        try:
            req = self._handlers.decode(body)
        except ProtocolError as exc:
            reply: BaseModel | bytes = ErrorReply(
                rid=request_rid(body), code=ErrorCode.INVALID, message=str(exc)
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
