"""The `leader_positions` table (migration 0009): each person's last shared position.

One row per person, replaced at each fix and deleted when they withdraw consent; the
functions take a connection (the hub's writer transaction for writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Float, String, Table, delete, insert, select

from dispatch.db.schema import metadata
from dispatch.db.types import TS, aware, utc

leader_positions = Table(
    "leader_positions",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("accuracy_m", Float, nullable=False),
    Column("at", TS, nullable=False),
)


@dataclass(frozen=True, slots=True)
class StoredPosition:
    person_id: str
    lon: float
    lat: float
    accuracy_m: float
    at: datetime


def put(conn: Connection, pos: StoredPosition) -> None:
    """Keep `pos` as the person's last position (replacing the one before)."""
    forget(conn, pos.person_id)
    conn.execute(
        insert(leader_positions).values(
            person_id=pos.person_id,
            lon=pos.lon,
            lat=pos.lat,
            accuracy_m=pos.accuracy_m,
            at=utc(pos.at),
        )
    )


def forget(conn: Connection, person_id: str) -> bool:
    """Delete the person's position; whether there was one."""
    res = conn.execute(delete(leader_positions).where(leader_positions.c.person_id == person_id))
    return bool(res.rowcount)


def load_all(conn: Connection) -> list[StoredPosition]:
    t = leader_positions
    rows = conn.execute(select(t).order_by(t.c.person_id)).all()
    return [StoredPosition(r.person_id, r.lon, r.lat, r.accuracy_m, aware(r.at)) for r in rows]
