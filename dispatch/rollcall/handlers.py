"""The weekly roll call's zmq request handlers (issue 6): one per request type of
`dispatch.rollcall.messages`, each answered by `RollcallService.handle` with the caller's
session."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.rollcall.messages import REQUEST_TYPES, RollcallReply, RollcallRequestBase
from dispatch.rollcall.service import RollcallService


class RollcallHandlers:
    def __init__(self, service: HubService, rollcall: RollcallService) -> None:
        self._svc = service
        self._rollcall = rollcall

    def register(self, registry: HandlerRegistrar) -> None:
        for kind in REQUEST_TYPES:
            registry.register(kind, self.rollcall)

    async def rollcall(self, req: RollcallRequestBase) -> RollcallReply:
        return await self._rollcall.handle(self._svc.session(req.token), req)
