"""The monthly report's and hot-spot warnings' facade (issue 7), with the PDF download."""

from __future__ import annotations

import re
import ssl
from functools import partial

from dispatch.client.calls import Caller
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.reports.messages import (
    MONTH_PATTERN,
    HotspotsReply,
    HotspotsRequest,
    ReportReply,
    ReportRequest,
    pdf_path,
)


class ReportsFacade:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def report(self, month: str) -> ReportReply:
        """The monthly report of `month` ("YYYY-MM"; supervisors and admins)."""
        if re.fullmatch(MONTH_PATTERN, month) is None:
            raise HubError(
                ErrorCode.INVALID, f"月份格式应为 YYYY-MM / month must be YYYY-MM: {month!r}"
            )
        return await self._caller.call(ReportReply, partial(ReportRequest, month=month))

    async def hotspots(self) -> HotspotsReply:
        """The hot-spot warnings now, each with the ids of its events."""
        return await self._caller.call(HotspotsReply, HotspotsRequest)

    async def report_pdf(
        self,
        http_url: str,
        month: str,
        timeout_s: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> bytes:
        """The report's PDF from the hub's HTTPS address, with this session's token;
        `ssl_context` trusts the hub's CA (None: the system's CAs)."""
        import aiohttp

        headers = {"Authorization": f"Bearer {self._caller.token()}"}
        url = http_url.rstrip("/") + pdf_path(month)
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as s,
            s.get(url, headers=headers, ssl=ssl_context or True) as r,
        ):
            body = await r.read()
            if r.status != 200:
                code = {401: ErrorCode.AUTH, 403: ErrorCode.FORBIDDEN}.get(
                    r.status, ErrorCode.INVALID
                )
                text = body.decode("utf-8", "replace")[:300]
                raise HubError(code, f"报表 PDF 获取失败 / PDF refused: HTTP {r.status} {text}")
            return body
