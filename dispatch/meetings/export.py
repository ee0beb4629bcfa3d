"""The week's video meetings as rows of the 调度日志 (the roll-call log export,
`dispatch.rollcall.export`): one row per meeting planned that week with its times,
who joined when, who was absent, who spoke, the recording and its SHA-256, and the
minutes. Pure: the caller reads the meetings and their logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from dispatch.domain.calendar import CHINA_TZ
from dispatch.meetings import core as mc

MEETING_HEADER = [
    "会议",
    "召集人",
    "计划开始",
    "状态",
    "开会",
    "散会",
    "时长(分)",
    "邀请",
    "入会（时间）",
    "未入会",
    "发言",
    "录像",
    "录像 SHA-256",
    "会议纪要",
]


def _t(dt: datetime | None) -> str:
    return "" if dt is None else dt.astimezone(CHINA_TZ).strftime("%m-%d %H:%M")


def meeting_rows(
    meetings: Sequence[mc.Meeting],
    logs: Mapping[str, Sequence[mc.LogEntry]],
    names: Mapping[str, str],
    now: datetime,
) -> list[list[str]]:
    out = []
    for m in meetings:
        att = mc.attendance(m, logs.get(m.id, ()), now)
        order = sorted(att.joined.items(), key=lambda x: x[1])
        joined = "、".join(f"{names.get(c, c)}（{_t(at)[-5:]}）" for c, at in order)
        out.append(
            [
                m.title,
                m.convenor,
                _t(m.start_at),
                mc.STATUS_ZH[m.status],
                _t(m.opened_at),
                _t(m.ended_at),
                "" if att.duration_s is None else f"{att.duration_s / 60:.0f}",
                str(len(m.invited)),
                joined,
                "、".join(names.get(c, c) for c in att.absent) if m.opened_at else "",
                "、".join(names.get(c, c) for c in att.speakers),
                m.recording or "",
                m.recording_sha256 or "",
                m.minutes,
            ]
        )
    return out
