"""The patrol's tables (migration 0005): every camera sample, and the fault events raised.

SQLAlchemy Core on the hub's store; the functions take a connection (the hub's writer
transaction for writes, any connection for reads), so they work on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    select,
)

from dispatch.db.schema import metadata
from dispatch.db.types import TS, aware
from streams.patrol.types import CameraCheck, OfflineReason

camera_checks = Table(
    "camera_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("faults", Text, nullable=False),
    Column("scores", Text, nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("last_good", Text, nullable=False),
    Column("seconds", Float, nullable=False),
    Index("ix_camera_checks_camera_at", "camera", "at"),
    Index("ix_camera_checks_at", "at"),
)

camera_fault_events = Table(
    "camera_fault_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("camera", String(64), nullable=False),
    Column("raised_at", TS, nullable=False),
    Column("bad_since", TS, nullable=False),
    Column("recovered_at", TS, nullable=True),
    Index("ix_camera_fault_events_camera", "camera"),
)


@dataclass(frozen=True, slots=True)
class StoredCheck:
    check: CameraCheck
    last_good: str  # the camera's last healthy picture at the time ("" if none yet)


@dataclass(frozen=True, slots=True)
class FaultEventRow:
    event_id: str
    camera: str
    raised_at: datetime
    bad_since: datetime
    recovered_at: datetime | None


def insert_checks(conn: Connection, rows: list[StoredCheck]) -> None:
    if not rows:
        return
    conn.execute(
        camera_checks.insert(),
        [
            {
                "camera": r.check.camera,
                "at": r.check.at.astimezone(UTC),
                "online": r.check.online,
                "reason": r.check.reason.value,
                "detail": r.check.detail,
                "faults": json.dumps(r.check.faults, sort_keys=True),
                "scores": json.dumps(r.check.scores, sort_keys=True),
                "snapshot": r.check.snapshot,
                "last_good": r.last_good,
                "seconds": r.check.seconds,
            }
            for r in rows
        ],
    )


def _row_check(row: object) -> StoredCheck:
    m = row._mapping  # type: ignore[attr-defined]
    check = CameraCheck(
        camera=m["camera"],
        at=aware(m["at"]),
        online=bool(m["online"]),
        reason=OfflineReason(m["reason"]),
        detail=m["detail"],
        faults=json.loads(m["faults"]),
        scores=json.loads(m["scores"]),
        snapshot=m["snapshot"],
        seconds=float(m["seconds"]),
    )
    return StoredCheck(check, m["last_good"])


def history(conn: Connection, camera: str, limit: int = 200) -> list[StoredCheck]:
    """The camera's samples, newest first."""
    q = (
        select(camera_checks)
        .where(camera_checks.c.camera == camera)
        .order_by(camera_checks.c.at.desc(), camera_checks.c.id.desc())
        .limit(limit)
    )
    return [_row_check(r) for r in conn.execute(q)]


def latest(conn: Connection) -> dict[str, StoredCheck]:
    """The newest sample of every camera."""
    newest = (
        select(func.max(camera_checks.c.id).label("id")).group_by(camera_checks.c.camera).subquery()
    )
    q = select(camera_checks).join(newest, camera_checks.c.id == newest.c.id)
    return {s.check.camera: s for s in map(_row_check, conn.execute(q))}


def last_good_pictures(conn: Connection) -> dict[str, str]:
    """Camera -> path of its newest healthy picture."""
    good = and_(
        camera_checks.c.online.is_(True),
        camera_checks.c.faults == "{}",
        camera_checks.c.snapshot != "",
    )
    newest = (
        select(func.max(camera_checks.c.id).label("id"))
        .where(good)
        .group_by(camera_checks.c.camera)
        .subquery()
    )
    q = select(camera_checks.c.camera, camera_checks.c.snapshot).join(
        newest, camera_checks.c.id == newest.c.id
    )
    return {r.camera: r.snapshot for r in conn.execute(q)}


def rates(conn: Connection, start: datetime, end: datetime) -> tuple[int, float, float]:
    """(samples, online share, healthy share of the online samples) in [start, end);
    samples not checked (未巡检) are left out."""
    q = select(camera_checks.c.online, camera_checks.c.faults).where(
        camera_checks.c.at >= start.astimezone(UTC),
        camera_checks.c.at < end.astimezone(UTC),
        camera_checks.c.reason != OfflineReason.NOT_CHECKED.value,  # 未巡检: no verdict
    )
    n = online = healthy = 0
    for r in conn.execute(q):
        n += 1
        if r.online:
            online += 1
            if r.faults == "{}":
                healthy += 1
    if n == 0:
        return 0, 0.0, 0.0
    return n, online / n, (healthy / online if online else 0.0)


def insert_fault_event(
    conn: Connection, event_id: str, camera: str, raised_at: datetime, bad_since: datetime
) -> None:
    conn.execute(
        camera_fault_events.insert().values(
            event_id=event_id,
            camera=camera,
            raised_at=raised_at.astimezone(UTC),
            bad_since=bad_since.astimezone(UTC),
            recovered_at=None,
        )
    )


def mark_recovered(conn: Connection, event_id: str, at: datetime) -> None:
    conn.execute(
        camera_fault_events.update()
        .where(camera_fault_events.c.event_id == event_id)
        .values(recovered_at=at.astimezone(UTC))
    )


def fault_events(conn: Connection, *, open_only: bool = False) -> list[FaultEventRow]:
    q = select(camera_fault_events).order_by(camera_fault_events.c.raised_at)
    if open_only:
        q = q.where(camera_fault_events.c.recovered_at.is_(None))
    return [
        FaultEventRow(
            r.event_id,
            r.camera,
            aware(r.raised_at),
            aware(r.bad_since),
            aware(r.recovered_at) if r.recovered_at is not None else None,
        )
        for r in conn.execute(q)
    ]
