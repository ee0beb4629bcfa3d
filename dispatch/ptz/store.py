"""The `ptz_holds` table (migration 0011): each held PTZ camera's hold.

One row per camera, replaced when the hold changes hands or is renewed (written with the
grant's audit row, in the hub writer's transaction) and deleted at release; read once when
the hub starts, so that a hold outlives a hub restart until it expires. Functions take a
connection.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection, String, Table, delete, insert, select

from dispatch.db.schema import metadata
from dispatch.db.types import TS, aware, utc
from dispatch.domain.model import Role
from dispatch.ptz.core import Hold

ptz_holds = Table(
    "ptz_holds",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("operator", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("workstation", String(64), nullable=False),
    Column("since", TS, nullable=False),
    Column("until", TS, nullable=False),
)


def put(conn: Connection, hold: Hold) -> None:
    """Keep `hold` as its camera's (replacing the one before)."""
    forget(conn, hold.camera_id)
    conn.execute(
        insert(ptz_holds).values(
            camera_id=hold.camera_id,
            operator=hold.operator[:64],
            role=hold.role.value,
            workstation=hold.workstation[:64],
            since=utc(hold.since),
            until=utc(hold.until),
        )
    )


def forget(conn: Connection, camera_id: str) -> None:
    conn.execute(delete(ptz_holds).where(ptz_holds.c.camera_id == camera_id))


def live(conn: Connection, now: datetime) -> list[Hold]:
    """The holds that have not expired at `now` (the hub's clock)."""
    t = ptz_holds
    rows = conn.execute(select(t).where(t.c.until > utc(now)).order_by(t.c.camera_id)).all()
    return [
        Hold(r.camera_id, r.operator, Role(r.role), r.workstation, aware(r.since), aware(r.until))
        for r in rows
    ]
