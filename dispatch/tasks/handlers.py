"""One-click dispatch's zmq request handlers (issue 4): preview, dispatch, an officer's
action on a task, an event's tasks, evidence, phone links."""

from __future__ import annotations

from datetime import timedelta

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.tasks.messages import (
    AttachmentReply,
    DispatchPreviewReply,
    DispatchPreviewRequest,
    DispatchRequest,
    EvidenceBeginReply,
    EvidenceBeginRequest,
    EvidenceChunkReply,
    EvidenceChunkRequest,
    EvidenceFinishRequest,
    PhoneLinkReply,
    PhoneLinkRequest,
    TaskActRequest,
    TaskReply,
    TasksReply,
    TasksRequest,
)
from dispatch.tasks.service import DispatchService
from dispatch.tasks.uploads import EVIDENCE_CHUNK_BYTES


class TaskHandlers:
    """Dispatch to grid leaders, their tasks and the evidence of an event."""

    def __init__(self, service: HubService, dispatch: DispatchService) -> None:
        self._svc = service
        self._dispatch = dispatch

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(DispatchPreviewRequest, self.preview)
        registry.register(DispatchRequest, self.dispatch)
        registry.register(TaskActRequest, self.task_act)
        registry.register(TasksRequest, self.tasks)
        registry.register(EvidenceBeginRequest, self.evidence_begin)
        registry.register(EvidenceChunkRequest, self.evidence_chunk)
        registry.register(EvidenceFinishRequest, self.evidence_finish)
        registry.register(PhoneLinkRequest, self.phone_link)

    async def preview(self, req: DispatchPreviewRequest) -> DispatchPreviewReply:
        self._svc.session(req.token)
        got = await self._dispatch.preview(req.event_id, req.cameras)
        return got.model_copy(update={"rid": req.rid})

    async def dispatch(self, req: DispatchRequest) -> TaskReply:
        session = self._svc.session(req.token)
        task, seq = await self._dispatch.dispatch(
            session,
            req.event_id,
            person_id=req.person_id,
            note=req.note,
            instruction=req.instruction,
        )
        return TaskReply(rid=req.rid, seq=seq, task=task)

    async def task_act(self, req: TaskActRequest) -> TaskReply:
        session = self._svc.session(req.token)
        task, seq = await self._dispatch.officer_act(
            session, req.task_id, req.action, note=req.note, person_id=req.person_id
        )
        return TaskReply(rid=req.rid, seq=seq, task=task)

    async def tasks(self, req: TasksRequest) -> TasksReply:
        self._svc.session(req.token)
        tasks, hist, atts = await self._dispatch.tasks_of_event(req.event_id)
        return TasksReply(rid=req.rid, tasks=tasks, history=hist, attachments=atts)

    async def evidence_begin(self, req: EvidenceBeginRequest) -> EvidenceBeginReply:
        session = self._svc.session(req.token)
        upload_id = await self._dispatch.begin_evidence(
            session,
            req.event_id,
            req.kind,
            name=req.name,
            sha256=req.sha256,
            size=req.size,
            task_id=req.task_id,
            note=req.note,
        )
        step = EVIDENCE_CHUNK_BYTES
        return EvidenceBeginReply(rid=req.rid, upload_id=upload_id, chunk_bytes=step)

    async def evidence_chunk(self, req: EvidenceChunkRequest) -> EvidenceChunkReply:
        session = self._svc.session(req.token)
        got = await self._dispatch.evidence_chunk(session, req.upload_id, req.offset, req.data)
        return EvidenceChunkReply(rid=req.rid, received=got)

    async def evidence_finish(self, req: EvidenceFinishRequest) -> AttachmentReply:
        session = self._svc.session(req.token)
        att, seq = await self._dispatch.finish_evidence(session, req.upload_id)
        return AttachmentReply(rid=req.rid, seq=seq, attachment=att)

    async def phone_link(self, req: PhoneLinkRequest) -> PhoneLinkReply:
        self._svc.session(req.token)
        token, pin, exp = await self._dispatch.issue_link(
            req.person_id, timedelta(days=req.ttl_days)
        )
        return PhoneLinkReply(
            rid=req.rid, person_id=req.person_id, path=f"/m/{token}", pin=pin, expires_at=exp
        )
