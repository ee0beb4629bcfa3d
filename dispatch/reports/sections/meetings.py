"""The monthly report's video meetings section (视频会议), from `meetings` and
`meeting_log`: the meetings held in the month (opened), their total duration, the
attendance (centres that joined out of centres invited, and the absences), and the floor
grants (点名发言). Cancelled meetings are counted apart. A `SectionProvider` for
`SectionProviders(meetings=…)`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from dispatch.meetings import core as mc
from dispatch.meetings import store as ms
from dispatch.reports.core import Section, SectionFigure


class MeetingsSection:
    """`SectionProvider` for 视频会议."""

    title = "视频会议"

    def section(self, engine: Engine, start: datetime, end: datetime) -> Section | None:
        rows = ms.between(engine, start, end)
        if not rows:
            return None
        held = [m for m in rows if m.opened_at is not None]
        logs = ms.logs_of(engine, [m.id for m in held])
        invited = joined = floors = 0
        duration = 0.0
        absences = 0
        for m in held:
            att = mc.attendance(m, logs[m.id], end)
            invited += len(m.invited)
            joined += len(att.joined)
            floors += len(att.speakers)
            duration += att.duration_s or 0.0
            absences += len(att.absent)
        figures = [
            SectionFigure(label="召开会议", value=str(len(held))),
            SectionFigure(label="取消会议", value=str(sum(m.status == "cancelled" for m in rows))),
        ]
        if held:
            share = f"{100 * joined / invited:.0f}%" if invited else "—"
            figures += [
                SectionFigure(label="会议总时长", value=f"{duration / 60:.0f} 分钟"),
                SectionFigure(label="入会中心", value=f"{joined}/{invited}（{share}）"),
                SectionFigure(label="点名发言次数", value=str(floors)),
            ]
            figures.append(SectionFigure(label="未入会（中心·次）", value=str(absences)))
        return Section(title=self.title, available=True, figures=tuple(figures))
