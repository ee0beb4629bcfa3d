"""The event workflow's zmq request handlers: act, timeline, events by id, snapshot, and
the audited request for a reporter's full number."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.messages import (
    ActReply,
    ActRequest,
    EventsReply,
    EventsRequest,
    RevealReply,
    RevealRequest,
    SnapshotRequest,
    TimelineReply,
    TimelineRequest,
    encode_snapshot_reply,
)
from dispatch.events.reveal import Revealer
from dispatch.events.service import HubService


class EventHandlers:
    """An operator's actions on events and the console's view of them."""

    def __init__(self, service: HubService, revealer: Revealer) -> None:
        self._svc = service
        self._revealer = revealer

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(ActRequest, self.act)
        registry.register(TimelineRequest, self.timeline)
        registry.register(EventsRequest, self.events)
        registry.register(SnapshotRequest, self.snapshot)
        registry.register(RevealRequest, self.reveal)

    async def act(self, req: ActRequest) -> ActReply:
        session = self._svc.session(req.token)
        ch = await self._svc.act(
            session,
            req.event_id,
            req.action,
            note=req.note,
            assignee=req.assignee,
            extension_days=req.extension_days,
        )
        return ActReply(rid=req.rid, seq=ch.seq, event=ch.event, colour=ch.colour, audit=ch.audit)

    async def timeline(self, req: TimelineRequest) -> TimelineReply:
        self._svc.session(req.token)
        return TimelineReply(rid=req.rid, entries=await self._svc.timeline(req.event_id))

    async def events(self, req: EventsRequest) -> EventsReply:
        self._svc.session(req.token)
        seq, found, missing = await self._svc.events_by_id(list(dict.fromkeys(req.ids)))
        return EventsReply(rid=req.rid, seq=seq, events=found, missing=missing)

    async def snapshot(self, req: SnapshotRequest) -> bytes:
        self._svc.session(req.token)
        seq, full, entries = self._svc.snapshot(req.since)
        return encode_snapshot_reply(req.rid, seq, full, self._svc.instance, entries)

    async def reveal(self, req: RevealRequest) -> RevealReply:
        session = self._svc.session(req.token)
        value, seq = await self._revealer.reveal(session, req.event_id, req.field, req.reason)
        return RevealReply(
            rid=req.rid, seq=seq, event_id=req.event_id, field=req.field, value=value
        )
