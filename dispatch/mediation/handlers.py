"""Remote video mediation's zmq request handlers (issue 5): open a session with join
links, close it with its outcome."""

from __future__ import annotations

from datetime import timedelta

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.hub.turn import console_ice_name, ice_info
from dispatch.mediation.messages import (
    MediationCloseRequest,
    MediationLink,
    MediationOpenRequest,
    MediationReply,
)
from dispatch.mediation.service import MediationService


class MediationHandlers:
    def __init__(self, service: HubService, mediation: MediationService) -> None:
        self._svc = service
        self._med = mediation

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(MediationOpenRequest, self.open)
        registry.register(MediationCloseRequest, self.close)

    async def open(self, req: MediationOpenRequest) -> MediationReply:
        session = self._svc.session(req.token)
        sess, links, host_token, host_session = await self._med.open(
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
            ice=ice_info(self._med.ice(console_ice_name(session.workstation))),
            engine="janus" if sess.janus is not None else "hub",
        )

    async def close(self, req: MediationCloseRequest) -> MediationReply:
        session = self._svc.session(req.token)
        sess, duration, rec = await self._med.close(session, req.session_id, req.outcome, req.notes)
        return MediationReply(
            rid=req.rid,
            session_id=sess.id,
            event_id=sess.event_id,
            outcome=req.outcome,
            duration_s=duration,
            recording=str(rec) if rec is not None else None,
        )
