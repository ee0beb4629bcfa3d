"""The monthly report's and hot-spot warnings' zmq request handlers (issue 7)."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.reports.messages import HotspotsReply, HotspotsRequest, ReportReply, ReportRequest
from dispatch.reports.service import ReportService


class ReportHandlers:
    def __init__(self, service: HubService, reports: ReportService) -> None:
        self._svc = service
        self._reports = reports

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(ReportRequest, self.report)
        registry.register(HotspotsRequest, self.hotspots)

    async def report(self, req: ReportRequest) -> ReportReply:
        return await self._reports.handle_report(self._svc.session(req.token), req)

    async def hotspots(self, req: HotspotsRequest) -> HotspotsReply:
        return await self._reports.handle_hotspots(self._svc.session(req.token), req)
