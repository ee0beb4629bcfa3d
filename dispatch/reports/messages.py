"""Typed zmq messages of the monthly report and the hot-spot warnings (issue 7), joined
into the hub's request registry and the client's reply union (`dispatch.client.wire`).

`ReportRequest(month="YYYY-MM")` → `ReportReply(report, pdf_available, pdf_path)`, for
supervisors and admins; the PDF itself is `GET {pdf_path}` on the hub's HTTP address
with `Authorization: Bearer <session token>`. `HotspotsRequest` → `HotspotsReply`
(the warnings at the hub's now, each with the ids of its events), for every operator.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.domain.wire import WireMessage

# the report's value types, for the console (which imports messages, never the store)
from dispatch.reports.core import Count as Count
from dispatch.reports.core import Durations as Durations
from dispatch.reports.core import HotspotItem as HotspotItem
from dispatch.reports.core import MonthlyReport as MonthlyReport
from dispatch.reports.core import Rate as Rate
from dispatch.reports.core import Section as Section
from dispatch.reports.core import SectionFigure as SectionFigure

MONTH_PATTERN = r"^\d{4}-\d{2}$"  # the hub names a month out of range


class ReportRequest(WireMessage):
    type: Literal["report"] = "report"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    month: str = Field(pattern=MONTH_PATTERN)


class ReportReply(WireMessage):
    type: Literal["report_ok"] = "report_ok"
    rid: str
    report: MonthlyReport
    pdf_available: bool
    pdf_path: str  # relative to the hub's HTTP address


class HotspotsRequest(WireMessage):
    type: Literal["hotspots"] = "hotspots"
    rid: str = Field(min_length=1, max_length=64)
    token: str


class HotspotsReply(WireMessage):
    type: Literal["hotspots_ok"] = "hotspots_ok"
    rid: str
    at: AwareDatetime
    hotspots: list[HotspotItem]


def pdf_path(month: str) -> str:
    return f"/api/v1/reports/{month}.pdf"
