"""The monthly report's camera section, from the patrol's `camera_checks` table.

Online rate: the share of patrol samples in the month that found the camera online.
Quality rate (完好率): the share of the online samples with no picture fault. Both
are over samples, so a camera patrolled more often weighs more; the per-camera figures
behind them are in `camera_checks` and can be recounted with one query.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from dispatch.patrol import store as ps
from dispatch.reports.core import Section, SectionFigure


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


class PatrolCameraSection:
    """`SectionProvider` for 视频监控在线率与完好率."""

    title = "视频监控在线率与完好率"

    def section(self, engine: Engine, start: datetime, end: datetime) -> Section | None:
        with engine.connect() as conn:
            samples, online, healthy = ps.rates(conn, start, end)
            if samples == 0:
                return None
            t = ps.camera_checks
            cameras = conn.execute(
                select(func.count(func.distinct(t.c.camera))).where(
                    t.c.at >= start.astimezone(UTC), t.c.at < end.astimezone(UTC)
                )
            ).scalar_one()
            f = ps.camera_fault_events
            raised = conn.execute(
                select(func.count()).where(
                    f.c.raised_at >= start.astimezone(UTC), f.c.raised_at < end.astimezone(UTC)
                )
            ).scalar_one()
            recovered = conn.execute(
                select(func.count()).where(
                    f.c.recovered_at >= start.astimezone(UTC),
                    f.c.recovered_at < end.astimezone(UTC),
                )
            ).scalar_one()
        return Section(
            title=self.title,
            available=True,
            figures=(
                SectionFigure(label="巡检摄像机数", value=str(cameras)),
                SectionFigure(label="巡检次数", value=str(samples)),
                SectionFigure(label="在线率", value=_pct(online)),
                SectionFigure(label="完好率（在线中画面正常）", value=_pct(healthy)),
                SectionFigure(label="设备故障工单", value=str(raised)),
                SectionFigure(label="已恢复", value=str(recovered)),
            ),
            note=(
                "在线率 = 在线巡检次数 / 巡检次数；完好率 = 画面无故障的在线巡检次数 / 在线巡检次数"
            ),
        )
