"""Remote video mediation, the pure part: labels, participants and their rules (issue 5).

No I/O and no clock of its own: the functions that move a participant's presence take
`now`. The hub side (`dispatch.mediation.service`) keeps these participants in sessions,
writes them and pushes them to the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

ROLE_LABELS = {
    "host": "指挥中心",
    "court": "法官",
    "notary": "公证员",
    "mediator": "调解员",
    "party": "当事人",
}
OUTCOME_LABELS = {"agreement": "达成协议", "no_agreement": "未达成协议", "referred": "转法院诉讼"}
MAX_PARTICIPANTS = 6  # the hub's own star (aiortc)
MAX_JANUS_PARTIES = 24  # a mediation room on Janus (dispatch.mediation.media.place)
ALIVE_S = 5.0  # how often an open session's last known alive time is written

LinkStatus = Literal["ok", "unknown", "expired", "locked", "closed"]
Interval = tuple[datetime, datetime | None]


class Invite(Protocol):
    """What labelling needs of an invitation (the console's `MediationInvite`)."""

    @property
    def role(self) -> str: ...

    @property
    def name(self) -> str: ...


# -- pure helpers -------------------------------------------------------------------------------


def role_labels(invites: Sequence[Invite]) -> list[str]:
    """法官, 公证员 …; parties are lettered 当事人A, 当事人B … when there are several."""
    parties = sum(1 for i in invites if i.role == "party")
    out, n = [], 0
    for inv in invites:
        if inv.role == "party" and parties > 1:
            out.append(f"当事人{chr(ord('A') + n)}")
            n += 1
        else:
            out.append(ROLE_LABELS[inv.role])
    return out


def total_seconds(intervals: Sequence[Interval], end: datetime) -> float:
    return sum(((b or end) - a).total_seconds() for a, b in intervals)


def minutes_text(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}分{s:02d}秒"


def close_crashed(intervals: Sequence[Interval], alive_at: datetime | None) -> list[Interval]:
    """The intervals with one left open by a crash closed at the hub's last known alive
    time (never before the interval began)."""
    out = list(intervals)
    if out and out[-1][1] is None:
        start = out[-1][0]
        out[-1] = (start, max(start, alive_at) if alive_at is not None else start)
    return out


def recording_line(files: Sequence[tuple[Path, str]]) -> str:
    """'；录像 a.mp4 SHA-256 0123456789ab…、b.mp4 …' for the timeline ('' if none)."""
    if not files:
        return ""
    return "；录像 " + "、".join(f"{p.name} SHA-256 {sha[:12]}…" for p, sha in files)


def close_line(
    outcome: str, duration_s: float, people: Sequence[tuple[str, str, float]], notes: str
) -> str:
    """The timeline line of a closed session."""
    who = "、".join(f"{label}{name}（{minutes_text(sec)}）" for label, name, sec in people)
    line = (
        f"【远程调解】结束：{OUTCOME_LABELS[outcome]}；时长 {minutes_text(duration_s)}；参与：{who}"
    )
    return line + (f"；协议要点：{notes}" if notes else "")


def participant_order(pid: str) -> tuple[int, str]:
    """Sort key of stored participant ids ('<session>/host', '<session>/p1' …): the host
    first, then p1, p2 … in number order."""
    local = pid.rsplit("/", 1)[-1]
    return (0, "") if local == "host" else (1, local.removeprefix("p").zfill(4))


# -- state --------------------------------------------------------------------------------------


@dataclass
class Participant:
    id: str
    session_id: str
    role: str
    label: str
    name: str
    token_hash: str
    pin_hash: str | None  # None: the console's host link (no PIN; authorised over zmq)
    expires_at: datetime
    failures: int = 0
    admitted: bool = False
    removed: bool = False
    session_hash: str | None = None  # the host's bearer session (hash); others: link_cookie
    intervals: list[Interval] = field(default_factory=list)
    sockets: int = 0
    audio_on: bool = True
    video_on: bool = True

    @property
    def host(self) -> bool:
        return self.role == "host"

    @property
    def online(self) -> bool:
        return self.sockets > 0

    @property
    def present(self) -> bool:
        """In the call now: an interval is open."""
        return bool(self.intervals) and self.intervals[-1][1] is None

    # -- presence rules (each returns whether the durable state changed) ---------------------
    def begin(self, now: datetime) -> bool:
        """Presence starts (admitted and online) unless it is already running."""
        if self.present or not self.admitted or self.removed:
            return False
        self.intervals.append((now, None))
        return True

    def end(self, now: datetime) -> bool:
        """Presence ends: the open interval, if any, is closed at `now`."""
        if not self.present:
            return False
        self.intervals[-1] = (self.intervals[-1][0], now)
        return True

    def socket_opened(self, now: datetime) -> bool:
        self.sockets += 1
        return self.sockets == 1 and self.begin(now)

    def socket_closed(self, now: datetime) -> bool:
        self.sockets = max(0, self.sockets - 1)
        return self.sockets == 0 and self.end(now)

    def admit(self, now: datetime) -> None:
        """Let in from the lobby; presence starts at once if the page is open."""
        if not self.admitted:
            self.admitted = True
            if self.online:
                self.intervals.append((now, None))

    def remove(self, now: datetime) -> None:
        """Put out of the session for good (the link stops working)."""
        self.removed = True
        self.admitted = False
        self.end(now)
