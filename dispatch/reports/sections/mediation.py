"""The monthly report's mediation section, from the `mediation_sessions` table.

Counts the mediation sessions opened in the month and closed by the report's cut-off,
by outcome (达成协议 / 未达成协议 / 转诉讼), with the agreement rate and the mean
duration. Sessions still open are counted apart, so every figure can be recounted with
one query on the table.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, and_, func, select

from dispatch.mediation import store as ms
from dispatch.reports.core import Section, SectionFigure

OUTCOME_LABELS: dict[str, str] = {
    "agreement": "达成协议",
    "no_agreement": "未达成协议",
    "referred": "转诉讼",
}


class MediationSection:
    """`SectionProvider` for 调解情况."""

    title = "调解情况"

    def section(self, engine: Engine, start: datetime, end: datetime) -> Section | None:
        s, e = start.astimezone(UTC), end.astimezone(UTC)
        t = ms.mediation_sessions
        in_month = and_(t.c.opened_at >= s, t.c.opened_at < e)
        closed_by_cutoff = and_(in_month, t.c.closed_at.is_not(None), t.c.closed_at < e)
        with engine.connect() as conn:
            by: dict[str, int] = {
                str(outcome): int(n)
                for outcome, n in conn.execute(
                    select(t.c.outcome, func.count()).where(closed_by_cutoff).group_by(t.c.outcome)
                )
            }
            total_s = conn.execute(
                select(func.coalesce(func.sum(t.c.duration_s), 0.0)).where(closed_by_cutoff)
            ).scalar_one()
            still_open = conn.execute(
                select(func.count()).where(in_month, t.c.closed_at.is_(None) | (t.c.closed_at >= e))
            ).scalar_one()
        closed = sum(by.values())
        if closed == 0 and still_open == 0:
            return None
        rows = [SectionFigure(label="调解场次（已结束）", value=str(closed))]
        for key, label in OUTCOME_LABELS.items():
            rows.append(SectionFigure(label=label, value=str(by.get(key, 0))))
        rate = f"{100 * by.get('agreement', 0) / closed:.1f}%" if closed else "—"
        rows.append(SectionFigure(label="调解成功率", value=rate))
        mean = f"{float(total_s) / 60 / closed:.1f} 分钟" if closed else "—"
        rows.append(SectionFigure(label="平均时长", value=mean))
        rows.append(SectionFigure(label="进行中", value=str(still_open)))
        return Section(
            title=self.title,
            available=True,
            figures=tuple(rows),
            note="调解成功率 = 达成协议场次 / 已结束场次（按开启时间计入本月）",
        )
