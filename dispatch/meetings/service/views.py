"""The meetings' core values as wire types (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from dispatch.meetings import core as mc
from dispatch.meetings.messages import InviteeInfo, LogEntryInfo, MeetingInfo
from dispatch.rollcall.core import Centre


def invitee(c: Centre) -> InviteeInfo:
    return InviteeInfo(id=c.id, name=c.name, level=c.level, township_name=c.township_name)


def names(centres: Mapping[str, Centre]) -> dict[str, str]:
    return {cid: c.name for cid, c in centres.items()}


def meeting_info(
    m: mc.Meeting,
    log: Iterable[mc.LogEntry],
    centres: Mapping[str, Centre],
    now: datetime,
    *,
    muted: Sequence[str] = (),
    talking: Sequence[str] = (),
) -> MeetingInfo:
    att = mc.attendance(m, log, now)
    invited = [
        invitee(centres[c])
        if c in centres
        else InviteeInfo(id=c, name=c, level="village", township_name="")
        for c in m.invited
    ]
    return MeetingInfo(
        id=m.id,
        title=m.title,
        convenor=m.convenor,
        invited=invited,
        start_at=m.start_at,
        agenda=m.agenda,
        status=m.status,
        status_zh=mc.STATUS_ZH[m.status],
        created_at=m.created_at,
        opened_at=m.opened_at,
        ended_at=m.ended_at,
        locked=m.locked,
        floor=m.floor,
        minutes=m.minutes,
        recording=m.recording,
        recording_sha256=m.recording_sha256,
        joined=att.joined,
        absent=list(att.absent),
        present=list(att.present),
        speakers=list(att.speakers),
        hands=list(att.hands),
        muted=[c for c in muted if c in att.present],
        talking=[c for c in talking if c in att.present],
        duration_s=att.duration_s,
        status_line=mc.status_line(m, att.present, names(centres)),
    )


def log_info(e: mc.LogEntry, centres: Mapping[str, Centre]) -> LogEntryInfo:
    c = centres.get(e.centre)
    name = c.name if c else ("县综治中心" if e.centre == mc.HALL else e.centre)
    return LogEntryInfo(
        at=e.at,
        kind=e.kind,
        kind_zh=mc.KIND_ZH[e.kind],
        centre=e.centre,
        centre_name=name,
        detail=e.detail,
    )
