"""Qt-free model behind the report view and the hot-spot widget, and its pure helpers.

`ReportsModel` holds what the two views show (the report screen, the status line, whether
the PDF can be exported, the hot-spot lines and their header) and emits on each change
through `console.kit.observable.Observable`s; the controller changes it, the views
observe it. Its sentences come from `console.reports.strings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from console.kit.observable import Observable
from console.reports.strings import t
from dispatch.reports.charts import chart_counts, chart_stages, figure_png, summary_rows
from dispatch.reports.messages import HotspotItem, HotspotsReply, MonthlyReport, ReportReply


@dataclass(frozen=True)
class HotspotRow:
    text: str
    tooltip: str
    event_ids: tuple[str, ...]


def hotspot_tip(h: HotspotItem) -> str:
    """What a click opens: all of the warning's events, or (a flooded hot spot, whose
    reply carries only its newest ids) the newest n of its count."""
    n = len(h.event_ids)
    if n < h.count:
        return t("hotspot_tip_newest", p=h.p_value, n=n, count=h.count)
    return t("hotspot_tip", p=h.p_value, n=n)


def hotspot_rows(items: tuple[HotspotItem, ...] | list[HotspotItem]) -> list[HotspotRow]:
    """One line per warning, most surprising first (the order given)."""
    out = []
    for h in items:
        kind = t("kind.category") if h.kind == "category" else t("kind.grid")
        out.append(
            HotspotRow(
                text=t("hotspot", kind=kind, label=h.label, count=h.count, baseline=h.baseline),
                tooltip=hotspot_tip(h),
                event_ids=h.event_ids,
            )
        )
    return out


@dataclass(frozen=True)
class ReportScreen:
    """What the report view shows: the summary table, overdue lines and chart PNGs."""

    title: str
    summary: list[tuple[str, str]]
    sections: list[tuple[str, str]]
    overdue: list[str]
    charts: list[bytes]


def report_screen(report: MonthlyReport, dpi: int = 70) -> ReportScreen:
    sections: list[tuple[str, str]] = []
    for s in (report.mediation, report.rollcall, report.meetings, report.cameras):
        if s.available:
            sections.extend((f"{s.title}·{f.label}", f.value) for f in s.figures)
        else:
            sections.append((s.title, s.note))
    overdue = [
        f"{o.event_id} {o.title} · {o.category} · {o.township} · "
        + t("overdue_by", hours=o.overdue_by_s / 3600)
        for o in report.overdue_items[:50]
    ]
    return ReportScreen(
        title=t(
            "screen_title", county=report.county, year=report.month.year, month=report.month.month
        ),
        summary=summary_rows(report),
        sections=sections,
        overdue=overdue,
        charts=[figure_png(chart_counts(report), dpi), figure_png(chart_stages(report), dpi)],
    )


def default_pdf_name(month: date) -> str:
    return f"信息月报-{month.year}-{month.month:02d}.pdf"


class ReportsModel:
    """The report and hot-spot panels' state. Observables, each emitted after its change:
    `status_changed(str)`, `screen_changed(ReportScreen)`, `export_changed(bool)`,
    `hotspots_changed(rows)`, `hotspot_header_changed(str)`, `notices(str)` (a message for
    the window's status bar)."""

    def __init__(self) -> None:
        self._status = ""
        self._screen: ReportScreen | None = None
        self._exportable = False
        self._reply: ReportReply | None = None
        self._hotspots: HotspotsReply | None = None
        self._hotspot_rows: tuple[HotspotRow, ...] = ()
        self._hotspot_header = t("hotspots_title")
        self._saved: list[Path] = []
        self.status_changed: Observable[str] = Observable()
        self.screen_changed: Observable[ReportScreen] = Observable()
        self.export_changed: Observable[bool] = Observable()
        self.hotspots_changed: Observable[tuple[HotspotRow, ...]] = Observable()
        self.hotspot_header_changed: Observable[str] = Observable()
        self.notices: Observable[str] = Observable()

    # -- reading ---------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    @property
    def screen(self) -> ReportScreen | None:
        return self._screen

    @property
    def exportable(self) -> bool:
        return self._exportable

    @property
    def reply(self) -> ReportReply | None:
        """The last report the hub sent."""
        return self._reply

    @property
    def hotspots(self) -> HotspotsReply | None:
        """The last hot spots the hub sent."""
        return self._hotspots

    @property
    def hotspot_rows(self) -> tuple[HotspotRow, ...]:
        return self._hotspot_rows

    @property
    def hotspot_header(self) -> str:
        return self._hotspot_header

    @property
    def saved(self) -> tuple[Path, ...]:
        """The PDFs exported, oldest first."""
        return tuple(self._saved)

    # -- changing --------------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self._status = text
        self.status_changed.emit(text)

    def working(self) -> None:
        self._set_status(t("working"))

    def failed(self, message: str) -> None:
        self._set_status(t("error", message=message))

    def show_report(self, reply: ReportReply, screen: ReportScreen, *, exportable: bool) -> None:
        self._reply = reply
        self._screen = screen
        self.screen_changed.emit(screen)
        self._set_status("")
        self._exportable = exportable
        self.export_changed.emit(exportable)

    def pdf_saved(self, path: Path) -> None:
        self._saved.append(path)
        self._set_status(t("saved", path=path))
        self.notices.emit(t("report_saved", path=path))

    def show_hotspots(self, reply: HotspotsReply) -> None:
        self._hotspots = reply
        self._hotspot_rows = tuple(hotspot_rows(reply.hotspots))
        self.hotspots_changed.emit(self._hotspot_rows)
        self._hotspot_header = t("hotspots_count", n=len(self._hotspot_rows))
        self.hotspot_header_changed.emit(self._hotspot_header)

    def hotspots_failed(self, message: str) -> None:
        self._hotspot_header = t("hotspots_failed", error=message)
        self.hotspot_header_changed.emit(self._hotspot_header)
