"""The store's meeting tables (migration 0010) and their reads and writes.

- `meetings`: one row per meeting (plan, status, lock, floor, minutes, the recording's
  file name and SHA-256); the invited centres as a JSON list.
- `meeting_log`: the append-only log of what happened (join, leave, floor, hand, mute,
  kick, lock, open, end); the meeting's record (attendance, speakers, duration) is
  derived from it (`dispatch.meetings.core.attendance`).

Writes take a `Connection` inside the hub writer's transaction; reads take an `Engine`
and run in a thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
    or_,
    select,
    update,
)

from dispatch.db.schema import metadata
from dispatch.db.types import TS, aware, utc
from dispatch.meetings.core import Kind, LogEntry, Meeting, Status

meetings = Table(
    "meetings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("convenor", String(64), nullable=False),
    Column("invited", Text, nullable=False),
    Column("start_at", TS, nullable=False),
    Column("agenda", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_at", TS, nullable=True),
    Column("ended_at", TS, nullable=True),
    Column("locked", Boolean, nullable=False),
    Column("floor", String(64), nullable=True),
    Column("minutes", Text, nullable=False),
    Column("recording", String(255), nullable=True),
    Column("recording_sha256", String(64), nullable=True),
    Index("ix_meetings_start_at", "start_at"),
)

meeting_log = Table(
    "meeting_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("meeting_id", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("centre", String(64), nullable=False),
    Column("detail", String(500), nullable=False),
    Index("ix_meeting_log_meeting", "meeting_id"),
)


def _values(m: Meeting) -> dict[str, Any]:
    return {
        "title": m.title,
        "convenor": m.convenor,
        "invited": json.dumps(list(m.invited), ensure_ascii=False),
        "start_at": utc(m.start_at),
        "agenda": m.agenda,
        "created_at": utc(m.created_at),
        "status": m.status,
        "opened_at": utc(m.opened_at),
        "ended_at": utc(m.ended_at),
        "locked": m.locked,
        "floor": m.floor,
        "minutes": m.minutes,
        "recording": m.recording,
        "recording_sha256": m.recording_sha256,
    }


def _meeting(r: Any) -> Meeting:
    return Meeting(
        id=r.id,
        title=r.title,
        convenor=r.convenor,
        invited=tuple(json.loads(r.invited)),
        start_at=aware(r.start_at),
        agenda=r.agenda,
        created_at=aware(r.created_at),
        status=cast(Status, r.status),
        opened_at=aware(r.opened_at),
        ended_at=aware(r.ended_at),
        locked=bool(r.locked),
        floor=r.floor,
        minutes=r.minutes,
        recording=r.recording,
        recording_sha256=r.recording_sha256,
    )


def insert_meeting(conn: Connection, m: Meeting) -> None:
    conn.execute(insert(meetings).values(id=m.id, **_values(m)))


def save_meeting(conn: Connection, m: Meeting) -> bool:
    """Write the meeting's current state; False when there is no such meeting."""
    res = conn.execute(update(meetings).where(meetings.c.id == m.id).values(**_values(m)))
    return bool(res.rowcount)


def save(conn: Connection, m: Meeting, entries: Sequence[LogEntry]) -> None:
    """The meeting's new state and the log rows that say why, in one transaction."""
    save_meeting(conn, m)
    append_log(conn, m.id, entries)


def append_log(conn: Connection, meeting_id: str, entries: Sequence[LogEntry]) -> None:
    if not entries:
        return
    conn.execute(
        insert(meeting_log),
        [
            {
                "meeting_id": meeting_id,
                "at": utc(e.at),
                "kind": e.kind,
                "centre": e.centre,
                "detail": e.detail[:500],
            }
            for e in entries
        ],
    )


def get_meeting(eng: Engine, meeting_id: str) -> Meeting | None:
    with eng.connect() as conn:
        r = conn.execute(select(meetings).where(meetings.c.id == meeting_id)).first()
    return _meeting(r) if r is not None else None


def read_log(eng: Engine, meeting_id: str) -> list[LogEntry]:
    t = meeting_log
    with eng.connect() as conn:
        rows = conn.execute(
            select(t).where(t.c.meeting_id == meeting_id).order_by(t.c.at, t.c.id)
        ).all()
    return [LogEntry(aware(r.at), cast(Kind, r.kind), r.centre, r.detail) for r in rows]


def between(eng: Engine, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings planned to start in [start, end), by start time."""
    t = meetings
    with eng.connect() as conn:
        rows = conn.execute(
            select(t)
            .where(t.c.start_at >= utc(start), t.c.start_at < utc(end))
            .order_by(t.c.start_at, t.c.id)
        ).all()
    return [_meeting(r) for r in rows]


def live(eng: Engine) -> list[Meeting]:
    """Every meeting still planned or open, by start time."""
    t = meetings
    with eng.connect() as conn:
        rows = conn.execute(
            select(t)
            .where(or_(t.c.status == "planned", t.c.status == "open"))
            .order_by(t.c.start_at, t.c.id)
        ).all()
    return [_meeting(r) for r in rows]


def logs_of(eng: Engine, ids: Sequence[str]) -> dict[str, list[LogEntry]]:
    """The logs of several meetings (for a week's record and the reports)."""
    t = meeting_log
    out: dict[str, list[LogEntry]] = {i: [] for i in ids}
    if not ids:
        return out
    with eng.connect() as conn:
        rows = conn.execute(
            select(t).where(t.c.meeting_id.in_(list(ids))).order_by(t.c.at, t.c.id)
        ).all()
    for r in rows:
        out[r.meeting_id].append(LogEntry(aware(r.at), cast(Kind, r.kind), r.centre, r.detail))
    return out
