"""Export one week of the roll-call log (调度日志): CSV (UTF-8 with BOM, opens in Excel)
and a Chinese PDF (matplotlib `PdfPages`, the CJK font of `dispatch.reports.charts`): the
coverage per township and for the county, the log, and the answerers' snapshots."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall.core import OUTCOME_ZH, CallRecord, Centre, Coverage, Run
from dispatch.rollcall.messages import ExportFormat
from streams.private import private_dir, private_file, write_private

CSV_HEADER = [
    "周",
    "点名批次",
    "乡镇/街道",
    "中心",
    "呼叫次序",
    "结果",
    "振铃时间",
    "接听时间",
    "接听用时(秒)",
    "通话时长(秒)",
    "应答人快照",
    "值班员备注",
]
ROWS_PER_PAGE = 26
SHOTS_PER_PAGE = 6


def _t(dt: datetime | None) -> str:
    return "" if dt is None else dt.astimezone(CHINA_TZ).strftime("%m-%d %H:%M:%S")


def _n(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}"


def week_title(week: date) -> str:
    iso = week.isocalendar()
    end = week + timedelta(days=6)
    return f"{iso.year}年第{iso.week}周（{week.month}月{week.day}日—{end.month}月{end.day}日）"


def log_rows(
    week: date, runs: Sequence[Run], centres: Mapping[str, Centre]
) -> list[tuple[Run, CallRecord, list[str]]]:
    out = []
    for r in runs:
        for c in r.calls:
            centre = centres.get(c.centre_id)
            out.append(
                (
                    r,
                    c,
                    [
                        week.isoformat(),
                        r.id,
                        centre.township_name if centre else "",
                        centre.name if centre else c.centre_id,
                        "首次" if c.attempt == 1 else "补呼",
                        OUTCOME_ZH[c.outcome],
                        _t(c.rang_at),
                        _t(c.answered_at),
                        _n(c.answer_s),
                        _n(c.duration_s),
                        c.snapshot or "",
                        c.note,
                    ],
                )
            )
    return out


def week_csv(week: date, runs: Sequence[Run], centres: Mapping[str, Centre]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for _, _, row in log_rows(week, runs, centres):
        w.writerow(row)
    return "\ufeff" + buf.getvalue()


def meetings_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The week's video meetings (`dispatch.meetings.export.meeting_rows`), as CSV."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return "\ufeff" + buf.getvalue()


def meetings_page(
    pdf: Any, week: date, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """One PDF page: the week's video meetings (title, times, attendance, speakers)."""
    from dispatch.reports.charts import A4
    from dispatch.reports.charts import new_figure as _figure

    fig = _figure(A4)
    fig.suptitle(f"视频会议 · {week_title(week)}", fontsize=12)
    ax = fig.add_subplot(1, 1, 1)
    ax.axis("off")
    lines = []
    for r in rows:
        times = f"开会 {r[4] or '—'}，散会 {r[5] or '—'}，{r[6] or '—'} 分钟"
        lines.append(f"{r[0]}（{r[3]}）计划 {r[2]}，{times}")
        lines.append(f"  入会：{r[8] or '无'}")
        lines.append(f"  未入会：{r[9] or '无'}；发言：{r[10] or '无'}")
        if r[11]:
            lines.append(f"  录像：{r[11]}  SHA-256 {r[12]}")
    ax.text(0, 1, "\n".join(lines) or "本周没有视频会议", va="top", fontsize=8, wrap=True)
    pdf.savefig(fig)


def week_pdf(
    path: Path,
    week: date,
    runs: Sequence[Run],
    coverage: Sequence[Coverage],
    centres: Mapping[str, Centre],
    county: str,
    meetings: tuple[Sequence[str], Sequence[Sequence[str]]] | None = None,
) -> None:
    from matplotlib.backends.backend_pdf import PdfPages
    from PIL import Image

    from dispatch.reports.charts import A4, RENDER_LOCK
    from dispatch.reports.charts import new_figure as _figure

    with RENDER_LOCK:  # matplotlib is not thread-safe (see dispatch.reports.charts.RENDER_LOCK)
        rows = log_rows(week, runs, centres)
        with PdfPages(path) as pdf:
            fig = _figure(A4)
            fig.suptitle(f"{county} 视频点名调度日志\n{week_title(week)}", fontsize=15)
            ax = fig.add_subplot(2, 1, 1)
            ax.axis("off")
            table = [
                [c.name, str(c.due), str(c.reached), f"{c.share:.0%}", str(c.exempt)]
                for c in coverage
            ]
            t = ax.table(
                cellText=table,
                colLabels=["乡镇/街道", "应点名", "已点到", "覆盖率", "豁免"],
                loc="upper center",
            )
            t.scale(1, 1.4)
            ax.set_title("本周覆盖情况（已点到 / 应点名）", fontsize=12)
            ax2 = fig.add_subplot(2, 1, 2)
            ax2.axis("off")
            lines = [
                f"点名批次 {r.id}：{_t(r.started_at)} 开始，发起人 {r.started_by or '—'}，"
                f"应点名 {len(r.due)} 个，豁免 {len(r.exempt)} 个，状态 "
                + {"running": "进行中", "stopped": "已暂停", "done": "已完成"}[r.status]
                for r in runs
            ] or ["本周没有点名记录"]
            ax2.text(0, 1, "\n".join(lines), va="top", fontsize=9, wrap=True)
            pdf.savefig(fig)
            cols = [0, 2, 3, 4, 5, 6, 8, 9, 11]
            for start in range(0, max(1, len(rows)), ROWS_PER_PAGE):
                fig = _figure(A4)
                fig.suptitle(f"调度日志 · {week_title(week)}", fontsize=12)
                ax = fig.add_subplot(1, 1, 1)
                ax.axis("off")
                chunk = rows[start : start + ROWS_PER_PAGE]
                cells = [[row[i] for i in cols] for _, _, row in chunk] or [[""] * len(cols)]
                t = ax.table(
                    cellText=cells,
                    colLabels=[CSV_HEADER[i] for i in cols],
                    loc="upper center",
                )
                t.auto_set_font_size(False)
                t.set_fontsize(6.5)
                t.scale(1, 1.25)
                pdf.savefig(fig)
            shots = [(r, c) for r, c, _ in rows if c.snapshot and Path(c.snapshot).is_file()]
            for start in range(0, len(shots), SHOTS_PER_PAGE):
                fig = _figure(A4)
                fig.suptitle(f"应答人快照 · {week_title(week)}", fontsize=12)
                for k, (_, c) in enumerate(shots[start : start + SHOTS_PER_PAGE]):
                    ax = fig.add_subplot(3, 2, k + 1)
                    ax.axis("off")
                    with Image.open(c.snapshot or "") as im:
                        ax.imshow(im.convert("RGB"))
                    centre = centres.get(c.centre_id)
                    name = f"{centre.township_name} {centre.name}" if centre else c.centre_id
                    ax.set_title(
                        f"{name}\n接听 {_t(c.answered_at)}  用时 {_n(c.answer_s)} 秒", fontsize=8
                    )
                pdf.savefig(fig)
            if meetings is not None:
                meetings_page(pdf, week, *meetings)


def export_week(
    out_dir: Path,
    week: date,
    runs: Sequence[Run],
    coverage: Sequence[Coverage],
    centres: Mapping[str, Centre],
    county: str,
    formats: Sequence[ExportFormat] = ("csv", "pdf"),
    meetings: tuple[Sequence[str], Sequence[Sequence[str]]] | None = None,
) -> list[Path]:
    """The week's log as CSV and/or PDF; with `meetings` (header, rows) the week's video
    meetings too: `meetings-<week>.csv` and a page of the PDF."""
    private_dir(out_dir)
    stem = f"rollcall-{week.isoformat()}"
    files: list[Path] = []
    if "csv" in formats:
        p = out_dir / f"{stem}.csv"
        write_private(p, week_csv(week, runs, centres).encode("utf-8"))
        files.append(p)
        if meetings is not None:
            p = out_dir / f"meetings-{week.isoformat()}.csv"
            write_private(p, meetings_csv(*meetings).encode("utf-8"))
            files.append(p)
    if "pdf" in formats:
        p = out_dir / f"{stem}.pdf"
        week_pdf(private_file(p), week, runs, coverage, centres, county, meetings)
        files.append(p)
    return files
