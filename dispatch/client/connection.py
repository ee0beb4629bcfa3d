"""`HubClient`: what the console and tools use to talk to the hub (zmq.asyncio, DEALER + SUB).

The client keeps a view of the open events (`events()`), fed by a snapshot on login and
by published `EventChanged`s. It follows every change's `seq`: a gap (or a heartbeat
that is ahead of it) makes it ask for the changes since its last seq, and a new hub
instance (a restart) makes it log in again with the saved credentials and take a full
snapshot. No heartbeat for `lost_after_s` → `lost`: the view is kept as it was, and the
client catches up by itself when heartbeats come back.

An event that left the open set while the client was not listening is absent from a
full snapshot; the client does not drop it silently: it asks the hub for its final state
and delivers it to `on_change` (an `EventChanged` in state archived), or, if the hub has
no record of it, an `EventRemoved` to `on_remove`.

Requests are matched to replies by a request id; a request without a reply within
`request_timeout_s` raises `HubError(TIMEOUT)` and the DEALER socket is renewed, so no
stale request is delivered to a hub that comes back later.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TypeVar

import zmq
import zmq.asyncio

from dispatch.client.state import ConnectionState, ConnectionStatus, EventRemoved
from dispatch.client.wire import Reply, decode_published, decode_reply
from dispatch.domain.model import Action, AuditEntry, Colour, Event, is_open
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
    ActReply,
    ActRequest,
    EventChanged,
    EventsReply,
    EventsRequest,
    SnapshotReply,
    SnapshotRequest,
    TimelineReply,
    TimelineRequest,
)
from dispatch.hub.messages import (
    Heartbeat,
    LoginReply,
    LoginRequest,
    LogoutRequest,
    PingRequest,
    PongReply,
)
from dispatch.mediation.messages import (
    MediationCloseRequest,
    MediationInvite,
    MediationOpenRequest,
    MediationReply,
)
from dispatch.patrol.messages import (
    CameraHealthReply,
    CameraHealthRequest,
    CameraHistoryReply,
    CameraHistoryRequest,
)
from dispatch.reports.messages import (
    MONTH_PATTERN,
    HotspotsReply,
    HotspotsRequest,
    ReportReply,
    ReportRequest,
    pdf_path,
)
from dispatch.rollcall.messages import RollcallChanged, RollcallOp, RollcallReply, RollcallRequest
from dispatch.tasks.core import DispatchTask
from dispatch.tasks.messages import (
    AttachEvidenceRequest,
    AttachmentInfo,
    AttachmentReply,
    DispatchPreviewReply,
    DispatchPreviewRequest,
    DispatchRequest,
    EvidenceKind,
    OfficerTaskAction,
    PhoneLinkReply,
    PhoneLinkRequest,
    TaskActRequest,
    TaskChanged,
    TaskReply,
    TasksReply,
    TasksRequest,
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


def _expect(kind: type[R], rep: object) -> R:
    """`rep` as the reply its request asks for (another kind breaks the protocol)."""
    if not isinstance(rep, kind):
        raise HubError(
            ErrorCode.INTERNAL,
            f"集控中心回复类型错误 / the hub answered {type(rep).__name__}, "
            f"expected {kind.__name__}",
        )
    return rep


class HubClient:
    def __init__(
        self,
        req_endpoint: str,
        sub_endpoint: str,
        *,
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
        self._on_change = on_change
        self._on_connection = on_connection
        self._on_remove = on_remove
        self._on_task = on_task
        self._task_view: dict[str, DispatchTask] = {}
        self.request_timeout_s = request_timeout_s
        self.lost_after_s = lost_after_s
        self._mono = monotonic
        self._wall = wall_clock
        self._ctx: zmq.asyncio.Context | None = None
        self._dealer: zmq.asyncio.Socket | None = None
        self._sub: zmq.asyncio.Socket | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._rids = itertools.count(1)
        self._view: dict[str, Event] = {}
        self._colours: dict[str, Colour] = {}
        self.last_seq = 0
        self.hub_instance: str | None = None
        self._credentials: tuple[str, str] | None = None
        self._token: str | None = None
        self.login_reply: LoginReply | None = None
        self._last_heard = 0.0
        self._last_heard_wall: datetime | None = None
        self._state = ConnectionState(ConnectionStatus.CONNECTING)
        self._sync_lock = asyncio.Lock()
        self._sync_wanted = asyncio.Event()
        self.resyncs = 0
        self._need_full = False
        self._buffer: list[EventChanged] = []
        self.full_snapshots = 0
        self.on_rollcall: Callable[[RollcallChanged], None] | None = None  # issue 6

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
        self._sub.connect(self.sub_endpoint)
        self._last_heard = self._mono()
        self._tasks = [
            asyncio.create_task(self._recv_replies(), name="hubclient-replies"),
            asyncio.create_task(self._recv_published(), name="hubclient-sub"),
            asyncio.create_task(self._watchdog(), name="hubclient-watchdog"),
            asyncio.create_task(self._syncer(), name="hubclient-sync"),
        ]
        self._set_state(ConnectionState(ConnectionStatus.CONNECTING))

    async def stop(self) -> None:
        if self._ctx is None:
            return
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for fut in self._pending.values():
            if not fut.done():
                fut.cancel()
        self._pending.clear()
        for s in (self._dealer, self._sub):
            if s is not None:
                s.close(linger=0)
        self._ctx.term()
        self._ctx = self._dealer = self._sub = None

    def _new_dealer(self) -> None:
        """A fresh DEALER; the reply loop closes the old one when it sees the swap."""
        assert self._ctx is not None
        self._dealer = self._ctx.socket(zmq.DEALER)
        self._dealer.setsockopt(zmq.LINGER, 0)
        self._dealer.connect(self.req_endpoint)

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._state

    def _set_state(self, st: ConnectionState) -> None:
        if st.status is self._state.status and st.lost_at == self._state.lost_at:
            self._state = st
            return
        self._state = st
        try:
            self._on_connection(st)
        except Exception:
            log.exception("on_connection callback failed")

    def events(self) -> dict[str, Event]:
        return dict(self._view)

    def colours(self) -> dict[str, Colour]:
        return dict(self._colours)

    # -- requests ------------------------------------------------------------------------------
    async def _request(self, make: Callable[[str], object]) -> Reply:
        if self._ctx is None or self._dealer is None:
            raise HubError(ErrorCode.INTERNAL, "client not started")
        rid = f"r{next(self._rids)}"
        msg = make(rid)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Reply] = loop.create_future()
        self._pending[rid] = fut
        try:
            await self._dealer.send(encode(msg), zmq.NOBLOCK)  # type: ignore[arg-type]
            return await asyncio.wait_for(fut, self.request_timeout_s)
        except (TimeoutError, zmq.Again):
            # renew the socket: a request queued for a dead hub must not arrive later
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
        rep = _expect(LoginReply, rep)
        self._token = rep.token
        self.login_reply = rep
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

    async def ping(self) -> PongReply:
        rep = self._check(await self._request(lambda rid: PingRequest(rid=rid)))
        return _expect(PongReply, rep)

    def _need_token(self) -> str:
        if self._token is None:
            raise AuthError("未登录 / not logged in")
        return self._token

    async def _authed(self, make: Callable[[str, str], object]) -> Reply:
        """A request with the session token; on an auth error, log in again once and retry."""
        rep = await self._request(lambda rid: make(rid, self._need_token()))
        if (
            isinstance(rep, ErrorReply)
            and rep.code is ErrorCode.AUTH
            and self._credentials is not None
        ):
            await self._relogin()
            rep = await self._request(lambda rid: make(rid, self._need_token()))
        return self._check(rep)

    async def _call(self, reply: type[R], request: Callable[..., object]) -> R:
        """An authenticated request, built by `request(rid=…, token=…)` (a `partial` of
        the request class), whose answer must be a `reply`."""
        return _expect(reply, await self._authed(lambda rid, token: request(rid=rid, token=token)))

    async def _relogin(self) -> None:
        if self._credentials is None:
            raise AuthError("未登录 / not logged in")
        rep = await self._login(*self._credentials)
        if rep.hub_instance != self.hub_instance:
            self.hub_instance = rep.hub_instance

    async def act(
        self,
        event_id: str,
        action: Action,
        *,
        note: str = "",
        assignee: str | None = None,
        extension_days: int = 0,
    ) -> Event:
        request = partial(
            ActRequest,
            event_id=event_id,
            action=action,
            note=note,
            assignee=assignee,
            extension_days=extension_days,
        )
        return (await self._call(ActReply, request)).event

    async def timeline(self, event_id: str) -> list[AuditEntry]:
        rep = await self._call(TimelineReply, partial(TimelineRequest, event_id=event_id))
        return rep.entries

    # -- dispatch to grid leaders (issue 4) ---------------------------------------------------
    async def dispatch_preview(self, event_id: str, *, cameras: int = 4) -> DispatchPreviewReply:
        """Suggested person, the chain, the template's instruction, the nearest cameras."""
        request = partial(DispatchPreviewRequest, event_id=event_id, cameras=cameras)
        return await self._call(DispatchPreviewReply, request)

    async def dispatch_event(
        self,
        event_id: str,
        person_id: str | None = None,
        *,
        note: str = "",
        instruction: str | None = None,
    ) -> DispatchTask:
        """One-click dispatch (person None: the suggested grid leader; instruction None:
        the category's template). Raises HubError (e.g. CONFLICT if already dispatched)."""
        request = partial(
            DispatchRequest,
            event_id=event_id,
            person_id=person_id,
            note=note,
            instruction=instruction,
        )
        rep = await self._call(TaskReply, request)
        self._task_view[rep.task.id] = rep.task
        return rep.task

    async def task_act(
        self,
        task_id: str,
        action: OfficerTaskAction,
        *,
        note: str = "",
        person_id: str | None = None,
    ) -> DispatchTask:
        """confirm / rework (reason) / cancel (reason) / reassign (person_id): the new task."""
        request = partial(
            TaskActRequest, task_id=task_id, action=action, note=note, person_id=person_id
        )
        return (await self._call(TaskReply, request)).task

    async def confirm_task(self, task_id: str, *, note: str = "") -> DispatchTask:
        return await self.task_act(task_id, "confirm", note=note)

    async def tasks_detail(self, event_id: str) -> TasksReply:
        """Tasks of an event (oldest first), their history rows and the event's evidence."""
        return await self._call(TasksReply, partial(TasksRequest, event_id=event_id))

    async def tasks(self, event_id: str) -> list[DispatchTask]:
        return (await self.tasks_detail(event_id)).tasks

    async def attach_evidence(
        self,
        event_id: str,
        kind: EvidenceKind,
        path: str,
        sha256: str,
        *,
        size: int = 0,
        task_id: str | None = None,
        note: str = "",
    ) -> AttachmentInfo:
        request = partial(
            AttachEvidenceRequest,
            event_id=event_id,
            kind=kind,
            path=path,
            sha256=sha256,
            size=size,
            task_id=task_id,
            note=note,
        )
        return (await self._call(AttachmentReply, request)).attachment

    async def issue_phone_link(self, person_id: str, *, ttl_days: float = 30) -> PhoneLinkReply:
        """A personal phone link (`path`, relative to the hub's HTTP address) and its PIN."""
        request = partial(PhoneLinkRequest, person_id=person_id, ttl_days=ttl_days)
        return await self._call(PhoneLinkReply, request)

    # -- remote video mediation (issue 5) -----------------------------------------------------
    async def open_mediation(
        self, event_id: str, invites: list[MediationInvite], *, ttl_hours: float = 24
    ) -> MediationReply:
        """Open a session on an event: a join link + PIN per invite, and the console's own
        `host_path`/`host_session` for its aiortc peer (`streams.webrtc.client`)."""
        request = partial(
            MediationOpenRequest, event_id=event_id, invites=invites, ttl_hours=ttl_hours
        )
        return await self._call(MediationReply, request)

    async def close_mediation(
        self,
        session_id: str,
        outcome: Literal["agreement", "no_agreement", "referred"],
        *,
        notes: str = "",
    ) -> MediationReply:
        """End the session and file it on the event (timeline row, store record)."""
        request = partial(
            MediationCloseRequest, session_id=session_id, outcome=outcome, notes=notes
        )
        return await self._call(MediationReply, request)

    async def report(self, month: str) -> ReportReply:
        """The monthly report of `month` ("YYYY-MM"; supervisors and admins, issue 7)."""
        if re.fullmatch(MONTH_PATTERN, month) is None:
            raise HubError(
                ErrorCode.INVALID, f"月份格式应为 YYYY-MM / month must be YYYY-MM: {month!r}"
            )
        return await self._call(ReportReply, partial(ReportRequest, month=month))

    async def hotspots(self) -> HotspotsReply:
        """The hot-spot warnings now, each with the ids of its events (issue 7)."""
        return await self._call(HotspotsReply, HotspotsRequest)

    async def camera_health(self) -> CameraHealthReply:
        """The newest patrol sample of every camera (the health panel, issue 7)."""
        return await self._call(CameraHealthReply, CameraHealthRequest)

    async def camera_history(self, camera: str, limit: int = 200) -> CameraHistoryReply:
        """A camera's patrol samples, newest first."""
        request = partial(CameraHistoryRequest, camera=camera, limit=limit)
        return await self._call(CameraHistoryReply, request)

    async def report_pdf(self, http_url: str, month: str, timeout_s: float = 60.0) -> bytes:
        """The report's PDF from the hub's HTTP address, with this session's token."""
        import aiohttp

        headers = {"Authorization": f"Bearer {self._need_token()}"}
        url = http_url.rstrip("/") + pdf_path(month)
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as s,
            s.get(url, headers=headers) as r,
        ):
            body = await r.read()
            if r.status != 200:
                code = {401: ErrorCode.AUTH, 403: ErrorCode.FORBIDDEN}.get(
                    r.status, ErrorCode.INVALID
                )
                text = body.decode("utf-8", "replace")[:300]
                raise HubError(code, f"报表 PDF 获取失败 / PDF refused: HTTP {r.status} {text}")
            return body

    async def rollcall(self, op: RollcallOp, **fields: Any) -> RollcallReply:
        """A roll-call request (issue 6): roster, start, stop, resume, status, week, …"""
        return await self._call(RollcallReply, partial(RollcallRequest, op=op, **fields))

    def task_view(self) -> dict[str, DispatchTask]:
        """The tasks this client dispatched or saw change (published `TaskChanged`)."""
        return dict(self._task_view)

    def _on_task_changed(self, msg: TaskChanged) -> None:
        cur = self._task_view.get(msg.task.id)
        if cur is None or cur.version <= msg.task.version:
            self._task_view[msg.task.id] = msg.task
        if self._on_task is not None:
            self._on_task(msg)

    # -- the view ------------------------------------------------------------------------------
    def _apply(self, ch: EventChanged) -> None:
        ev = ch.event
        if is_open(ev.state):
            self._view[ev.id] = ev
            self._colours[ev.id] = ch.colour
        else:
            self._view.pop(ev.id, None)
            self._colours.pop(ev.id, None)
        try:
            self._on_change(ch)
        except Exception:
            log.exception("on_change callback failed")

    async def _resync(self, *, full: bool = False) -> None:
        """Ask for a snapshot (full, or since our last seq) and merge it."""
        async with self._sync_lock:
            since = None if full or self.last_seq == 0 else self.last_seq
            rep = await self._call(SnapshotReply, partial(SnapshotRequest, since=since))
            self.resyncs += 1
            gone: list[str] = []
            if rep.full:
                self.full_snapshots += 1
                present = {e.event.id for e in rep.events}
                # left the open set while we were not listening: they stay in the view
                # until their final state is delivered (`_tell_gone`)
                gone = [eid for eid in self._view if eid not in present]
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
                rep = await self._call(EventsReply, partial(EventsRequest, ids=ids))
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
        self._view.pop(msg.event_id, None)
        self._colours.pop(msg.event_id, None)
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
                if self._token is None or self._state.status is not ConnectionStatus.CONNECTED:
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
                self._on_task_changed(msg)
            elif isinstance(msg, RollcallChanged):
                if self.on_rollcall is not None:
                    self.on_rollcall(msg)
            else:
                self._on_changed(msg)

    def _on_heartbeat(self, hb: Heartbeat) -> None:
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
            if self._credentials is None:
                continue
            silent = self._mono() - self._last_heard
            if silent > self.lost_after_s and self._state.status is not ConnectionStatus.LOST:
                self._set_state(
                    ConnectionState(
                        ConnectionStatus.LOST,
                        lost_at=self._last_heard_wall or self._wall(),
                        detail=f"no heartbeat for {silent:.1f} s",
                    )
                )
