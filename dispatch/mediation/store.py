"""The store's mediation tables (migrations 0003, 0006): sessions and their participants.

`mediation_sessions` is the filed record of a session (event, who opened it, times,
outcome, notes, the recording and its SHA-256) and, while it is open, the hub's last
known alive time, whether it records and its recording files; `mediation_participants`
holds each invited participant with the link's token hash, PIN hash, expiry, PIN
failures, lobby state (admitted, removed) and the join/leave intervals (JSON), all
written as they happen so that a restarted hub loads its open sessions back
(`open_sessions`). `month_figures` gives the monthly report's numbers.
Writes take a `Connection` inside the hub writer's transaction; reads take an `Engine`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    insert,
    select,
    update,
)

from dispatch.db.schema import metadata
from dispatch.db.types import TS, aware, utc

mediation_sessions = Table(
    "mediation_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False, index=True),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", TS, nullable=False),
    Column("closed_at", TS, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("notes", Text, nullable=False),
    Column("recording_path", Text, nullable=True),
    Column("recording_sha256", String(64), nullable=True),
    Column("duration_s", Float, nullable=True),
    Column("alive_at", TS, nullable=True),
    Column("recording_on", Boolean, nullable=False, default=False),
    Column("recordings", Text, nullable=False, default="[]"),  # JSON [path, ...]
)

mediation_participants = Table(
    "mediation_participants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("session_id", String(64), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("pin_hash", String(256), nullable=True),
    Column("expires_at", TS, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("intervals", Text, nullable=False),  # JSON [[joined_iso, left_iso|null], ...]
    Column("label", String(32), nullable=True),
    Column("admitted", Boolean, nullable=False, default=False),
    Column("removed", Boolean, nullable=False, default=False),
    Column("session_hash", String(64), nullable=True),  # the host's bearer session
)

Intervals = list[tuple[datetime, datetime | None]]


@dataclass(frozen=True)
class SessionRow:
    id: str
    event_id: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    notes: str
    recording_path: str | None
    recording_sha256: str | None
    duration_s: float | None


@dataclass(frozen=True)
class ParticipantRow:
    id: str
    session_id: str
    role: str
    name: str
    intervals: Intervals
    label: str = ""
    token_hash: str = ""
    pin_hash: str | None = None
    expires_at: datetime | None = None
    failures: int = 0
    admitted: bool = False
    removed: bool = False
    session_hash: str | None = None


@dataclass(frozen=True)
class OpenSession:
    """An open session as written, for a restarted hub to load back."""

    row: SessionRow
    alive_at: datetime | None
    recording_on: bool
    recordings: list[str]
    participants: list[ParticipantRow]


def intervals_json(intervals: Intervals) -> str:
    return json.dumps([[a.isoformat(), b.isoformat() if b else None] for a, b in intervals])


def intervals_of(text: str) -> Intervals:
    return [
        (datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None)
        for a, b in json.loads(text)
    ]


def add_session(conn: Connection, sid: str, event_id: str, by: str, at: datetime) -> None:
    conn.execute(
        insert(mediation_sessions).values(
            id=sid, event_id=event_id, opened_by=by, opened_at=utc(at), notes=""
        )
    )


def add_participant(
    conn: Connection,
    *,
    pid: str,
    session_id: str,
    role: str,
    name: str,
    token_hash: str,
    pin_hash: str | None,
    expires_at: datetime,
    label: str = "",
    admitted: bool = False,
    session_hash: str | None = None,
) -> None:
    conn.execute(
        insert(mediation_participants).values(
            id=pid,
            session_id=session_id,
            role=role,
            name=name,
            token_hash=token_hash,
            pin_hash=pin_hash,
            expires_at=utc(expires_at),
            failures=0,
            intervals="[]",
            label=label,
            admitted=admitted,
            removed=False,
            session_hash=session_hash,
        )
    )


def save_participant(
    conn: Connection,
    pid: str,
    *,
    failures: int,
    admitted: bool,
    removed: bool,
    intervals: Intervals,
) -> None:
    """The participant's changing state: PIN failures, lobby, presence intervals."""
    conn.execute(
        update(mediation_participants)
        .where(mediation_participants.c.id == pid)
        .values(
            failures=failures,
            admitted=admitted,
            removed=removed,
            intervals=intervals_json(intervals),
        )
    )


def save_session_state(
    conn: Connection,
    sid: str,
    *,
    alive_at: datetime,
    recording_on: bool | None = None,
    recordings: list[str] | None = None,
) -> None:
    """The hub's last known alive time for an open session, and its recording state."""
    values: dict[str, Any] = {"alive_at": utc(alive_at)}
    if recording_on is not None:
        values["recording_on"] = recording_on
    if recordings is not None:
        values["recordings"] = json.dumps(recordings, ensure_ascii=False)
    conn.execute(
        update(mediation_sessions)
        .where(and_(mediation_sessions.c.id == sid, mediation_sessions.c.closed_at.is_(None)))
        .values(**values)
    )


def set_failures(conn: Connection, pid: str, failures: int) -> None:
    conn.execute(
        update(mediation_participants)
        .where(mediation_participants.c.id == pid)
        .values(failures=failures)
    )


def set_intervals(conn: Connection, pid: str, intervals: Intervals) -> None:
    data = intervals_json(intervals)
    conn.execute(
        update(mediation_participants)
        .where(mediation_participants.c.id == pid)
        .values(intervals=data)
    )


def close_session(
    conn: Connection,
    sid: str,
    *,
    at: datetime,
    outcome: str,
    notes: str,
    duration_s: float,
    recording_path: str | None,
    recording_sha256: str | None,
) -> None:
    conn.execute(
        update(mediation_sessions)
        .where(mediation_sessions.c.id == sid)
        .values(
            closed_at=utc(at),
            outcome=outcome,
            notes=notes,
            duration_s=duration_s,
            recording_path=recording_path,
            recording_sha256=recording_sha256,
            recording_on=False,
        )
    )


def _session(r: Any) -> SessionRow:
    return SessionRow(
        id=r.id,
        event_id=r.event_id,
        opened_by=r.opened_by,
        opened_at=aware(r.opened_at) or r.opened_at,
        closed_at=aware(r.closed_at),
        outcome=r.outcome,
        notes=r.notes,
        recording_path=r.recording_path,
        recording_sha256=r.recording_sha256,
        duration_s=r.duration_s,
    )


def session(engine: Engine, sid: str) -> SessionRow | None:
    with engine.connect() as c:
        r = c.execute(select(mediation_sessions).where(mediation_sessions.c.id == sid)).first()
    return None if r is None else _session(r)


def sessions_of_event(engine: Engine, event_id: str) -> list[SessionRow]:
    q = (
        select(mediation_sessions)
        .where(mediation_sessions.c.event_id == event_id)
        .order_by(mediation_sessions.c.opened_at)
    )
    with engine.connect() as c:
        return [_session(r) for r in c.execute(q)]


def _participant(r: Any) -> ParticipantRow:
    return ParticipantRow(
        id=r.id,
        session_id=r.session_id,
        role=r.role,
        name=r.name,
        intervals=intervals_of(r.intervals),
        label=r.label or "",
        token_hash=r.token_hash,
        pin_hash=r.pin_hash,
        expires_at=aware(r.expires_at),
        failures=r.failures,
        admitted=bool(r.admitted),
        removed=bool(r.removed),
        session_hash=r.session_hash,
    )


def participants(engine: Engine, sid: str) -> list[ParticipantRow]:
    q = (
        select(mediation_participants)
        .where(mediation_participants.c.session_id == sid)
        .order_by(mediation_participants.c.id)
    )
    with engine.connect() as c:
        return [_participant(r) for r in c.execute(q)]


def open_sessions(engine: Engine) -> list[OpenSession]:
    """Every session not closed, with its participants (for a hub that starts)."""
    q = (
        select(mediation_sessions)
        .where(mediation_sessions.c.closed_at.is_(None))
        .order_by(mediation_sessions.c.opened_at)
    )
    out = []
    with engine.connect() as c:
        rows = list(c.execute(q))
        for r in rows:
            pq = select(mediation_participants).where(mediation_participants.c.session_id == r.id)
            people = [_participant(p) for p in c.execute(pq)]
            out.append(
                OpenSession(
                    row=_session(r),
                    alive_at=aware(r.alive_at),
                    recording_on=bool(r.recording_on),
                    recordings=[str(x) for x in json.loads(r.recordings or "[]")],
                    participants=people,
                )
            )
    return out


def month_figures(engine: Engine, start: datetime, end: datetime) -> dict[str, Any]:
    """Closed sessions opened in [start, end): count, by outcome, total and mean minutes."""
    q = select(mediation_sessions).where(
        and_(
            mediation_sessions.c.opened_at >= utc(start),
            mediation_sessions.c.opened_at < utc(end),
            mediation_sessions.c.closed_at.is_not(None),
        )
    )
    by: dict[str, int] = {"agreement": 0, "no_agreement": 0, "referred": 0}
    total = 0.0
    n = 0
    with engine.connect() as c:
        for r in c.execute(q):
            n += 1
            by[r.outcome] = by.get(r.outcome, 0) + 1
            total += r.duration_s or 0.0
    return {
        "sessions": n,
        "by_outcome": by,
        "total_minutes": round(total / 60, 1),
        "mean_minutes": round(total / 60 / n, 1) if n else 0.0,
    }
