"""The monthly report's roll-call section (点名覆盖), from `rollcall_runs` and
`rollcall_log`: the runs started in the month, each week's coverage (centres reached out
of centres due in that week's runs; a centre that answered without its camera is reached),
the share of first calls answered, the calls answered without video (应答（无画面）) and the
mean time to answer. A `SectionProvider` for
`dispatch.reports.store.SectionProviders(rollcall=…)`."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from dispatch.reports.core import Section, SectionFigure
from dispatch.rollcall import store as rs
from dispatch.rollcall.core import ANSWERED


def week_label(week: date) -> str:
    iso = week.isocalendar()
    return f"第{iso.week}周（{week.month}月{week.day}日起）"


class RollcallSection:
    """`SectionProvider` for 点名覆盖."""

    title = "点名覆盖"

    def section(self, engine: Engine, start: datetime, end: datetime) -> Section | None:
        s, e = start.astimezone(UTC), end.astimezone(UTC)
        with engine.connect() as conn:
            ids = [
                r.id
                for r in conn.execute(
                    select(rs.runs.c.id).where(rs.runs.c.started_at >= s, rs.runs.c.started_at < e)
                )
            ]
        runs = [r for r in (rs.load_run(engine, i) for i in ids) if r is not None]
        if not runs:
            return None
        due: dict[date, set[str]] = {}
        reached: dict[date, set[str]] = {}
        firsts = answered = no_video = 0
        waits: list[float] = []
        for run in runs:
            due.setdefault(run.week, set()).update(run.due)
            got = reached.setdefault(run.week, set())
            for c in run.calls:
                if c.outcome in ANSWERED:
                    got.add(c.centre_id)
                no_video += c.outcome == "no_camera"
                if c.attempt == 1:
                    firsts += 1
                    answered += c.outcome in ANSWERED
                if c.answer_s is not None and c.outcome in ANSWERED:
                    waits.append(c.answer_s)
        figures = [SectionFigure(label="点名次数", value=str(len(runs)))]
        for week in sorted(due):
            n, k = len(due[week]), len(reached[week] & due[week])
            share = f"{100 * k / n:.0f}%" if n else "无应点名中心"
            figures.append(SectionFigure(label=week_label(week), value=f"{k}/{n}（{share}）"))
        full = sum(1 for w in due if reached[w] >= due[w])
        figures.append(SectionFigure(label="全覆盖周数", value=f"{full}/{len(due)}"))
        if firsts:
            figures.append(
                SectionFigure(label="首次呼叫接通率", value=f"{100 * answered / firsts:.1f}%")
            )
        if no_video:
            figures.append(SectionFigure(label="应答（无画面）次数", value=str(no_video)))
        if waits:
            figures.append(
                SectionFigure(label="平均接听用时", value=f"{sum(waits) / len(waits):.1f} 秒")
            )
        return Section(title=self.title, available=True, figures=tuple(figures))
