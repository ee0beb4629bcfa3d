"""The camera health patrol's zmq request handlers: the health panel's reads."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.patrol.messages import (
    CameraHealthReply,
    CameraHealthRequest,
    CameraHistoryReply,
    CameraHistoryRequest,
)
from dispatch.patrol.service import PatrolService


class PatrolHandlers:
    def __init__(self, service: HubService, patrol: PatrolService) -> None:
        self._svc = service
        self._patrol = patrol

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(CameraHealthRequest, self.health)
        registry.register(CameraHistoryRequest, self.history)

    async def health(self, req: CameraHealthRequest) -> CameraHealthReply:
        self._svc.session(req.token)  # any logged-in operator
        got = await self._patrol.health()
        return CameraHealthReply(rid=req.rid, cameras=got.cameras)

    async def history(self, req: CameraHistoryRequest) -> CameraHistoryReply:
        self._svc.session(req.token)
        got = await self._patrol.history(req.camera, req.limit)
        return CameraHistoryReply(rid=req.rid, camera=got.camera, checks=got.checks)
