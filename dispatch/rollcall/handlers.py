"""The weekly roll call's zmq request handlers (issue 6)."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.rollcall.messages import RollcallReply, RollcallRequest
from dispatch.rollcall.service import RollcallService


class RollcallHandlers:
    def __init__(self, service: HubService, rollcall: RollcallService) -> None:
        self._svc = service
        self._rollcall = rollcall

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(RollcallRequest, self.rollcall)

    async def rollcall(self, req: RollcallRequest) -> RollcallReply:
        return await self._rollcall.handle(self._svc.session(req.token), req)
