"""The store's dispatch tables: tasks, their history, the push outbox, attachments and
the grid leaders' phone links and sessions (migration 0002; attachments' stored file
names instead of paths, 0007).

Write functions take a `Connection` inside the hub writer's transaction (they may run
twice: the writer retries a batch, so they are functions of the database state only);
reads take an `Engine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    insert,
    select,
    update,
)

from dispatch.db.schema import metadata
from dispatch.db.store import StoreError, VersionConflict
from dispatch.db.types import TS, BigId, aware, utc
from dispatch.tasks.core import TERMINAL, DispatchTask, TaskTransition

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("assignee", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_tasks_event", "event_id"),
    Index("ix_tasks_assignee_open", "assignee", "is_open"),
    Index("ix_tasks_open", "is_open"),
)

task_history = Table(
    "task_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("action", String(16), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_task_history_task", "task_id", "id"),
    Index("ix_task_history_event", "event_id", "id"),
    sqlite_autoincrement=True,
)

push_outbox = Table(
    "push_outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("acked_at", TS, nullable=True),
    UniqueConstraint("task_id", "person_id", name="uq_push_outbox_task_person"),
    Index("ix_push_outbox_pending", "person_id", "acked_at"),
    sqlite_autoincrement=True,
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("task_id", String(64), nullable=True),
    Column("kind", String(16), nullable=False),
    # the file's name in the hub's own store (photos: upload folder, else the evidence
    # folder); NULL for an old row whose file the hub did not store (never served)
    Column("blob", String(80), nullable=True),
    Column("name", Text, nullable=False),  # the sender's file name, display only
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mime", String(64), nullable=False),
    Column("added_by", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("note", Text, nullable=False),
    Index("ix_attachments_event", "event_id"),
)

phone_links = Table(
    "phone_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("pin_hash", String(256), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index("ix_phone_links_person", "person_id"),
)

phone_sessions = Table(
    "phone_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("link_hash", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)


@dataclass(frozen=True)
class Attachment:
    id: str
    event_id: str
    task_id: str | None
    kind: str  # snapshot | clip | photo
    blob: str | None  # hub-chosen stored file name; None: not in the store
    name: str  # display only
    sha256: str
    size: int
    mime: str
    added_by: str
    at: datetime
    note: str


@dataclass(frozen=True)
class PhoneLink:
    person_id: str
    pin_hash: str
    expires_at: datetime
    failures: int
    revoked: bool


# -- writes ------------------------------------------------------------------------------


def load_task(conn: Connection, task_id: str) -> DispatchTask | None:
    row = conn.execute(select(tasks.c.data).where(tasks.c.id == task_id)).first()
    return DispatchTask.model_validate_json(row.data) if row is not None else None


def _task_row(t: DispatchTask) -> dict[str, Any]:
    return {
        "event_id": t.event_id,
        "assignee": t.assignee,
        "state": t.state.value,
        "is_open": t.state not in TERMINAL,
        "version": t.version,
        "updated_at": utc(t.updated_at),
        "data": t.model_dump_json(),
    }


def save_task(conn: Connection, t: DispatchTask, expected_version: int | None) -> None:
    """Insert (`expected_version` None) or update a task at the version it was read at."""
    if expected_version is None:
        conn.execute(insert(tasks).values(id=t.id, **_task_row(t)))
        return
    res = conn.execute(
        update(tasks)
        .where(and_(tasks.c.id == t.id, tasks.c.version == expected_version))
        .values(**_task_row(t))
    )
    if res.rowcount != 1:
        raise VersionConflict(f"task {t.id} is not at version {expected_version}")


def add_history(conn: Connection, row: TaskTransition, seq: int) -> None:
    conn.execute(
        insert(task_history).values(
            task_id=row.task_id,
            event_id=row.event_id,
            at=utc(row.at),
            action=row.action.value,
            seq=seq,
            data=row.model_dump_json(),
        )
    )


def add_outbox(conn: Connection, task_id: str, person_id: str, at: datetime) -> None:
    exists = conn.execute(
        select(push_outbox.c.id).where(
            and_(push_outbox.c.task_id == task_id, push_outbox.c.person_id == person_id)
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(push_outbox).values(
                task_id=task_id, person_id=person_id, created_at=utc(at), acked_at=None
            )
        )


def ack_outbox(conn: Connection, task_id: str, person_id: str, at: datetime) -> bool:
    """Mark a push acknowledged; False if it was already (or never queued)."""
    res = conn.execute(
        update(push_outbox)
        .where(
            and_(
                push_outbox.c.task_id == task_id,
                push_outbox.c.person_id == person_id,
                push_outbox.c.acked_at.is_(None),
            )
        )
        .values(acked_at=utc(at))
    )
    return bool(res.rowcount)


def add_attachment(conn: Connection, a: Attachment) -> None:
    conn.execute(
        insert(attachments).values(
            id=a.id,
            event_id=a.event_id,
            task_id=a.task_id,
            kind=a.kind,
            blob=a.blob,
            name=a.name,
            sha256=a.sha256,
            size=a.size,
            mime=a.mime,
            added_by=a.added_by,
            at=utc(a.at),
            note=a.note,
        )
    )


def put_phone_link(
    conn: Connection,
    link_hash: str,
    person_id: str,
    pin_hash: str,
    now: datetime,
    expires: datetime,
) -> None:
    conn.execute(
        insert(phone_links).values(
            token_hash=link_hash,
            person_id=person_id,
            pin_hash=pin_hash,
            created_at=utc(now),
            expires_at=utc(expires),
            failures=0,
            revoked=False,
        )
    )


def set_link_failures(conn: Connection, link_hash: str, failures: int) -> None:
    conn.execute(
        update(phone_links).where(phone_links.c.token_hash == link_hash).values(failures=failures)
    )


def take_link_attempt(conn: Connection, link_hash: str, limit: int) -> int | None:
    """Count one PIN attempt on a link with fewer than `limit` failures, as ONE statement
    (check and count cannot be split by a concurrent attempt): the count after this
    attempt, or None when the link is already locked (or gone). The attempt counts as
    a failure until the PIN proves right (`set_link_failures(…, 0)`)."""
    c = phone_links.c
    row = conn.execute(
        update(phone_links)
        .where(and_(c.token_hash == link_hash, c.failures < limit))
        .values(failures=c.failures + 1)
        .returning(c.failures)
    ).first()
    return None if row is None else int(row[0])


def put_phone_session(
    conn: Connection,
    session_hash: str,
    link_hash: str,
    person_id: str,
    now: datetime,
    expires: datetime,
) -> None:
    conn.execute(
        insert(phone_sessions).values(
            token_hash=session_hash,
            link_hash=link_hash,
            person_id=person_id,
            created_at=utc(now),
            expires_at=utc(expires),
        )
    )


def drop_phone_session(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(phone_sessions).where(phone_sessions.c.token_hash == session_hash))


# -- reads -------------------------------------------------------------------------------


def open_tasks(engine: Engine) -> list[DispatchTask]:
    q = select(tasks.c.data).where(tasks.c.is_open.is_(True)).order_by(tasks.c.updated_at)
    with engine.connect() as conn:
        return [DispatchTask.model_validate_json(r.data) for r in conn.execute(q)]


def tasks_of_event(engine: Engine, event_id: str) -> list[DispatchTask]:
    q = select(tasks.c.data).where(tasks.c.event_id == event_id)
    with engine.connect() as conn:
        got = [DispatchTask.model_validate_json(r.data) for r in conn.execute(q)]
    return sorted(got, key=lambda t: (t.sent_at, t.id))


def get_task(engine: Engine, task_id: str) -> DispatchTask | None:
    with engine.connect() as conn:
        return load_task(conn, task_id)


def history(
    engine: Engine, *, task_id: str | None = None, event_id: str | None = None
) -> list[tuple[int, TaskTransition]]:
    """(seq, row) in the order written, for one task or one event."""
    q = select(task_history.c.seq, task_history.c.data).order_by(task_history.c.id)
    if task_id is not None:
        q = q.where(task_history.c.task_id == task_id)
    if event_id is not None:
        q = q.where(task_history.c.event_id == event_id)
    with engine.connect() as conn:
        return [(int(r.seq), TaskTransition.model_validate_json(r.data)) for r in conn.execute(q)]


def pending_pushes(engine: Engine) -> list[tuple[str, str]]:
    """(person id, task id) of every push not yet acknowledged, oldest first."""
    q = (
        select(push_outbox.c.person_id, push_outbox.c.task_id)
        .where(push_outbox.c.acked_at.is_(None))
        .order_by(push_outbox.c.id)
    )
    with engine.connect() as conn:
        return [(r.person_id, r.task_id) for r in conn.execute(q)]


def outbox_rows(engine: Engine, task_id: str) -> list[tuple[str, datetime | None]]:
    q = select(push_outbox.c.person_id, push_outbox.c.acked_at).where(
        push_outbox.c.task_id == task_id
    )
    with engine.connect() as conn:
        return [
            (r.person_id, aware(r.acked_at) if r.acked_at is not None else None)
            for r in conn.execute(q)
        ]


def _attachment(r: Any) -> Attachment:
    return Attachment(
        id=r.id,
        event_id=r.event_id,
        task_id=r.task_id,
        kind=r.kind,
        blob=r.blob,
        name=r.name,
        sha256=r.sha256,
        size=int(r.size),
        mime=r.mime,
        added_by=r.added_by,
        at=aware(r.at),
        note=r.note,
    )


def attachments_of(
    engine: Engine, *, event_id: str | None = None, ids: Sequence[str] | None = None
) -> list[Attachment]:
    q = select(attachments).order_by(attachments.c.at, attachments.c.id)
    if event_id is not None:
        q = q.where(attachments.c.event_id == event_id)
    if ids is not None:
        q = q.where(attachments.c.id.in_(list(ids)))
    with engine.connect() as conn:
        return [_attachment(r) for r in conn.execute(q)]


def count_attachments(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(attachments.c.id)).all())


def phone_link(engine: Engine, link_hash: str) -> PhoneLink | None:
    with engine.connect() as conn:
        r = conn.execute(select(phone_links).where(phone_links.c.token_hash == link_hash)).first()
    if r is None:
        return None
    return PhoneLink(r.person_id, r.pin_hash, aware(r.expires_at), int(r.failures), r.revoked)


def phone_session(engine: Engine, session_hash: str) -> tuple[str, str, datetime] | None:
    """(link hash, person id, expires at) of a phone session."""
    with engine.connect() as conn:
        r = conn.execute(
            select(phone_sessions).where(phone_sessions.c.token_hash == session_hash)
        ).first()
    return (r.link_hash, r.person_id, aware(r.expires_at)) if r is not None else None


__all__ = ["Attachment", "PhoneLink", "StoreError"]
