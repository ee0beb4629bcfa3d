"""The store's roll-call tables (migration 0004) and their reads and writes.

- `rollcall_runs`: one row per run (week, who started it, status, batch, ring time, the
  due and exempt centre lists as JSON); the status is written before it takes effect.
- `rollcall_log` (调度日志): one row per call, written when the call ends and before
  the run moves on; unique per (run, centre, attempt), so a replayed write is refused.
- `rollcall_exemptions`, `rollcall_stations` (duty-station link token and PIN hashes),
  `rollcall_schedule` (one row).

Writes take a `Connection` inside the hub writer's transaction (one writer for the
whole hub: no SQLite lock fights); reads take an `Engine` and run in a thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)

from dispatch.db.schema import metadata
from dispatch.db.types import TS, aware, utc
from dispatch.rollcall.core import (
    CallRecord,
    Centre,
    Exemption,
    ExemptReason,
    Outcome,
    Run,
    RunStatus,
    Schedule,
)

runs = Table(
    "rollcall_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("week", Date, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("batch", Integer, nullable=False),
    Column("ring_s", Float, nullable=False),
    Column("talk_s", Float, nullable=False),
    Column("due", Text, nullable=False),
    Column("exempt", Text, nullable=False),
    Column("ended_at", TS, nullable=True),
    Index("ix_rollcall_runs_week", "week"),
)

log = Table(
    "rollcall_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("week", Date, nullable=False),
    Column("centre_id", String(64), nullable=False),
    Column("centre_name", String(64), nullable=False),
    Column("township", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("rang_at", TS, nullable=True),
    Column("answered_at", TS, nullable=True),
    Column("ended_at", TS, nullable=False),
    Column("snapshot", Text, nullable=True),
    Column("note", Text, nullable=False),
    Column("answered_by", String(64), nullable=False),
    UniqueConstraint("run_id", "centre_id", "attempt", name="uq_rollcall_log_call"),
    Index("ix_rollcall_log_week", "week"),
)

exemptions = Table(
    "rollcall_exemptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre_id", String(64), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)

stations = Table(
    "rollcall_stations",
    metadata,
    Column("centre_id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("pin_hash", String(256), nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("failures", Integer, nullable=False),
)

schedule = Table(
    "rollcall_schedule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("weekday", Integer, nullable=False),
    Column("at", String(5), nullable=False),
    Column("ring_s", Float, nullable=False),
    Column("batch", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("last_week", Date, nullable=True),
)


def _req(dt: datetime | None) -> datetime:
    out = aware(dt)
    assert out is not None
    return out


# -- runs and the log ---------------------------------------------------------------------


def add_run(conn: Connection, run: Run) -> None:
    conn.execute(
        insert(runs).values(
            id=run.id,
            week=run.week,
            started_at=utc(run.started_at),
            started_by=run.started_by,
            status=run.status,
            batch=run.batch,
            ring_s=run.ring_s,
            talk_s=run.talk_s,
            due=json.dumps(list(run.due)),
            exempt=json.dumps(list(run.exempt)),
            ended_at=utc(run.ended_at),
        )
    )


def set_status(conn: Connection, run_id: str, status: RunStatus, ended_at: datetime | None) -> None:
    conn.execute(
        update(runs).where(runs.c.id == run_id).values(status=status, ended_at=utc(ended_at))
    )


def add_call(conn: Connection, run: Run, centre: Centre, call: CallRecord) -> None:
    """One call of the log, and the run's status with it (one transaction)."""
    conn.execute(
        insert(log).values(
            run_id=run.id,
            week=run.week,
            centre_id=call.centre_id,
            centre_name=centre.name,
            township=centre.township,
            attempt=call.attempt,
            outcome=call.outcome,
            rang_at=utc(call.rang_at),
            answered_at=utc(call.answered_at),
            ended_at=utc(call.ended_at),
            snapshot=call.snapshot,
            note=call.note,
            answered_by=call.answered_by,
        )
    )
    conn.execute(
        update(runs)
        .where(runs.c.id == run.id)
        .values(status=run.status, ended_at=utc(run.ended_at))
    )


def set_note(conn: Connection, run_id: str, centre_id: str, attempt: int, note: str) -> bool:
    res = conn.execute(
        update(log)
        .where(log.c.run_id == run_id, log.c.centre_id == centre_id, log.c.attempt == attempt)
        .values(note=note)
    )
    return bool(res.rowcount)


def _call(r: Any) -> CallRecord:
    return CallRecord(
        centre_id=r.centre_id,
        attempt=r.attempt,
        outcome=cast(Outcome, r.outcome),
        rang_at=aware(r.rang_at),
        answered_at=aware(r.answered_at),
        ended_at=_req(r.ended_at),
        snapshot=r.snapshot,
        note=r.note,
        answered_by=r.answered_by,
    )


def _run(r: Any, calls: Sequence[CallRecord]) -> Run:
    return Run(
        id=r.id,
        week=r.week,
        started_at=_req(r.started_at),
        due=tuple(json.loads(r.due)),
        exempt=tuple(json.loads(r.exempt)),
        status=cast(RunStatus, r.status),
        batch=r.batch,
        ring_s=r.ring_s,
        talk_s=r.talk_s,
        calls=tuple(calls),
        ended_at=aware(r.ended_at),
        started_by=r.started_by,
    )


def load_run(engine: Engine, run_id: str) -> Run | None:
    with engine.connect() as conn:
        r = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        if r is None:
            return None
        rows = conn.execute(select(log).where(log.c.run_id == run_id).order_by(log.c.id)).all()
    return _run(r, [_call(x) for x in rows])


def open_run(engine: Engine) -> Run | None:
    """The latest run not yet done (running or stopped): resumed after a restart."""
    with engine.connect() as conn:
        r = conn.execute(
            select(runs.c.id)
            .where(runs.c.status != "done")
            .order_by(runs.c.started_at.desc())
            .limit(1)
        ).first()
    return load_run(engine, r.id) if r is not None else None


def week_runs(engine: Engine, week: date) -> list[Run]:
    with engine.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(runs.c.id).where(runs.c.week == week).order_by(runs.c.started_at)
            )
        ]
    out = [load_run(engine, i) for i in ids]
    return [r for r in out if r is not None]


def weeks(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return [
            r.week
            for r in conn.execute(select(runs.c.week).distinct().order_by(runs.c.week.desc()))
        ]


# -- exemptions, schedule, stations ---------------------------------------------------------


def add_exemption(conn: Connection, ex: Exemption, by: str, at: datetime) -> int:
    res = conn.execute(
        insert(exemptions).values(
            centre_id=ex.centre_id,
            start=ex.start,
            end=ex.end,
            reason=ex.reason,
            note=ex.note,
            created_by=by,
            created_at=utc(at),
        )
    )
    pk = res.inserted_primary_key
    return int(pk[0]) if pk else 0


def remove_exemption(conn: Connection, ex_id: int) -> bool:
    return bool(conn.execute(delete(exemptions).where(exemptions.c.id == ex_id)).rowcount)


def list_exemptions(engine: Engine) -> list[tuple[int, Exemption]]:
    with engine.connect() as conn:
        rows = conn.execute(select(exemptions).order_by(exemptions.c.start)).all()
    return [
        (
            r.id,
            Exemption(r.centre_id, r.start, r.end, cast(ExemptReason, r.reason), r.note),
        )
        for r in rows
    ]


def load_schedule(engine: Engine) -> tuple[Schedule, date | None] | None:
    with engine.connect() as conn:
        r = conn.execute(select(schedule).where(schedule.c.id == 1)).first()
    if r is None:
        return None
    hh, mm = (int(x) for x in r.at.split(":"))
    return Schedule(r.weekday, time(hh, mm), r.ring_s, r.batch, bool(r.enabled)), r.last_week


def save_schedule(conn: Connection, s: Schedule, last_week: date | None) -> None:
    values = {
        "weekday": s.weekday,
        "at": s.at.strftime("%H:%M"),
        "ring_s": s.ring_s,
        "batch": s.batch,
        "enabled": s.enabled,
        "last_week": last_week,
    }
    if conn.execute(update(schedule).where(schedule.c.id == 1).values(**values)).rowcount:
        return
    conn.execute(insert(schedule).values(id=1, **values))


def save_station(
    conn: Connection, centre_id: str, token_hash: str, pin_hash: str, expires_at: datetime
) -> None:
    conn.execute(delete(stations).where(stations.c.centre_id == centre_id))
    conn.execute(
        insert(stations).values(
            centre_id=centre_id,
            token_hash=token_hash,
            pin_hash=pin_hash,
            expires_at=utc(expires_at),
            failures=0,
        )
    )


def station_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r.centre_id for r in conn.execute(select(stations.c.centre_id))}


def station_by_token(engine: Engine, token_hash: str) -> tuple[str, str, datetime, int] | None:
    with engine.connect() as conn:
        r = conn.execute(select(stations).where(stations.c.token_hash == token_hash)).first()
    if r is None:
        return None
    return r.centre_id, r.pin_hash, _req(r.expires_at), r.failures


def set_station_failures(conn: Connection, centre_id: str, failures: int) -> None:
    conn.execute(
        update(stations).where(stations.c.centre_id == centre_id).values(failures=failures)
    )


def take_station_attempt(conn: Connection, token_hash: str, limit: int) -> int | None:
    """Count one PIN attempt on a station link with fewer than `limit` failures, as ONE
    statement: the count after it, or None when the link is locked (or re-issued). The
    attempt counts as a failure until the PIN proves right."""
    c = stations.c
    row = conn.execute(
        update(stations)
        .where(c.token_hash == token_hash, c.failures < limit)
        .values(failures=c.failures + 1)
        .returning(c.failures)
    ).first()
    return None if row is None else int(row[0])
