"""The monthly report as a multi-page Chinese PDF (title page, summary table, charts,
stage times, overdue list, hot spots), drawn with the charts of `dispatch.reports.charts`
(its CJK font and its drawing lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from dispatch.reports.charts import (
    A4,
    chart_counts,
    chart_stages,
    hours,
    local_text,
    month_zh,
    new_figure,
    rendering,
    summary_rows,
)
from dispatch.reports.core import STAGE_LABELS_ZH, MonthlyReport, Section
from streams.private import private_file


def _table_page(
    title: str, header: Sequence[str], rows: Sequence[Sequence[str]], note: str = ""
) -> Figure:
    fig = new_figure(A4)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=16)
    if rows:
        table = ax.table(
            cellText=[list(r) for r in rows], colLabels=list(header), loc="upper center"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        table.scale(1, 1.5)
        for (r, _c), cell in table.get_celld().items():
            if r == 0:
                cell.set_facecolor("#dde6f3")
    else:
        ax.text(0.5, 0.8, note or "本月无数据", ha="center", va="center", fontsize=13)
    if rows and note:
        fig.text(0.05, 0.02, note, fontsize=9)
    return fig


def _section_rows(section: Section) -> list[tuple[str, str, str]]:
    if not section.available:
        return [(section.title, "—", section.note)]
    return [(section.title, f.label, f.value) for f in section.figures]


@rendering
def title_page(report: MonthlyReport) -> Figure:
    fig = new_figure(A4)
    fig.text(0.5, 0.70, report.county, ha="center", fontsize=26)
    fig.text(0.5, 0.60, "信息月报", ha="center", fontsize=34, weight="bold")
    fig.text(0.5, 0.52, month_zh(report), ha="center", fontsize=22)
    fig.text(
        0.5,
        0.40,
        f"统计区间：{local_text(report.start, report)} 至 {local_text(report.cutoff, report)}",
        ha="center",
        fontsize=12,
    )
    fig.text(
        0.5, 0.36, f"生成时间：{local_text(report.generated_at, report)}", ha="center", fontsize=12
    )
    fig.text(
        0.5,
        0.12,
        "所有数据均取自事件库（受理、流转、派单记录），口径见 docs/reports.md",
        ha="center",
        fontsize=10,
        color="#555555",
    )
    return fig


@rendering
def summary_page(report: MonthlyReport) -> Figure:
    rows = [(a, b, "") for a, b in summary_rows(report)]
    for s in (report.mediation, report.rollcall, report.meetings, report.cameras):
        rows.extend(_section_rows(s))
    return _table_page(
        f"{month_zh(report)} 主要指标",
        ["指标", "数值", "说明"],
        rows,
        "化解率：本月受理事件中，截至统计截止已归档或已反馈并核查的比例；"
        "超期率：本月受理事件中，任一环节超过时限的比例。",
    )


_STAGE_ZH = STAGE_LABELS_ZH


@rendering
def overdue_page(report: MonthlyReport, limit: int = 30) -> Figure:
    rows = [
        (
            o.event_id,
            o.title[:18],
            o.category,
            o.township,
            _STAGE_ZH.get(o.stage, o.stage),
            local_text(o.deadline, report),
            hours(o.overdue_by_s),
            "未办结" if o.still_open else "已超期办结",
        )
        for o in report.overdue_items[:limit]
    ]
    more = len(report.overdue_items) - len(rows)
    note = f"另有 {more} 件未列出" if more > 0 else ""
    return _table_page(
        f"超期事件（{len(report.overdue_items)} 件）",
        ["编号", "标题", "类别", "乡镇", "环节", "时限", "超出", "状态"],
        rows,
        note,
    )


@rendering
def hotspot_page(report: MonthlyReport) -> Figure:
    rows = [
        (
            "类别" if h.kind == "category" else "网格",
            h.label,
            str(h.count),
            f"{h.baseline:.1f}",
            f"{h.p_value:.1e}",
            "、".join(h.event_ids[:4]) + (" …" if len(h.event_ids) > 4 else ""),
        )
        for h in report.hotspots
    ]
    return _table_page(
        "热点预警（最近7天相对前8周）",
        ["维度", "名称", "本期", "历史均值", "P值", "事件"],
        rows,
        "本期无热点" if not rows else "方法：泊松上尾检验，本期≥5件且≥历史均值2倍且P<0.01",
    )


@rendering
def pages(report: MonthlyReport) -> list[Figure]:
    return [
        title_page(report),
        summary_page(report),
        chart_counts(report),
        chart_stages(report),
        overdue_page(report),
        hotspot_page(report),
    ]


@rendering
def write_pdf(report: MonthlyReport, out: Path) -> Path:
    """Write the report as a PDF; the folder is created; returns `out`."""
    figs = pages(report)
    tmp = private_file(out.with_suffix(out.suffix + ".part"))  # 0600 in a 0700 folder
    with PdfPages(tmp, metadata={"Title": f"{report.county} 信息月报 {month_zh(report)}"}) as pdf:
        for fig in figs:
            pdf.savefig(fig)
    tmp.replace(out)
    return out
