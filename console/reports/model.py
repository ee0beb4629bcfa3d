"""Qt-free models behind the report view and the hot-spot widget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from console.reports.strings import t
from dispatch.reports.charts import chart_counts, chart_stages, figure_png, summary_rows
from dispatch.reports.messages import HotspotItem, MonthlyReport


@dataclass(frozen=True)
class HotspotRow:
    text: str
    tooltip: str
    event_ids: tuple[str, ...]


def hotspot_rows(items: tuple[HotspotItem, ...] | list[HotspotItem]) -> list[HotspotRow]:
    """One line per warning, most surprising first (the order given)."""
    out = []
    for h in items:
        kind = t("kind.category") if h.kind == "category" else t("kind.grid")
        out.append(
            HotspotRow(
                text=t("hotspot", kind=kind, label=h.label, count=h.count, baseline=h.baseline),
                tooltip=t("hotspot_tip", p=h.p_value, n=len(h.event_ids)),
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
    for s in (report.mediation, report.rollcall, report.cameras):
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
