"""The consoles' PTZ requests: hold (rights checked, audited), release, list, log."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar, OkReply
from dispatch.events.service import HubService
from dispatch.ptz.messages import (
    PtzHoldReply,
    PtzHoldRequest,
    PtzHoldsReply,
    PtzHoldsRequest,
    PtzLogReply,
    PtzLogRequest,
    PtzReleaseRequest,
)
from dispatch.ptz.service import PtzService


class PtzHandlers:
    def __init__(self, service: HubService, ptz: PtzService) -> None:
        self._svc = service
        self._ptz = ptz

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(PtzHoldRequest, self.hold)
        registry.register(PtzReleaseRequest, self.release)
        registry.register(PtzHoldsRequest, self.holds)
        registry.register(PtzLogRequest, self.log)

    async def hold(self, req: PtzHoldRequest) -> PtzHoldReply:
        s = self._svc.session(req.token)
        hold = await self._ptz.hold(
            req.camera_id, s.operator, s.role, s.workstation, req.action, req.detail
        )
        return PtzHoldReply(rid=req.rid, hold=hold)

    async def release(self, req: PtzReleaseRequest) -> OkReply:
        s = self._svc.session(req.token)
        await self._ptz.release(req.camera_id, s.operator, s.role, s.workstation)
        return OkReply(rid=req.rid)

    async def holds(self, req: PtzHoldsRequest) -> PtzHoldsReply:
        self._svc.session(req.token)
        return PtzHoldsReply(rid=req.rid, seq=self._ptz.seq, holds=self._ptz.holds())

    async def log(self, req: PtzLogRequest) -> PtzLogReply:
        self._svc.session(req.token)
        return PtzLogReply(rid=req.rid, entries=await self._ptz.log(req.camera_id, req.limit))
