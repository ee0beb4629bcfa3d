"""Video meetings (综治视联网) of the county with its townships and villages: pure state.

No I/O, no clock reads: every function takes `now` (an aware datetime) where it needs one.

- A `Meeting` is planned by a convenor (the duty officer) for a start time with a title,
  an agenda and the centres it invites (`validate_plan`: a title, at least one invited
  centre, every one of them a centre of the site, no duplicates).
- Its status goes planned → open (the media room exists, stations may join) → ended;
  a planned meeting may be cancelled. `advance` refuses every other step.
- What happened is an append-only log of `LogEntry` rows (join, leave, floor, hand,
  mute, unmute, kick, lock, unlock, open, end). The meeting's record is derived from
  the log alone (`attendance`): who joined first when, who never joined (absent), who
  had the floor (the speakers, in order), how long it lasted.
- The floor (点名发言): at most one centre speaks; every other participant is muted
  (`mutes_for_floor` says which feeds to mute and which to unmute).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall.core import Centre

Status = Literal["planned", "open", "ended", "cancelled"]
STATUS_ZH: dict[str, str] = {
    "planned": "待召开",
    "open": "进行中",
    "ended": "已结束",
    "cancelled": "已取消",
}
Kind = Literal[
    "open", "end", "join", "leave", "floor", "hand", "mute", "unmute", "kick", "lock", "unlock"
]
KINDS: tuple[Kind, ...] = (
    "open",
    "end",
    "join",
    "leave",
    "floor",
    "hand",
    "mute",
    "unmute",
    "kick",
    "lock",
    "unlock",
)
KIND_ZH: dict[str, str] = {
    "open": "开会",
    "end": "散会",
    "join": "入会",
    "leave": "离会",
    "floor": "发言",
    "hand": "举手",
    "mute": "静音",
    "unmute": "取消静音",
    "kick": "移出会议",
    "lock": "锁定会议",
    "unlock": "解除锁定",
}
HALL = "hall"
"""The convenor's own participant (the county console) in the room."""
MAX_INVITED = 200
MAX_TITLE = 100
MAX_AGENDA = 4000
MAX_MINUTES = 20000
_STEPS: dict[Status, tuple[Status, ...]] = {
    "planned": ("open", "cancelled"),
    "open": ("ended",),
    "ended": (),
    "cancelled": (),
}


class MeetingError(ValueError):
    """A request the meetings cannot take; the message says which and why (zh / en)."""


@dataclass(frozen=True)
class Plan:
    """What the convenor asks for."""

    title: str
    convenor: str
    invited: tuple[str, ...]
    start_at: datetime
    agenda: str = ""


@dataclass(frozen=True)
class Meeting:
    id: str
    title: str
    convenor: str
    invited: tuple[str, ...]
    start_at: datetime
    agenda: str
    created_at: datetime
    status: Status = "planned"
    opened_at: datetime | None = None
    ended_at: datetime | None = None
    locked: bool = False
    floor: str | None = None  # the centre that has the floor
    minutes: str = ""
    recording: str | None = None  # the MP4's file name in the meeting's folder
    recording_sha256: str | None = None


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    kind: Kind
    centre: str = ""  # "" for the meeting as a whole (open, end, lock)
    detail: str = ""


@dataclass(frozen=True)
class Attendance:
    """The meeting's record derived from its log."""

    joined: dict[str, datetime] = field(default_factory=dict)  # centre → first join
    absent: tuple[str, ...] = ()  # invited, never joined
    present: tuple[str, ...] = ()  # in the room now (joined, not left)
    speakers: tuple[str, ...] = ()  # floor grants in order (a centre may appear again)
    hands: tuple[str, ...] = ()  # raised and not yet given the floor
    duration_s: float | None = None


def validate_plan(plan: Plan, roster: Sequence[Centre], now: datetime) -> Plan:
    """The plan, trimmed, or `MeetingError` saying what is wrong."""
    if now.tzinfo is None or plan.start_at.tzinfo is None:
        raise MeetingError("需要带时区的时间 / an aware datetime is needed")
    title = plan.title.strip()
    if not title:
        raise MeetingError("会议名称不能为空 / the title is empty")
    if len(title) > MAX_TITLE:
        raise MeetingError(f"会议名称超过 {MAX_TITLE} 字 / the title is too long")
    if len(plan.agenda) > MAX_AGENDA:
        raise MeetingError(f"议程超过 {MAX_AGENDA} 字 / the agenda is too long")
    if not plan.invited:
        raise MeetingError("至少邀请一个中心 / invite at least one centre")
    if len(plan.invited) > MAX_INVITED:
        raise MeetingError(f"最多邀请 {MAX_INVITED} 个中心 / too many centres")
    if len(set(plan.invited)) != len(plan.invited):
        raise MeetingError("邀请名单有重复 / a centre is invited twice")
    known = {c.id for c in roster}
    unknown = [c for c in plan.invited if c not in known]
    if unknown:
        raise MeetingError(f"未知的中心 {unknown[0]!r} / unknown centre")
    if plan.start_at < now - timedelta(hours=1):
        raise MeetingError("开始时间已过 / the start time is in the past")
    return replace(plan, title=title)


def new_meeting(meeting_id: str, plan: Plan, now: datetime) -> Meeting:
    return Meeting(
        id=meeting_id,
        title=plan.title,
        convenor=plan.convenor,
        invited=plan.invited,
        start_at=plan.start_at,
        agenda=plan.agenda,
        created_at=now,
    )


def advance(m: Meeting, to: Status, now: datetime) -> Meeting:
    """The meeting in status `to`, or `MeetingError` for a step that is not allowed."""
    if to not in _STEPS[m.status]:
        raise MeetingError(
            f"会议{STATUS_ZH[m.status]}，不能{_VERB_ZH[to]} / cannot go from {m.status} to {to}"
        )
    if to == "open":
        return replace(m, status=to, opened_at=now)
    return replace(m, status=to, ended_at=now, floor=None)


_VERB_ZH: dict[Status, str] = {
    "planned": "重新计划",
    "open": "开会",
    "ended": "散会",
    "cancelled": "取消",
}


def need_open(m: Meeting) -> None:
    if m.status != "open":
        raise MeetingError(f"会议{STATUS_ZH[m.status]} / the meeting is not open")


def need_invited(m: Meeting, centre: str) -> None:
    if centre not in m.invited:
        raise MeetingError(f"{centre!r} 未被邀请 / not invited to this meeting")


def countdown_s(m: Meeting, now: datetime) -> float:
    """Seconds until the planned start (0 once it is due)."""
    return max(0.0, (m.start_at - now).total_seconds())


def attendance(m: Meeting, log: Iterable[LogEntry], now: datetime) -> Attendance:
    """Who joined when, who was absent, who is in the room, who spoke, raised hands,
    and how long the meeting lasted (so far, while open)."""
    joined: dict[str, datetime] = {}
    present: list[str] = []
    speakers: list[str] = []
    hands: list[str] = []
    for e in sorted(log, key=lambda e: e.at):
        c = e.centre
        if e.kind == "join" and c:
            joined.setdefault(c, e.at)
            if c not in present:
                present.append(c)
        elif e.kind in ("leave", "kick") and c in present:
            present.remove(c)
        elif e.kind == "floor" and c:
            speakers.append(c)
            if c in hands:
                hands.remove(c)
        elif e.kind == "hand" and c and c not in hands:
            hands.append(c)
    if m.status != "open":
        present, hands = [], []
    absent = tuple(c for c in m.invited if c not in joined)
    return Attendance(
        joined=joined,
        absent=absent,
        present=tuple(present),
        speakers=tuple(speakers),
        hands=tuple(hands),
        duration_s=duration_s(m, now),
    )


def duration_s(m: Meeting, now: datetime) -> float | None:
    if m.opened_at is None:
        return None
    end = m.ended_at if m.ended_at is not None else now
    return max(0.0, (end - m.opened_at).total_seconds())


def mutes_for_floor(
    feeds: dict[int, str], floor: str | None, *, keep: Iterable[str] = (HALL,)
) -> dict[int, bool]:
    """Feed → muted, for the floor given to `floor` (None: everybody but `keep` muted).

    `feeds` maps each participant's feed id to its centre (its display name); the hall
    (`keep`) is never muted by a floor change."""
    kept = set(keep)
    return {f: not (c == floor or c in kept) for f, c in feeds.items()}


def status_line(m: Meeting, present: Sequence[str], names: dict[str, str]) -> str:
    """ "已入会 18/20，未入会：王家庄村、李庄村" (the console's status)."""
    here = [c for c in m.invited if c in present]
    missing = [names.get(c, c) for c in m.invited if c not in present]
    line = f"已入会 {len(here)}/{len(m.invited)}"
    if missing:
        line += "，未入会：" + "、".join(missing)
    return line


def floor_changes(log: Iterable[LogEntry]) -> list[tuple[datetime, str | None]]:
    """Who had the floor from when, from the log: a grant (floor), taken back (mute all,
    the end), or its holder removed (kick)."""
    out: list[tuple[datetime, str | None]] = []
    cur: str | None = None
    for e in log:
        granted = e.kind == "floor" and bool(e.centre)
        taken = (e.kind == "mute" and e.detail == "all") or e.kind == "end"
        removed = e.kind == "kick" and e.centre == cur
        new = e.centre if granted else None if taken or removed else cur
        if new != cur or granted:
            out.append((e.at, new))
        cur = new
    return out


def give_floor(m: Meeting, centre: str | None) -> Meeting:
    return replace(m, floor=centre)


def set_locked(m: Meeting, locked: bool) -> Meeting:
    return replace(m, locked=locked)


def replace_minutes(m: Meeting, minutes: str) -> Meeting:
    if len(minutes) > MAX_MINUTES:
        raise MeetingError(f"会议纪要超过 {MAX_MINUTES} 字 / the minutes are too long")
    if m.status == "cancelled":
        raise MeetingError("会议已取消 / the meeting was cancelled")
    return replace(m, minutes=minutes)


def with_recording(m: Meeting, name: str | None, sha256: str | None) -> Meeting:
    return replace(m, recording=name, recording_sha256=sha256)


def removed(log: Iterable[LogEntry], centre: str) -> bool:
    """The convenor removed this centre from the meeting (it may not join again)."""
    return any(e.kind == "kick" and e.centre == centre for e in log)


def may_join(m: Meeting, log: Sequence[LogEntry], centre: str, now: datetime) -> None:
    """`MeetingError` unless `centre` may join now: invited, the meeting open, not
    removed, and the meeting not locked (a centre already in the room may rejoin)."""
    need_invited(m, centre)
    need_open(m)
    if removed(log, centre):
        raise MeetingError("已被移出会议 / removed from this meeting")
    if m.locked and centre not in attendance(m, log, now).joined:
        raise MeetingError("会议已锁定 / the meeting is locked")


def week_bounds(week: date) -> tuple[datetime, datetime]:
    """The week starting `week` (a Monday), China time, as [start, end)."""
    start = datetime.combine(week, time(0), CHINA_TZ)
    return start, start + timedelta(days=7)
