"""The event workflow's own table beside the core tables of `dispatch.db.store`: the
audit of who asked to see a reporter's full phone or ID number (migration 0008).

One row per request, granted or refused: who (operator, role, workstation), when, which
event and field, and the reason given. Writes take a `Connection` inside the hub
writer's transaction; reads take an `Engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    String,
    Table,
    Text,
    insert,
    select,
)

from dispatch.db.schema import metadata
from dispatch.db.types import TS, BigId, aware, utc

reveal_audit = Table(
    "reveal_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("field", String(16), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("workstation", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("at", TS, nullable=False),
    Index("ix_reveal_audit_event", "event_id"),
    sqlite_autoincrement=True,
)


@dataclass(frozen=True)
class RevealRow:
    event_id: str
    field: str  # phone | id_number
    operator: str
    role: str
    workstation: str
    reason: str
    granted: bool
    at: datetime


def add_reveal(conn: Connection, r: RevealRow) -> None:
    conn.execute(
        insert(reveal_audit).values(
            event_id=r.event_id,
            field=r.field,
            operator=r.operator,
            role=r.role,
            workstation=r.workstation,
            reason=r.reason,
            granted=r.granted,
            at=utc(r.at),
        )
    )


def _row(r: Any) -> RevealRow:
    return RevealRow(
        event_id=r.event_id,
        field=r.field,
        operator=r.operator,
        role=r.role,
        workstation=r.workstation,
        reason=r.reason,
        granted=bool(r.granted),
        at=aware(r.at),
    )


def reveals(engine: Engine, event_id: str | None = None) -> list[RevealRow]:
    """The audit rows, oldest first (of one event, or all)."""
    q = select(reveal_audit).order_by(reveal_audit.c.id)
    if event_id is not None:
        q = q.where(reveal_audit.c.event_id == event_id)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(q)]
