"""The consoles' request for the grid leaders' shared positions (any logged-in operator)."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.positions.messages import LeaderPositionsReply, LeaderPositionsRequest
from dispatch.positions.service import PositionsService


class PositionHandlers:
    def __init__(self, service: HubService, positions: PositionsService) -> None:
        self._svc = service
        self._positions = positions

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(LeaderPositionsRequest, self.positions)

    async def positions(self, req: LeaderPositionsRequest) -> LeaderPositionsReply:
        self._svc.session(req.token)
        return LeaderPositionsReply(
            rid=req.rid,
            seq=self._positions.seq,
            max_age_s=self._positions.max_age.total_seconds(),
            positions=self._positions.positions(),
        )
