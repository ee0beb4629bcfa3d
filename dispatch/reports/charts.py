"""The monthly report's charts drawn with matplotlib (Agg), shared by the console (as
PNG, `figure_png`) and the PDF (`dispatch.reports.pdf`): the CJK font, the one drawing
lock, the summary rows and the count and stage charts. Pure drawing from the report's
value types; no store.

Chinese needs a CJK font: `cjk_font()` finds WenQuanYi Micro Hei (Debian
`fonts-wqy-microhei`) or another CJK font through `matplotlib.font_manager` and raises
`FontMissing` with the package to install when there is none.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dispatch.reports.core import (
    Count,
    Durations,
    MonthlyReport,
)

CJK_FONT_NAMES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
)
CJK_FONT_FILES = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "sourcehansans")
A4 = (8.27, 11.69)
LANDSCAPE = (11.69, 8.27)
_COLOURS = ["#2f6db5", "#e07b39", "#3a9e5c", "#c23b3b", "#8a63b8", "#8c6d31", "#d16ba5", "#7f7f7f"]


class FontMissing(RuntimeError):
    """No CJK font: Chinese would render as boxes."""


@dataclass(frozen=True)
class CjkFont:
    name: str
    path: str


_P = ParamSpec("_P")
_R = TypeVar("_R")

# matplotlib (and the FreeType fonts it caches) is not thread-safe: two threads drawing
# text at once crashed the interpreter (segfault in get_text_width_height_descent). Every
# function here that builds or draws a figure holds this lock; so must other modules that
# draw with matplotlib (rollcall_export uses `rendering`).
RENDER_LOCK = threading.RLock()


def rendering(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `fn` holding RENDER_LOCK."""

    @functools.wraps(fn)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with RENDER_LOCK:
            return fn(*args, **kwargs)

    return locked


@cache
def cjk_font() -> CjkFont:
    """The CJK font matplotlib will use; FontMissing when none is installed."""
    for entry in font_manager.fontManager.ttflist:
        if entry.name in CJK_FONT_NAMES:
            return CjkFont(entry.name, entry.fname)
    for path in font_manager.findSystemFonts():
        low = Path(path).name.lower()
        if any(key in low for key in CJK_FONT_FILES):
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
            return CjkFont(name, path)
    raise FontMissing(
        "no CJK font found for the report (报表缺少中文字体): install the Debian package "
        "fonts-wqy-microhei (apt-get install fonts-wqy-microhei) and remove matplotlib's "
        f"font cache in {matplotlib.get_cachedir()}"
    )


def new_figure(size: tuple[float, float]) -> Figure:
    font = cjk_font()
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    matplotlib.rcParams["font.family"] = [font.name, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return fig


def hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f} 小时"


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} 分钟"


def month_zh(report: MonthlyReport) -> str:
    return f"{report.month.year}年{report.month.month}月"


def local_text(dt: datetime, report: MonthlyReport) -> str:
    return dt.astimezone(report.start.tzinfo).strftime("%Y-%m-%d %H:%M")


def summary_rows(report: MonthlyReport) -> list[tuple[str, str]]:
    """The summary table: (figure, value), the same on screen and in the PDF."""
    d = report.dispatch
    return [
        ("受理事件数", str(report.accepted)),
        (
            "化解率",
            f"{report.resolution.percent()} ({report.resolution.numerator}/"
            f"{report.resolution.denominator})",
        ),
        (
            "超期率",
            f"{report.overdue.percent()} ({report.overdue.numerator}/{report.overdue.denominator})",
        ),
        ("派单数", str(d.tasks_sent)),
        ("接单数", str(d.tasks_accepted)),
        ("平均接单用时", minutes(d.ack.mean_s)),
        ("接单用时中位数", minutes(d.ack.median_s)),
        ("接单用时90分位", minutes(d.ack.p90_s)),
        ("任务退回", str(d.task_returns)),
        ("超时升级", str(d.task_escalations)),
        ("事件退单", str(d.event_returns)),
        ("热点预警", str(len(report.hotspots))),
    ]


def _bar(ax: object, counts: Sequence[Count], title: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.set_title(title)
    if not counts:
        ax.text(0.5, 0.5, "本月无数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    labels = [c.label for c in counts][::-1]
    values = [c.count for c in counts][::-1]
    bars = ax.barh(labels, values, color=_COLOURS[0])
    ax.bar_label(bars, padding=2)
    ax.set_xlabel("事件数")
    ax.margins(x=0.15)


def _pie(ax: object, counts: Sequence[Count], title: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.set_title(title)
    if not counts:
        ax.text(0.5, 0.5, "本月无数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    ax.pie(
        [c.count for c in counts],
        labels=[f"{c.label} {c.count}" for c in counts],
        autopct="%1.0f%%",
        colors=_COLOURS[: len(counts)],
        startangle=90,
        counterclock=False,
    )
    ax.axis("equal")


@rendering
def chart_counts(report: MonthlyReport) -> Figure:
    """By category (bar), township (bar) and source (pie)."""
    fig = new_figure(LANDSCAPE)
    grid = fig.add_gridspec(2, 2)
    _bar(fig.add_subplot(grid[:, 0]), report.by_category, "按类别")
    _bar(fig.add_subplot(grid[0, 1]), report.by_township, "按乡镇（街道）")
    _pie(fig.add_subplot(grid[1, 1]), report.by_source, "按来源")
    fig.suptitle(f"{month_zh(report)} 事件分布（共 {report.accepted} 件）", fontsize=16)
    return fig


def _stage_values(d: Durations) -> float:
    return (d.mean_s or 0.0) / 3600


@rendering
def chart_stages(report: MonthlyReport) -> Figure:
    """Mean and median hours in each state, and the acknowledgement times."""
    fig = new_figure(LANDSCAPE)
    ax = fig.add_subplot(1, 1, 1)
    labels = [f"{s.label}\n({s.durations.count} 次)" for s in report.stage_times]
    means = [_stage_values(s.durations) for s in report.stage_times]
    medians = [(s.durations.median_s or 0.0) / 3600 for s in report.stage_times]
    x = list(range(len(labels)))
    b1 = ax.bar([i - 0.2 for i in x], means, width=0.4, label="平均", color=_COLOURS[0])
    b2 = ax.bar([i + 0.2 for i in x], medians, width=0.4, label="中位数", color=_COLOURS[1])
    ax.bar_label(b1, fmt="%.1f", padding=2)
    ax.bar_label(b2, fmt="%.1f", padding=2)
    ax.set_xticks(x, labels)
    ax.set_ylabel("小时")
    ax.legend()
    ax.set_title(f"{month_zh(report)} 各环节平均用时（小时）", fontsize=16)
    return fig


@rendering
def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
