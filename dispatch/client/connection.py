"""`HubClient`: what the console and tools use to talk to the hub (zmq.asyncio, DEALER + SUB).

The client keeps a view of the open events (`events.view()`), fed by a snapshot on login and
by published `EventChanged`s. It follows every change's `seq`: a gap (or a heartbeat
that is ahead of it) makes it ask for the changes since its last seq, and a new hub
instance (a restart) makes it log in again with the saved credentials and take a full
snapshot. No heartbeat for `lost_after_s` → `lost`: the view is kept as it was, and the
client catches up by itself when heartbeats come back.

An event that left the open set while the client was not listening is absent from a
full snapshot; the client does not drop it silently: it asks the hub for its final state
and delivers it to `on_change` (an `EventChanged` in state archived), or, if the hub has
no record of it, an `EventRemoved` to `on_remove`.

Each feature's requests are on its facade, built here over this connection (the
`Caller` of `dispatch.client.calls`): `events` (act, timeline and the view), `tasks`
(one-click dispatch), `mediation`, `reports`, `patrol` (camera health), `rollcall`,
`positions` (grid leaders' shared positions), `relays` (the camera relays' states),
`ptz` (PTZ holds).

Requests are matched to replies by a request id; a request without a reply within
`request_timeout_s` raises `HubError(TIMEOUT)` and the DEALER socket is renewed, so no
stale request is delivered to a hub that comes back later.

With `keys` (the workstation's key file, `dispatch.client.keys`) both sockets are CURVE
clients pinned to the hub's public key. A hub that refuses the key (not enrolled,
revoked, also while connected) answers nothing; the sockets' handshake events
(`dispatch.client.handshake`) turn that into the state `REFUSED` with a message saying
what to do, and requests fail at once with `HubError(REFUSED)` instead of timing out,
until a handshake succeeds again (the console was enrolled again). "Hub key mismatch"
only when it persists (`handshake.PersistentFailure`: a hub restarting looks the same).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import zmq
import zmq.asyncio

from dispatch.client.calls import expect
from dispatch.client.events import EventsFacade
from dispatch.client.handshake import WRONG_HUB, HandshakeWatch, PersistentFailure
from dispatch.client.keys import ConsoleKeys
from dispatch.client.mediation import MediationFacade
from dispatch.client.meetings import MeetingsFacade
from dispatch.client.patrol import PatrolFacade
from dispatch.client.positions import PositionsFacade
from dispatch.client.ptz import PtzFacade
from dispatch.client.relays import RelaysFacade
from dispatch.client.reports import ReportsFacade
from dispatch.client.rollcall import RollcallFacade
from dispatch.client.state import ConnectionState, ConnectionStatus, EventRemoved
from dispatch.client.tasks import TasksFacade
from dispatch.client.wire import Reply, decode_published, decode_reply
from dispatch.domain.ice import IceInfo
from dispatch.domain.wire import (
    AuthError,
    ErrorCode,
    ErrorReply,
    HubError,
    ProtocolError,
    encode,
    error_for,
)
from dispatch.events.messages import (
    MAX_EVENTS_PER_REQUEST,
    EventChanged,
    EventsReply,
    EventsRequest,
    SnapshotReply,
    SnapshotRequest,
)
from dispatch.hub.messages import (
    Heartbeat,
    IceReply,
    IceRequest,
    LoginReply,
    LoginRequest,
    LogoutRequest,
    PingRequest,
    PongReply,
    StorageState,
)
from dispatch.meetings.messages import MeetingChanged
from dispatch.positions.messages import LeaderPositionChanged
from dispatch.ptz.messages import PtzHoldChanged
from dispatch.relays.messages import RelayStatesChanged
from dispatch.rollcall.messages import RollcallChanged
from dispatch.tasks.messages import (
    TaskChanged,
)

log = logging.getLogger(__name__)
R = TypeVar("R")
REFUSED_RETRY_S = 1.0  # libzmq does not retry a refused handshake: we do, this often

__all__ = [
    "AuthError",
    "ConnectionState",
    "ConnectionStatus",
    "EventRemoved",
    "HubClient",
    "HubError",
]


class HubClient:
    def __init__(
        self,
        req_endpoint: str,
        sub_endpoint: str,
        *,
        keys: ConsoleKeys | None,
        workstation: str,
        on_change: Callable[[EventChanged], None],
        on_connection: Callable[[ConnectionState], None],
        on_remove: Callable[[EventRemoved], None] | None = None,
        request_timeout_s: float = 5.0,
        lost_after_s: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_task: Callable[[TaskChanged], None] | None = None,
    ) -> None:
        self.req_endpoint = req_endpoint
        self.sub_endpoint = sub_endpoint
        self.workstation = workstation
        self.keys = keys
        self._watches: dict[str, HandshakeWatch] = {}
        self._refusals: dict[str, str] = {}
        self._wrong_hub = PersistentFailure()
        self._last_retry = 0.0
        self._on_change = on_change
        self._on_connection = on_connection
        self._on_remove = on_remove
        self.request_timeout_s = request_timeout_s
        self.lost_after_s = lost_after_s
        self._mono = monotonic
        self._wall = wall_clock
        self._ctx: zmq.asyncio.Context | None = None
        self._dealer: zmq.asyncio.Socket | None = None
        self._sub: zmq.asyncio.Socket | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._rids = itertools.count(1)
        self.last_seq = 0
        self.hub_instance: str | None = None
        self._credentials: tuple[str, str] | None = None
        self._token: str | None = None
        self.login_reply: LoginReply | None = None
        self._ice: IceInfo | None = None
        self._last_heard = 0.0
        self._last_heard_wall: datetime | None = None
        self._state = ConnectionState(ConnectionStatus.CONNECTING)
        self._hub_storage: StorageState = "ok"
        self._sync_lock = asyncio.Lock()
        self._sync_wanted = asyncio.Event()
        self.resyncs = 0
        self._need_full = False
        self._buffer: list[EventChanged] = []
        self.full_snapshots = 0
        self.events = EventsFacade(self)
        self.tasks = TasksFacade(self, on_task)
        self.mediation = MediationFacade(self)
        self.reports = ReportsFacade(self)
        self.patrol = PatrolFacade(self)
        self.rollcall = RollcallFacade(self)
        self.positions = PositionsFacade(self)
        self.relays = RelaysFacade(self)
        self.meetings = MeetingsFacade(self)
        self.ptz = PtzFacade(self)

    # -- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._ctx is not None:
            return
        self._ctx = zmq.asyncio.Context()
        self._new_dealer()
        self._sub = self._ctx.socket(zmq.SUB)
        self._sub.setsockopt(zmq.LINGER, 0)
        self._sub.setsockopt(zmq.RCVHWM, 100_000)
        self._sub.setsockopt(zmq.SUBSCRIBE, b"")
        self._secure(self._sub, "pub")
        self._sub.connect(self.sub_endpoint)
        self._last_heard = self._mono()
        self._loops = [
            asyncio.create_task(self._recv_replies(), name="hubclient-replies"),
            asyncio.create_task(self._recv_published(), name="hubclient-sub"),
            asyncio.create_task(self._watchdog(), name="hubclient-watchdog"),
            asyncio.create_task(self._syncer(), name="hubclient-sync"),
        ]
        self._set_state(ConnectionState(ConnectionStatus.CONNECTING))

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
        for s in (self._dealer, self._sub):
            if s is not None:
                s.close(linger=0)
        # destroy, not term: a DEALER renewed after a timeout whose reply loop was
        # cancelled before it saw the swap is still open, and term() would wait for it
        # forever; destroy closes every socket of the context (linger 0) first
        self._ctx.destroy(linger=0)
        self._ctx = self._dealer = self._sub = None

    def _new_dealer(self) -> None:
        """A fresh DEALER; the reply loop closes the old one when it sees the swap."""
        assert self._ctx is not None
        self._dealer = self._ctx.socket(zmq.DEALER)
        self._dealer.setsockopt(zmq.LINGER, 0)
        self._secure(self._dealer, "req")
        self._dealer.connect(self.req_endpoint)

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
        """A handshake's outcome on one socket: refused → state REFUSED and every waiting
        request fails now; succeeded again on every socket → back to connecting."""
        if refusal is None:
            self._wrong_hub.succeeded(label)
            self._refusals.pop(label, None)
            if not self._refusals and self._state.status is ConnectionStatus.REFUSED:
                self._set_state(ConnectionState(ConnectionStatus.CONNECTING))
                self._last_heard = self._mono()
                self._want_sync()
            return
        if refusal == WRONG_HUB and not self._wrong_hub.failed(label, self._mono()):
            log.debug("the %s handshake failed with no detail (hub stopping?)", label)
            return
        if self._refusals.get(label) != refusal:  # once, not at every retry
            log.warning("the hub refused the %s socket: %s", label, refusal)
        self._refusals[label] = refusal
        self._set_state(ConnectionState(ConnectionStatus.REFUSED, detail=refusal))
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(HubError(ErrorCode.REFUSED, refusal))

    def _retry_refused(self) -> None:
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
                else (self._sub, self.sub_endpoint)
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

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._state

    def _set_state(self, st: ConnectionState) -> None:
        st = replace(st, hub_storage=self._hub_storage)
        old = self._state
        if (st.status, st.lost_at, st.hub_storage) == (old.status, old.lost_at, old.hub_storage):
            self._state = st
            return
        self._state = st
        try:
            self._on_connection(st)
        except Exception:
            log.exception("on_connection callback failed")

    # -- requests ------------------------------------------------------------------------------
    async def _request(self, make: Callable[[str], object]) -> Reply:
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

    @staticmethod
    def _check(rep: Reply) -> Reply:
        if isinstance(rep, ErrorReply):
            raise error_for(rep)
        return rep

    async def _login(self, operator: str, password: str) -> LoginReply:
        """Log in (no token needed) and keep the session's token and reply."""
        rep = self._check(
            await self._request(
                lambda rid: LoginRequest(
                    rid=rid, operator=operator, password=password, workstation=self.workstation
                )
            )
        )
        rep = expect(LoginReply, rep)
        self._token = rep.token
        self.login_reply = rep
        self._ice = rep.ice
        return rep

    async def login(self, operator: str, password: str) -> LoginReply:
        rep = await self._login(operator, password)
        self._credentials = (operator, password)
        if self.hub_instance is not None and rep.hub_instance != self.hub_instance:
            self.last_seq = 0  # another hub instance: start from a full snapshot
        self.hub_instance = rep.hub_instance
        await self._resync(full=True)
        return rep

    async def logout(self) -> None:
        if self._token is not None:
            token = self._token
            self._token = None
            self._credentials = None
            with contextlib.suppress(HubError):
                await self._request(lambda rid: LogoutRequest(rid=rid, token=token))

    async def ice(self, margin_s: float = 600.0) -> IceInfo:
        """The ICE servers for this console's media: the last ones while they stay valid
        for more than `margin_s`, else fresh ones (new TURN credentials) from the hub."""
        last = self._ice
        if last is not None and (
            last.expires_at is None or last.expires_at - self._wall() > timedelta(seconds=margin_s)
        ):
            return last
        got = expect(IceReply, await self._authed(lambda rid, tok: IceRequest(rid=rid, token=tok)))
        self._ice = got.ice
        return got.ice

    async def ping(self) -> PongReply:
        rep = self._check(await self._request(lambda rid: PingRequest(rid=rid)))
        return expect(PongReply, rep)

    def token(self) -> str:
        if self._token is None:
            raise AuthError("未登录 / not logged in")
        return self._token

    async def _authed(self, make: Callable[[str, str], object]) -> Reply:
        """A request with the session token; on an auth error, log in again once and retry."""
        rep = await self._request(lambda rid: make(rid, self.token()))
        if (
            isinstance(rep, ErrorReply)
            and rep.code is ErrorCode.AUTH
            and self._credentials is not None
        ):
            await self._relogin()
            rep = await self._request(lambda rid: make(rid, self.token()))
        return self._check(rep)

    async def call(self, reply: type[R], request: Callable[..., object]) -> R:
        """An authenticated request, built by `request(rid=…, token=…)` (a `partial` of
        the request class), whose answer must be a `reply`."""
        return expect(reply, await self._authed(lambda rid, token: request(rid=rid, token=token)))

    async def _relogin(self) -> None:
        if self._credentials is None:
            raise AuthError("未登录 / not logged in")
        rep = await self._login(*self._credentials)
        if rep.hub_instance != self.hub_instance:
            self.hub_instance = rep.hub_instance

    # -- the view ------------------------------------------------------------------------------
    def _apply(self, ch: EventChanged) -> None:
        ev = ch.event
        self.events.apply(ev, ch.colour)
        try:
            self._on_change(ch)
        except Exception:
            log.exception("on_change callback failed")

    async def _resync(self, *, full: bool = False) -> None:
        """Ask for a snapshot (full, or since our last seq) and merge it."""
        async with self._sync_lock:
            since = None if full or self.last_seq == 0 else self.last_seq
            rep = await self.call(SnapshotReply, partial(SnapshotRequest, since=since))
            self.resyncs += 1
            gone: list[str] = []
            if rep.full:
                self.full_snapshots += 1
                present = {e.event.id for e in rep.events}
                # left the open set while we were not listening: they stay in the view
                # until their final state is delivered (`_tell_gone`)
                gone = [eid for eid in self.events.ids() if eid not in present]
            if rep.seq >= self.last_seq or rep.full:
                for entry in rep.events:
                    self._apply(EventChanged(seq=rep.seq, event=entry.event, colour=entry.colour))
                self.last_seq = rep.seq
            if gone:
                await self._tell_gone(gone, rep.seq)
            self.hub_instance = rep.hub_instance
            self._last_heard = self._mono()
            self._set_state(ConnectionState(ConnectionStatus.CONNECTED))
        buffered, self._buffer = sorted(self._buffer, key=lambda c: c.seq), []
        for ch in buffered:
            self._on_changed(ch)

    async def _tell_gone(self, gone: list[str], seq: int) -> None:
        """Tell the listeners about events that left the view in a full snapshot: their
        final state from the hub as an `EventChanged` (archived, usually), or an
        `EventRemoved` for those the hub has no record of or could not be asked about."""
        for i in range(0, len(gone), MAX_EVENTS_PER_REQUEST):
            ids = gone[i : i + MAX_EVENTS_PER_REQUEST]
            try:
                rep = await self.call(EventsReply, partial(EventsRequest, ids=ids))
            except HubError as exc:
                log.warning("could not fetch %d closed events (%s)", len(ids), exc)
                missing = ids
            else:
                for entry in rep.events:  # _apply drops closed ones from the view
                    self._apply(EventChanged(seq=seq, event=entry.event, colour=entry.colour))
                missing = rep.missing
            for eid in missing:
                self._removed(EventRemoved(event_id=eid, seq=seq))

    def _removed(self, msg: EventRemoved) -> None:
        self.events.drop(msg.event_id)
        if self._on_remove is None:
            log.info("event %s left the view (no on_remove listener)", msg.event_id)
            return
        try:
            self._on_remove(msg)
        except Exception:
            log.exception("on_remove callback failed")

    def _want_sync(self) -> None:
        self._sync_wanted.set()

    async def _syncer(self) -> None:
        """Runs resyncs asked for by the SUB loop (gaps, new instance, hub back)."""
        while True:
            await self._sync_wanted.wait()
            self._sync_wanted.clear()
            if self._credentials is None:
                continue
            try:
                # log in again only for a new hub instance (`_authed` handles a lost
                # token), not at every LOST: a login costs a stalled hub a scrypt
                if self._token is None:
                    await self._relogin()
                await self._resync(full=self._need_full)
                self._need_full = False
            except HubError as exc:
                log.info("resync failed (%s); will retry", exc)
                await asyncio.sleep(0.2)
                self._sync_wanted.set()

    async def _recv_published(self) -> None:
        sub = self._sub
        assert sub is not None
        while True:
            frame = await sub.recv()
            try:
                msg = decode_published(frame)
            except ProtocolError as exc:
                log.warning("bad published frame: %s", exc)
                continue
            self._last_heard = self._mono()
            self._last_heard_wall = self._wall()
            if isinstance(msg, Heartbeat):
                self._on_heartbeat(msg)
            elif isinstance(msg, TaskChanged):
                self.tasks.changed(msg)
            elif isinstance(msg, RollcallChanged):
                self.rollcall.changed(msg)
            elif isinstance(msg, LeaderPositionChanged):
                self.positions.changed(msg)
            elif isinstance(msg, RelayStatesChanged):
                self.relays.changed(msg)
            elif isinstance(msg, MeetingChanged):
                self.meetings.changed(msg)
            elif isinstance(msg, PtzHoldChanged):
                self.ptz.changed(msg)
            else:
                self._on_changed(msg)

    def _on_heartbeat(self, hb: Heartbeat) -> None:
        if hb.storage != self._hub_storage:
            self._hub_storage = hb.storage
            self._set_state(self._state)
        if self._credentials is None:
            return
        if self.hub_instance is not None and hb.hub_instance != self.hub_instance:
            # the hub restarted: our session is gone; log in again and resync
            self._token = None
            self._need_full = hb.seq < self.last_seq
            self._want_sync()
        elif self._state.status is ConnectionStatus.LOST or hb.seq > self.last_seq:
            self._want_sync()

    def _on_changed(self, ch: EventChanged) -> None:
        if self._credentials is None:
            return
        if self._sync_lock.locked():  # a snapshot is on its way: apply this after it
            self._buffer.append(ch)
            return
        if ch.seq <= self.last_seq:
            return
        if ch.seq == self.last_seq + 1:
            self.last_seq = ch.seq
            self._apply(ch)
        else:
            self._want_sync()

    async def _watchdog(self) -> None:
        step = min(0.25, self.lost_after_s / 4)
        while True:
            await asyncio.sleep(step)
            self._retry_refused()
            if self._credentials is None:
                continue
            silent = self._mono() - self._last_heard
            quiet = (ConnectionStatus.LOST, ConnectionStatus.REFUSED)
            if silent > self.lost_after_s and self._state.status not in quiet:
                self._set_state(
                    ConnectionState(
                        ConnectionStatus.LOST,
                        lost_at=self._last_heard_wall or self._wall(),
                        detail=f"no heartbeat for {silent:.1f} s",
                    )
                )
