"""The consoles' request for the relays' states (any logged-in operator)."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.relays.messages import RelayStatesReply, RelayStatesRequest
from dispatch.relays.service import RelaysService


class RelayHandlers:
    def __init__(self, service: HubService, relays: RelaysService) -> None:
        self._svc = service
        self._relays = relays

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(RelayStatesRequest, self.states)

    async def states(self, req: RelayStatesRequest) -> RelayStatesReply:
        self._svc.session(req.token)
        reports = self._relays.reports()
        return RelayStatesReply(
            rid=req.rid, seq=self._relays.seq, relays=reports, stale=self._relays.stale()
        )
