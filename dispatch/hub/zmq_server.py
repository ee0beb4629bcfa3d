"""The hub's zmq face: a ROUTER answering typed requests and a PUB for changes.

Each request is handled in its own task (a slow write does not hold up a ping); the
reply goes back through the ROUTER with the request's `rid`. Changes are published
as `EventChanged` frames in seq order, and a `Heartbeat` carrying the last seq goes
out every `heartbeat_s` so clients notice both a dead hub and a missed change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

import zmq
import zmq.asyncio
from pydantic import BaseModel, Field, TypeAdapter

from dispatch.domain.wire import (
    ErrorCode,
    ErrorReply,
    HubError,
    OkReply,
    ProtocolError,
    decode_with,
    encode,
    request_rid,
)
from dispatch.events.messages import (
    ActReply,
    ActRequest,
    EventsReply,
    EventsRequest,
    SnapshotRequest,
    TimelineReply,
    TimelineRequest,
    encode_snapshot_reply,
)
from dispatch.events.service import HubService
from dispatch.hub.messages import (
    Heartbeat,
    LoginReply,
    LoginRequest,
    LogoutRequest,
    PingRequest,
    PongReply,
)
from dispatch.hub.writer import Committed
from dispatch.mediation.messages import (
    MediationCloseRequest,
    MediationLink,
    MediationOpenRequest,
    MediationReply,
)
from dispatch.mediation.service import MediationService
from dispatch.reports.messages import HotspotsRequest, ReportRequest
from dispatch.reports.service import ReportService
from dispatch.rollcall.messages import RollcallRequest
from dispatch.rollcall.service import RollcallService
from dispatch.tasks.messages import (
    AttachEvidenceRequest,
    AttachmentReply,
    DispatchPreviewRequest,
    DispatchRequest,
    PhoneLinkReply,
    PhoneLinkRequest,
    TaskActRequest,
    TaskReply,
    TasksReply,
    TasksRequest,
)
from dispatch.tasks.service import DispatchService

log = logging.getLogger(__name__)

Request = Annotated[
    LoginRequest
    | LogoutRequest
    | ActRequest
    | TimelineRequest
    | SnapshotRequest
    | PingRequest
    | EventsRequest
    | DispatchPreviewRequest
    | DispatchRequest
    | TaskActRequest
    | TasksRequest
    | AttachEvidenceRequest
    | PhoneLinkRequest
    | MediationOpenRequest
    | MediationCloseRequest
    | RollcallRequest
    | ReportRequest
    | HotspotsRequest,
    Field(discriminator="type"),
]
_requests: TypeAdapter[Request] = TypeAdapter(Request)


def decode_request(frame: bytes) -> Request:
    return decode_with(_requests, frame)


def bind_random(sock: zmq.asyncio.Socket, endpoint: str) -> str:
    """Bind; `tcp://host:0` picks a free port. Returns the endpoint actually bound."""
    if endpoint.startswith("tcp://") and endpoint.endswith(":0"):
        port = sock.bind_to_random_port(endpoint[: -len(":0")])
        return f"{endpoint[: -len(':0')]}:{port}"
    sock.bind(endpoint)
    last = sock.getsockopt(zmq.LAST_ENDPOINT)
    return last.decode() if isinstance(last, bytes) else endpoint


class ZmqServer:
    def __init__(
        self,
        service: HubService,
        req_endpoint: str,
        pub_endpoint: str,
        *,
        heartbeat_s: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service
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
        self.dispatch: DispatchService | None = None  # set by the hub (issue 4)
        self.mediation: MediationService | None = None  # set by the hub (issue 5)
        self.rollcall: RollcallService | None = None  # set by the hub (issue 6)
        self.reports: ReportService | None = None  # set by the hub (issue 7)

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
            frames = await router.recv_multipart()
            if len(frames) < 2:
                continue
            ident, body = frames[0], frames[-1]
            t = asyncio.create_task(self._handle(ident, body))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _handle(self, ident: bytes, body: bytes) -> None:
        try:
            req = decode_request(body)
        except ProtocolError as exc:
            reply: BaseModel | bytes = ErrorReply(
                rid=request_rid(body), code=ErrorCode.INVALID, message=str(exc)
            )
        else:
            try:
                reply = await self._dispatch(req)
            except HubError as exc:
                reply = ErrorReply(rid=req.rid, code=exc.code, message=exc.message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("request %s failed", req.type)
                reply = ErrorReply(rid=req.rid, code=ErrorCode.INTERNAL, message=repr(exc))
        router = self._router
        if router is not None:
            frame = reply if isinstance(reply, bytes) else encode(reply)
            try:
                await router.send_multipart([ident, frame], zmq.NOBLOCK)
            except zmq.ZMQError:
                log.warning("reply to a gone client dropped")

    async def _dispatch(self, req: Request) -> BaseModel | bytes:
        """The reply to a request (bytes: a reply already encoded)."""
        svc = self.service
        match req:
            case PingRequest():
                return PongReply(rid=req.rid, seq=svc.last_seq, hub_instance=svc.instance)
            case LoginRequest():
                s = await svc.login(req.operator, req.password, req.workstation)
                return LoginReply(
                    rid=req.rid,
                    token=s.token,
                    operator=s.operator,
                    role=s.role,
                    workstation=s.workstation,
                    hub_instance=svc.instance,
                )
            case LogoutRequest():
                svc.sessions.close(req.token)
                return OkReply(rid=req.rid)
            case ActRequest():
                session = svc.session(req.token)
                ch = await svc.act(
                    session,
                    req.event_id,
                    req.action,
                    note=req.note,
                    assignee=req.assignee,
                    extension_days=req.extension_days,
                )
                return ActReply(
                    rid=req.rid, seq=ch.seq, event=ch.event, colour=ch.colour, audit=ch.audit
                )
            case TimelineRequest():
                svc.session(req.token)
                return TimelineReply(rid=req.rid, entries=await svc.timeline(req.event_id))
            case EventsRequest():
                svc.session(req.token)
                seq, found, missing = await svc.events_by_id(list(dict.fromkeys(req.ids)))
                return EventsReply(rid=req.rid, seq=seq, events=found, missing=missing)
            case SnapshotRequest():
                svc.session(req.token)
                seq, full, entries = svc.snapshot(req.since)
                return encode_snapshot_reply(req.rid, seq, full, svc.instance, entries)
        return await self._dispatch_tasks(req)

    def _need_dispatch(self) -> DispatchService:
        if self.dispatch is None:
            raise HubError(ErrorCode.INVALID, "派单服务未启用 / dispatch is not enabled")
        return self.dispatch

    async def _dispatch_tasks(self, req: Request) -> BaseModel:
        """The dispatch requests (issue 4): to grid leaders, their tasks, evidence."""
        svc = self.service
        match req:
            case DispatchPreviewRequest():
                svc.session(req.token)
                got = await self._need_dispatch().preview(req.event_id, req.cameras)
                return got.model_copy(update={"rid": req.rid})
            case DispatchRequest():
                session = svc.session(req.token)
                task, seq = await self._need_dispatch().dispatch(
                    session,
                    req.event_id,
                    person_id=req.person_id,
                    note=req.note,
                    instruction=req.instruction,
                )
                return TaskReply(rid=req.rid, seq=seq, task=task)
            case TaskActRequest():
                session = svc.session(req.token)
                task, seq = await self._need_dispatch().officer_act(
                    session, req.task_id, req.action, note=req.note, person_id=req.person_id
                )
                return TaskReply(rid=req.rid, seq=seq, task=task)
            case TasksRequest():
                svc.session(req.token)
                tasks, hist, atts = await self._need_dispatch().tasks_of_event(req.event_id)
                return TasksReply(rid=req.rid, tasks=tasks, history=hist, attachments=atts)
            case AttachEvidenceRequest():
                session = svc.session(req.token)
                att, seq = await self._need_dispatch().attach_evidence(
                    session,
                    req.event_id,
                    kind=req.kind,
                    path=req.path,
                    sha256=req.sha256,
                    size=req.size,
                    task_id=req.task_id,
                    note=req.note,
                )
                return AttachmentReply(rid=req.rid, seq=seq, attachment=att)
            case PhoneLinkRequest():
                svc.session(req.token)
                token, pin, exp = await self._need_dispatch().issue_link(
                    req.person_id, timedelta(days=req.ttl_days)
                )
                return PhoneLinkReply(
                    rid=req.rid,
                    person_id=req.person_id,
                    path=f"/m/{token}",
                    pin=pin,
                    expires_at=exp,
                )
            case MediationOpenRequest() | MediationCloseRequest():
                return await self._mediation_request(req)
            case RollcallRequest():
                if self.rollcall is None:
                    raise HubError(ErrorCode.INVALID, "视频点名未启用 / roll call is not enabled")
                return await self.rollcall.handle(svc.session(req.token), req)
            case ReportRequest() | HotspotsRequest():
                if self.reports is None:
                    raise HubError(ErrorCode.INVALID, "报表未启用 / reports are not enabled")
                if isinstance(req, ReportRequest):
                    return await self.reports.handle_report(svc.session(req.token), req)
                return await self.reports.handle_hotspots(svc.session(req.token), req)
        raise HubError(ErrorCode.INVALID, f"unknown request {req!r}")  # pragma: no cover

    async def _mediation_request(
        self, req: MediationOpenRequest | MediationCloseRequest
    ) -> BaseModel:
        """Remote video mediation (issue 5): open with links, close with the outcome."""
        med = self.mediation
        if med is None:
            raise HubError(ErrorCode.INVALID, "远程调解未启用 / mediation is not enabled")
        session = self.service.session(req.token)
        if isinstance(req, MediationOpenRequest):
            sess, links, host_token, host_session = await med.open(
                session, req.event_id, req.invites, timedelta(hours=req.ttl_hours)
            )
            return MediationReply(
                rid=req.rid,
                session_id=sess.id,
                event_id=sess.event_id,
                links=[
                    MediationLink(
                        participant_id=p.id,
                        role=p.role,
                        label=p.label,
                        name=p.name,
                        path=f"/v/{token}",
                        pin=pin,
                        expires_at=p.expires_at,
                    )
                    for p, token, pin in links
                ],
                host_path=f"/v/{host_token}",
                host_session=host_session,
                ice_servers=[s.as_dict() for s in med.ice_servers],
            )
        sess, duration, rec = await med.close(session, req.session_id, req.outcome, req.notes)
        return MediationReply(
            rid=req.rid,
            session_id=sess.id,
            event_id=sess.event_id,
            outcome=req.outcome,
            duration_s=duration,
            recording=str(rec) if rec is not None else None,
        )
