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
`ptz` (PTZ holds), `platform` (a video platform's cameras).

The sockets (requests matched to replies, time-outs, CURVE keys and the hub's refusal of
this workstation) are `dispatch.client.transport.HubTransport`'s; the client turns a refusal
into the state `REFUSED` (with what to do) and back to connecting when admitted again.
Published changes of the other features go to their facades (`_routes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from dispatch.client.calls import expect
from dispatch.client.events import EventsFacade
from dispatch.client.keys import ConsoleKeys
from dispatch.client.mediation import MediationFacade
from dispatch.client.meetings import MeetingsFacade
from dispatch.client.patrol import PatrolFacade
from dispatch.client.platform import PlatformFacade
from dispatch.client.positions import PositionsFacade
from dispatch.client.ptz import PtzFacade
from dispatch.client.relays import RelaysFacade
from dispatch.client.reports import ReportsFacade
from dispatch.client.rollcall import RollcallFacade
from dispatch.client.state import ConnectionState, ConnectionStatus, EventRemoved
from dispatch.client.tasks import TasksFacade
from dispatch.client.transport import HubTransport
from dispatch.client.wire import Reply
from dispatch.domain.ice import IceInfo
from dispatch.domain.wire import (
    AuthError,
    ErrorCode,
    ErrorReply,
    HubError,
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
from dispatch.platform.messages import PlatformTreeChanged
from dispatch.positions.messages import LeaderPositionChanged
from dispatch.ptz.messages import PtzHoldChanged
from dispatch.relays.messages import RelayStatesChanged
from dispatch.rollcall.messages import RollcallChanged
from dispatch.tasks.messages import (
    TaskChanged,
)

log = logging.getLogger(__name__)
R = TypeVar("R")

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
        self.transport = HubTransport(
            req_endpoint,
            sub_endpoint,
            keys=keys,
            on_published=self._on_published,
            on_refused=self._on_refused,
            on_admitted=self._on_admitted,
            request_timeout_s=request_timeout_s,
            monotonic=monotonic,
        )
        self.req_endpoint = req_endpoint
        self.sub_endpoint = sub_endpoint
        self.workstation = workstation
        self.keys = keys
        self._on_change = on_change
        self._on_connection = on_connection
        self._on_remove = on_remove
        self.lost_after_s = lost_after_s
        self._mono = monotonic
        self._wall = wall_clock
        self._loops: list[asyncio.Task[None]] = []
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
        self.platform = PlatformFacade(self, monotonic)
        # each feature's published changes go to its facade; events are the view's own
        self._routes: dict[type, Callable[[Any], None]] = {
            TaskChanged: self.tasks.changed,
            RollcallChanged: self.rollcall.changed,
            LeaderPositionChanged: self.positions.changed,
            RelayStatesChanged: self.relays.changed,
            MeetingChanged: self.meetings.changed,
            PtzHoldChanged: self.ptz.changed,
            PlatformTreeChanged: self.platform.changed,
        }

    @property
    def request_timeout_s(self) -> float:
        return self.transport.request_timeout_s

    # -- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self.transport.started:
            return
        await self.transport.start()
        self._last_heard = self._mono()
        self._loops = [
            asyncio.create_task(self._watchdog(), name="hubclient-watchdog"),
            asyncio.create_task(self._syncer(), name="hubclient-sync"),
        ]
        self._set_state(ConnectionState(ConnectionStatus.CONNECTING))

    async def stop(self) -> None:
        if not self.transport.started:
            return
        for t in self._loops:
            t.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        await self.transport.stop()

    def _on_refused(self, refusal: str) -> None:
        self._set_state(ConnectionState(ConnectionStatus.REFUSED, detail=refusal))

    def _on_admitted(self) -> None:
        """Every socket's handshake succeeded again after a refusal: back to connecting."""
        if self._state.status is ConnectionStatus.REFUSED:
            self._set_state(ConnectionState(ConnectionStatus.CONNECTING))
            self._last_heard = self._mono()
            self._want_sync()

    @property
    def refusal(self) -> str | None:
        """Why the hub refuses this workstation (None while it does not)."""
        return self.transport.refusal

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
        return await self.transport.request(make)

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

    def _on_published(self, msg: object) -> None:
        """A message from the SUB socket (on the transport's loop)."""
        self._last_heard = self._mono()
        self._last_heard_wall = self._wall()
        if isinstance(msg, Heartbeat):
            self._on_heartbeat(msg)
        elif isinstance(msg, EventChanged):
            self._on_changed(msg)
        else:
            route = self._routes.get(type(msg))
            if route is not None:
                route(msg)

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
            self.transport.retry_refused()
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
