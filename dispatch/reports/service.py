"""The monthly report and the hot spots served by the hub (issue 7).

zmq: `ReportRequest` (supervisors and admins) and `HotspotsRequest` (every operator),
see `dispatch.reports.messages`. HTTP: `GET /api/v1/reports/{YYYY-MM}.pdf` with
`Authorization: Bearer <session token>` of a supervisor or admin (the route is in
`dispatch.reports.web`). The figures are read off the event loop (`asyncio.to_thread`);
the PDF is rendered per request.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path

from dispatch.domain.model import Role
from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.reports.core import HotspotItem, MonthlyReport, ReportError, parse_month
from dispatch.reports.messages import (
    HotspotsReply,
    HotspotsRequest,
    ReportReply,
    ReportRequest,
    pdf_path,
)
from dispatch.reports.store import ReportOptions, current_hotspots, monthly_report

REPORT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
HOTSPOT_ROLES = frozenset({Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN})


def check_role(session: Session, allowed: frozenset[Role], what: str) -> None:
    if session.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise HubError(
            ErrorCode.FORBIDDEN,
            f"{what}: 角色 {session.role.value} 无权查看 / role {session.role.value} "
            f"may not (allowed: {names})",
        )


def pdf_renderable() -> bool:
    """A CJK font is installed, so the Chinese PDF can be made."""
    from dispatch.reports.charts import FontMissing, cjk_font

    try:
        cjk_font()
    except FontMissing:
        return False
    return True


class ReportService:
    """Reports and hot spots from the hub's store; no I/O before a request."""

    def __init__(self, service: HubService, site: Site | None) -> None:
        self.service = service
        self.site = site

    def _need_site(self) -> Site:
        if self.site is None:
            raise HubError(ErrorCode.INVALID, "集控中心未配置站点 / the hub has no site")
        return self.site

    async def report(self, session: Session, month: str) -> MonthlyReport:
        check_role(session, REPORT_ROLES, "信息月报 / monthly report")
        site = self._need_site()
        try:
            first = parse_month(month)
        except ReportError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None
        now = self.service.clock()
        local = now.astimezone(self.service.calendar.tz)
        asked, this = (first.year, first.month), (local.year, local.month)
        if asked > this:
            raise HubError(ErrorCode.INVALID, f"{month} 尚未开始 / is in the future")
        opts = ReportOptions(as_of=now if asked == this else None, generated_at=now)
        engine = self.service.store.engine
        cal = self.service.calendar
        try:
            return await asyncio.to_thread(monthly_report, engine, first, site, cal, opts)
        except ReportError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None

    async def hotspots(self, session: Session) -> tuple[datetime, list[HotspotItem]]:
        check_role(session, HOTSPOT_ROLES, "热点预警 / hot spots")
        site = self._need_site()
        now = self.service.clock()
        engine = self.service.store.engine
        return now, await asyncio.to_thread(current_hotspots, engine, site, now)

    async def handle_report(self, session: Session, req: ReportRequest) -> ReportReply:
        report = await self.report(session, req.month)
        return ReportReply(
            rid=req.rid,
            report=report,
            pdf_available=await asyncio.to_thread(pdf_renderable),
            pdf_path=pdf_path(req.month),
        )

    async def handle_hotspots(self, session: Session, req: HotspotsRequest) -> HotspotsReply:
        at, items = await self.hotspots(session)
        return HotspotsReply(rid=req.rid, at=at, hotspots=items)

    async def pdf(self, session: Session, month: str) -> bytes:
        report = await self.report(session, month)

        def render() -> bytes:
            from dispatch.reports.pdf import write_pdf

            with tempfile.TemporaryDirectory(prefix="hall-report-") as tmp:
                return write_pdf(report, Path(tmp) / f"{month}.pdf").read_bytes()

        return await asyncio.to_thread(render)
