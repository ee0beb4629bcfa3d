"""`HubTransport`: the console's two sockets to the hub and nothing above them.

A DEALER for requests, matched to their replies by request id (a request without a reply
within `request_timeout_s` raises `HubError(TIMEOUT)` and the DEALER is renewed, so that no
stale request reaches a hub that comes back later), and a SUB whose decoded messages go to
`on_published`. The session, the views and what a message means are the business of
`dispatch.client.connection.HubClient`, which owns one transport.

With `keys` (the workstation's key file, `dispatch.client.keys`) both sockets are CURVE
clients pinned to the hub's public key. A hub that refuses the key (not enrolled, revoked,
also while connected) answers nothing; the sockets' handshake events
(`dispatch.client.handshake`) turn that into `on_refused(why)`, and requests fail at once
with `HubError(REFUSED)` instead of timing out, until a handshake succeeds again on every
socket (`on_admitted()`). "Hub key mismatch" only when it persists
(`handshake.PersistentFailure`: a hub restarting looks the same). libzmq does not retry a
refused handshake: `retry_refused()` (called by the client's watchdog) connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable

import zmq
import zmq.asyncio

from dispatch.client.handshake import WRONG_HUB, HandshakeWatch, PersistentFailure
from dispatch.client.keys import ConsoleKeys
from dispatch.client.wire import Reply, decode_published, decode_reply
from dispatch.domain.wire import ErrorCode, HubError, ProtocolError, encode

log = logging.getLogger(__name__)
REFUSED_RETRY_S = 1.0  # libzmq does not retry a refused handshake: we do, this often


class HubTransport:
    def __init__(
        self,
        req_endpoint: str,
        sub_endpoint: str,
        *,
        keys: ConsoleKeys | None,
        on_published: Callable[[object], None],
        on_refused: Callable[[str], None],
        on_admitted: Callable[[], None],
        request_timeout_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.req_endpoint = req_endpoint
        self.sub_endpoint = sub_endpoint
        self.keys = keys
        self.request_timeout_s = request_timeout_s
        self._on_published = on_published
        self._on_refused = on_refused
        self._on_admitted = on_admitted
        self._mono = monotonic
        self._watches: dict[str, HandshakeWatch] = {}
        self._refusals: dict[str, str] = {}
        self._wrong_hub = PersistentFailure()
        self._last_retry = 0.0
        self._ctx: zmq.asyncio.Context | None = None
        self._dealer: zmq.asyncio.Socket | None = None
        self.sub: zmq.asyncio.Socket | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._rids = itertools.count(1)

    @property
    def started(self) -> bool:
        return self._ctx is not None

    # -- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._ctx is not None:
            return
        self._ctx = zmq.asyncio.Context()
        self._new_dealer()
        self.sub = self._ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, 100_000)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self._secure(self.sub, "pub")
        self.sub.connect(self.sub_endpoint)
        self._loops = [
            asyncio.create_task(self._recv_replies(), name="hubclient-replies"),
            asyncio.create_task(self._recv_published(), name="hubclient-sub"),
        ]

    async def stop(self) -> None:
        if self._ctx is None:
            return
        for t in self._loops:
            t.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        for fut in self._pending.values():
            if not fut.done():
                fut.cancel()
        self._pending.clear()
        for w in self._watches.values():
            w.stop()
        self._watches.clear()
        self._refusals.clear()
        self._wrong_hub.clear()
        for s in (self._dealer, self.sub):
            if s is not None:
                s.close(linger=0)
        # destroy, not term: a DEALER renewed after a timeout whose reply loop was
        # cancelled before it saw the swap is still open, and term() would wait for it
        # forever; destroy closes every socket of the context (linger 0) first
        self._ctx.destroy(linger=0)
        self._ctx = self._dealer = self.sub = None

    def _new_dealer(self) -> None:
        """A fresh DEALER; the reply loop closes the old one when it sees the swap."""
        assert self._ctx is not None
        self._dealer = self._ctx.socket(zmq.DEALER)
        self._dealer.setsockopt(zmq.LINGER, 0)
        self._secure(self._dealer, "req")
        self._dealer.connect(self.req_endpoint)

    # -- CURVE handshakes ----------------------------------------------------------------------
    def _secure(self, sock: zmq.asyncio.Socket, label: str) -> None:
        """CURVE client options from the key file (if any) and a handshake watch."""
        keys = self.keys
        if keys is not None:
            sock.setsockopt(zmq.CURVE_SERVERKEY, keys.hub_public_key.encode("ascii"))
            sock.setsockopt(zmq.CURVE_PUBLICKEY, keys.public_key.encode("ascii"))
            sock.setsockopt(zmq.CURVE_SECRETKEY, keys.secret_key.encode("ascii"))
        old = self._watches.pop(label, None)
        if old is not None:
            old.stop()
        watch = HandshakeWatch(sock, label, self._on_handshake, curve=keys is not None)
        self._watches[label] = watch
        watch.start()

    def _on_handshake(self, label: str, refusal: str | None) -> None:
        """A handshake's outcome on one socket: refused → every waiting request fails now
        and `on_refused`; succeeded again on every socket → `on_admitted`."""
        if refusal is None:
            self._wrong_hub.succeeded(label)
            self._refusals.pop(label, None)
            if not self._refusals:
                self._on_admitted()
            return
        if refusal == WRONG_HUB and not self._wrong_hub.failed(label, self._mono()):
            log.debug("the %s handshake failed with no detail (hub stopping?)", label)
            return
        if self._refusals.get(label) != refusal:  # once, not at every retry
            log.warning("the hub refused the %s socket: %s", label, refusal)
        self._refusals[label] = refusal
        self._on_refused(refusal)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(HubError(ErrorCode.REFUSED, refusal))

    def retry_refused(self) -> None:
        """Connect the refused sockets again now and then (libzmq gives up after a refused
        handshake), so that an enrolment is noticed without restarting the console."""
        now = self._mono()
        if not self._refusals or now - self._last_retry < REFUSED_RETRY_S:
            return
        self._last_retry = now
        for label in list(self._refusals):
            sock, ep = (
                (self._dealer, self.req_endpoint)
                if label == "req"
                else (self.sub, self.sub_endpoint)
            )
            if sock is None:
                continue
            with contextlib.suppress(zmq.ZMQError):
                sock.disconnect(ep)
            sock.connect(ep)

    @property
    def refusal(self) -> str | None:
        """Why the hub refuses this workstation (None while it does not)."""
        return next(iter(self._refusals.values()), None)

    # -- requests and replies --------------------------------------------------------------
    async def request(self, make: Callable[[str], object]) -> Reply:
        """Send `make(rid)` and wait for its reply (an `ErrorReply` is returned, not raised)."""
        if self._ctx is None or self._dealer is None:
            raise HubError(ErrorCode.INTERNAL, "client not started")
        refusal = self.refusal
        if refusal is not None:
            raise HubError(ErrorCode.REFUSED, refusal)
        rid = f"r{next(self._rids)}"
        msg = make(rid)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Reply] = loop.create_future()
        self._pending[rid] = fut
        dealer = self._dealer
        try:
            await dealer.send(encode(msg), zmq.NOBLOCK)  # type: ignore[arg-type]
            return await asyncio.wait_for(fut, self.request_timeout_s)
        except (TimeoutError, zmq.Again):
            # renew the socket (a request queued for a dead hub must not arrive later),
            # once per socket: one renewed twice unseen by the reply loop leaked
            if self._dealer is dealer:
                self._new_dealer()
            raise HubError(ErrorCode.TIMEOUT, "集控中心无响应 / the hub did not answer") from None
        finally:
            self._pending.pop(rid, None)

    async def _recv_replies(self) -> None:
        while True:
            dealer = self._dealer
            if dealer is None:
                return
            ready = await dealer.poll(timeout=100)
            if self._dealer is not dealer:  # renewed while we polled: drop the old one
                dealer.close(linger=0)
                continue
            if not ready:
                continue
            frame = await dealer.recv(zmq.NOBLOCK)
            try:
                rep = decode_reply(frame)
            except ProtocolError as exc:
                log.warning("bad reply from hub: %s", exc)
                continue
            fut = self._pending.get(rep.rid)
            if fut is not None and not fut.done():
                fut.set_result(rep)

    async def _recv_published(self) -> None:
        sub = self.sub
        assert sub is not None
        while True:
            frame = await sub.recv()
            try:
                msg = decode_published(frame)
            except ProtocolError as exc:
                log.warning("bad published frame: %s", exc)
                continue
            self._on_published(msg)
