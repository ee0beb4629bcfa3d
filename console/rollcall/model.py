"""Qt-free rows for the roll-call panel, made from the hub's typed replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall.messages import (
    CentreInfo,
    CoverageInfo,
    ExemptionInfo,
    RunInfo,
    ScheduleInfo,
)

WEEKDAYS_ZH = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
STATUS_ZH = {"running": "进行中", "stopped": "已暂停", "done": "已完成"}
REASON_ZH = {"holiday": "节假日闭所", "repair": "设备维修", "other": "其他"}
LEVEL_ZH = {"township": "乡镇/街道", "village": "村/社区"}


def hm(dt: datetime | None) -> str:
    return "" if dt is None else dt.astimezone(CHINA_TZ).strftime("%m-%d %H:%M:%S")


def secs(x: float | None) -> str:
    return "" if x is None else f"{x:.1f} 秒"


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    tone: str = ""  # "", "ok", "warn", "bad", "busy"


def roster_rows(centres: list[CentreInfo], exemptions: list[ExemptionInfo]) -> list[Row]:
    by_centre: dict[str, list[ExemptionInfo]] = {}
    for e in exemptions:
        by_centre.setdefault(e.centre_id, []).append(e)
    out = []
    for c in centres:
        exs = "；".join(
            f"{REASON_ZH[e.reason]} {e.start:%m-%d}至{e.end:%m-%d}" for e in by_centre.get(c.id, [])
        )
        out.append(
            Row(
                (
                    c.township_name,
                    ("　" if c.level == "village" else "") + c.name,
                    LEVEL_ZH[c.level],
                    "在线" if c.online else "离线",
                    exs,
                ),
                "ok" if c.online else ("warn" if c.exempt else "bad"),
            )
        )
    return out


def schedule_text(s: ScheduleInfo | None) -> str:
    if s is None:
        return "未设置计划"
    nxt = hm(s.next_run) if s.next_run else "—"
    state = "" if s.enabled else "（已停用）"
    return (
        f"每周{WEEKDAYS_ZH[s.weekday][1]} {s.at} 自动点名{state}；振铃 {s.ring_s:.0f} 秒，"
        f"每批 {s.batch} 个；下次点名：{nxt}"
    )


def run_rows(run: RunInfo, names: dict[str, tuple[str, str]]) -> list[Row]:
    """One row per due centre: first call, re-call, times, note; ringing ones marked."""
    calls = {(c.centre_id, c.attempt): c for c in run.calls}
    out = []
    for cid in run.due:
        town, name = names.get(cid, ("", cid))
        first, again = calls.get((cid, 1)), calls.get((cid, 2))
        if cid in run.in_call:
            state, tone = "通话中", "busy"
        elif cid in run.ringing:
            state, tone = "呼叫中…", "busy"
        elif first is None:
            state, tone = "等待", ""
        elif first.outcome == "answered" or (again is not None and again.outcome == "answered"):
            state, tone = "已点到", "ok"
        elif again is None:
            state, tone = "待补呼", "warn"
        else:
            state, tone = "未点到", "bad"
        best = again if again is not None and again.outcome == "answered" else first
        out.append(
            Row(
                (
                    town,
                    name,
                    state,
                    first.outcome_zh if first else "",
                    again.outcome_zh if again else "",
                    secs(best.answer_s) if best else "",
                    secs(best.duration_s) if best else "",
                    "有" if best and best.snapshot else "",
                    "；".join(x.note for x in (first, again) if x is not None and x.note),
                ),
                tone,
            )
        )
    return out


def run_summary(run: RunInfo | None) -> str:
    if run is None:
        return "尚无点名"
    reached = {c.centre_id for c in run.calls if c.outcome == "answered"}
    made = len({c.centre_id for c in run.calls if c.attempt == 1})
    left = len(run.recalls) - sum(1 for c in run.calls if c.attempt == 2)
    return (
        f"点名 {run.id}（{STATUS_ZH[run.status]}）：已呼叫 {made}/{len(run.due)}，"
        f"已点到 {len(reached)}，待补呼 {left}，"
        f"豁免 {len(run.exempt)}"
    )


def coverage_rows(cov: list[CoverageInfo]) -> list[Row]:
    out = []
    for c in cov:
        share = c.reached / c.due if c.due else 1.0
        out.append(
            Row(
                (c.name, str(c.due), str(c.reached), f"{share:.0%}", str(c.exempt)),
                "ok" if share >= 1.0 else ("warn" if share >= 0.9 else "bad"),
            )
        )
    return out
