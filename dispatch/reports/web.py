"""The monthly report's HTTP route: `GET /api/v1/reports/{YYYY-MM}.pdf` with
`Authorization: Bearer <session token>` of a supervisor or admin.
"""

from __future__ import annotations

from aiohttp import web

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.reports.service import ReportService

_STATUS = {
    ErrorCode.AUTH: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.INVALID: 400,
    ErrorCode.NOT_FOUND: 404,
}


def _bearer(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    return auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""


async def get_pdf(request: web.Request) -> web.Response:
    reports: ReportService = request.app[REPORTS_KEY]
    month = request.match_info["month"]
    try:
        session = reports.service.session(_bearer(request))
        body = await reports.pdf(session, month)
    except HubError as exc:
        return web.json_response(
            {"error": exc.code.value, "message": exc.message}, status=_STATUS.get(exc.code, 500)
        )
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="report-{month}.pdf"'},
    )


REPORTS_KEY = web.AppKey("reports", ReportService)


def add_report_routes(app: web.Application, reports: ReportService) -> None:
    app[REPORTS_KEY] = reports
    app.router.add_get("/api/v1/reports/{month}.pdf", get_pdf)
