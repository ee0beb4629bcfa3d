"""The hub's durable store: SQLAlchemy Core over SQLite (WAL, file) or PostgreSQL (URL).

Tables: `events` (one current row per event with its JSON and indexed columns),
`audit` (append-only timeline), `changes` (the persistent, monotonically increasing
`seq` of every published change), `operators`, `api_keys` and `reminders`.
The schema is created and upgraded by Alembic (`dispatch/migrations`) in `open()`.

Reads are plain methods (thread-safe, one pooled connection each). Writes are
functions that take a `Connection` inside a transaction: the hub runs them on its
one writer thread (`dispatch.hub.writer`) so that an intake is one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from dispatch.db.checkpoint import Checkpointer
from dispatch.db.raw import Raw as _Raw
from dispatch.db.raw import run as _run
from dispatch.db.schema import metadata
from dispatch.db.types import TS, BigId, aware, utc
from dispatch.domain.model import AuditEntry, Colour, Event, EventSource, EventState, Role
from streams.private import private_file

events = Table(
    "events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("source_ref", String(128), nullable=True),
    Column("category", String(64), nullable=False),
    Column("township", String(64), nullable=True),
    Column("state", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("colour", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("reported_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("source", "source_ref", name="uq_events_source_ref"),
    Index("ix_events_state", "state"),
    Index("ix_events_source", "source"),
    Index("ix_events_category", "category"),
    Index("ix_events_township", "township"),
    Index("ix_events_seq", "seq"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("operator", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("workstation", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(32), nullable=True),
    Column("to_state", String(32), nullable=True),
    Column("note", Text, nullable=False),
    Index("ix_audit_event", "event_id", "id"),
    sqlite_autoincrement=True,
)

changes = Table(
    "changes",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("payload", Text, nullable=False),
    sqlite_autoincrement=True,
)

operators = Table(
    "operators",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", TS, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("sources", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

reminders = Table(
    "reminders",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("last_at", TS, nullable=False),
    Column("count", Integer, nullable=False),
)


# -- pure helpers ---------------------------------------------------------------------


def default_db_url(folder: Path) -> str:
    """The SQLite file `hall.db` in the hub's data folder."""
    return f"sqlite:///{folder / 'hall.db'}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def hash_api_key(key: str) -> str:
    """API keys are long random strings: a plain SHA-256 is the right lookup hash."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _event_row(ev: Event, seq: int, colour: Colour, data: str | None = None) -> dict[str, Any]:
    return {
        "colour": colour.value,
        "id": ev.id,
        "source": ev.source.value,
        "source_ref": ev.source_ref or None,
        "category": ev.category,
        "township": ev.place.township,
        "state": ev.state.value,
        "priority": ev.priority.value,
        "version": ev.version,
        "seq": seq,
        "reported_at": utc(ev.reported_at),
        "updated_at": utc(ev.updated_at),
        "data": data if data is not None else ev.model_dump_json(),
    }


def _audit_row(a: AuditEntry) -> dict[str, Any]:
    return {
        "event_id": a.event_id,
        "at": utc(a.at),
        "operator": a.operator,
        "role": a.role.value,
        "workstation": a.workstation,
        "action": str(a.action),
        "from_state": a.from_state.value if a.from_state is not None else None,
        "to_state": a.to_state.value if a.to_state is not None else None,
        "note": a.note,
    }


def _audit_from_row(r: Any) -> AuditEntry:
    return AuditEntry(
        event_id=r.event_id,
        at=aware(r.at),
        operator=r.operator,
        role=Role(r.role),
        workstation=r.workstation,
        action=r.action,
        from_state=EventState(r.from_state) if r.from_state is not None else None,
        to_state=EventState(r.to_state) if r.to_state is not None else None,
        note=r.note,
    )


@dataclass(frozen=True)
class OperatorRecord:
    name: str
    role: Role
    password_hash: str
    disabled: bool


@dataclass(frozen=True)
class ApiKeyRecord:
    name: str
    sources: frozenset[EventSource]


class StoreError(Exception):
    """A store that cannot be opened or used; the message says why."""


class VersionConflict(StoreError):
    """The event changed under a writer (should not happen with one writer)."""


# -- write functions (inside a transaction) ---------------------------------------------
# The statements of every intake are compiled once per dialect and run on the DBAPI
# cursor directly (`_Raw`): SQLAlchemy's per-execute machinery (cache key, parameter
# construction, execution context, result wrapping) cost ~5x the SQLite step itself and
# was the largest share of the hub's CPU per intake. The others are built once and
# executed with parameter dicts, reusing SQLAlchemy's compiled form.

_UPD_EVENT = update(events).where(
    events.c.id == bindparam("b_id"), events.c.version == bindparam("b_version")
)
_TOUCH_EVENT = update(events).where(events.c.id == bindparam("b_id"))
_SEL_BY_REF = select(events.c.data).where(
    events.c.source == bindparam("b_source"), events.c.source_ref == bindparam("b_ref")
)
_SEL_BY_ID = select(events.c.data).where(events.c.id == bindparam("b_id"))


_EVENT_KEYS = [c.name for c in events.columns]
_AUDIT_KEYS = [c.name for c in audit.columns if c.name != "id"]
_RAW_INS_CHANGE = _Raw(insert(changes).returning(changes.c.seq), ["event_id", "at", "payload"])
_RAW_INS_EVENT = _Raw(insert(events), _EVENT_KEYS)
_RAW_INS_AUDIT = _Raw(insert(audit), _AUDIT_KEYS)
_RAW_SEL_BY_REF = _Raw(_SEL_BY_REF)


def append_change(conn: Connection, event_id: str, at: datetime, payload: str) -> int:
    cur = _RAW_INS_CHANGE.execute(conn, {"event_id": event_id, "at": utc(at), "payload": payload})
    try:
        row = cur.fetchone()
    finally:
        cur.close()
    if row is None:  # pragma: no cover - RETURNING always gives the row
        raise StoreError("no seq returned for a change row")
    return int(row[0])


def _insert_audit(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    for a in entries:
        _run(conn, _RAW_INS_AUDIT, _audit_row(a))


def insert_event(
    conn: Connection,
    ev: Event,
    colour: Colour,
    entries: Sequence[AuditEntry],
    payload: str,
    *,
    data: str | None = None,
) -> int:
    """Insert a new event with its audit rows and change row; return the change's seq.

    `data` is the event's JSON if the caller has it already. Raises `IntegrityError`
    if (source, source_ref) exists: run it in a savepoint.
    """
    seq = append_change(conn, ev.id, ev.updated_at, payload)
    _run(conn, _RAW_INS_EVENT, _event_row(ev, seq, colour, data))
    _insert_audit(conn, entries)
    return seq


def update_event(
    conn: Connection,
    ev: Event,
    colour: Colour,
    expected_version: int,
    entries: Sequence[AuditEntry],
    payload: str,
    at: datetime,
    *,
    data: str | None = None,
) -> int:
    """Store a new version of an event with its audit rows and change row; return the seq."""
    _insert_audit(conn, entries)
    seq = append_change(conn, ev.id, at, payload)
    params = _event_row(ev, seq, colour, data)
    params["b_id"] = ev.id
    params["b_version"] = expected_version
    res = conn.execute(_UPD_EVENT, params)
    if res.rowcount != 1:
        raise VersionConflict(f"event {ev.id} is not at version {expected_version}")
    return seq


def append_audit(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    _insert_audit(conn, entries)


def touch_event(conn: Connection, event_id: str, seq: int, colour: Colour) -> None:
    """Record a change that is not a new version (a colour change, a reminder)."""
    conn.execute(_TOUCH_EVENT, {"b_id": event_id, "seq": seq, "colour": colour.value})


def find_json_by_source_ref(conn: Connection, source: EventSource, source_ref: str) -> str | None:
    """The stored JSON of the event reported as (source, source_ref), if any."""
    if not source_ref:
        return None
    cur = _RAW_SEL_BY_REF.execute(conn, {"b_source": source.value, "b_ref": source_ref})
    try:
        row = cur.fetchone()
    finally:
        cur.close()
    return str(row[0]) if row is not None else None


def find_by_source_ref(conn: Connection, source: EventSource, source_ref: str) -> Event | None:
    data = find_json_by_source_ref(conn, source, source_ref)
    return Event.model_validate_json(data) if data is not None else None


def load_event(conn: Connection, event_id: str) -> Event | None:
    row = conn.execute(_SEL_BY_ID, {"b_id": event_id}).first()
    return Event.model_validate_json(row.data) if row is not None else None


def set_reminder(conn: Connection, event_id: str, at: datetime) -> None:
    row = conn.execute(select(reminders.c.count).where(reminders.c.event_id == event_id)).first()
    if row is None:
        conn.execute(insert(reminders).values(event_id=event_id, last_at=utc(at), count=1))
    else:
        conn.execute(
            update(reminders)
            .where(reminders.c.event_id == event_id)
            .values(last_at=utc(at), count=int(row[0]) + 1)
        )


def upsert_operator(
    conn: Connection, name: str, role: Role, password_hash: str, at: datetime
) -> None:
    exists = conn.execute(select(operators.c.name).where(operators.c.name == name)).first()
    if exists is None:
        conn.execute(
            insert(operators).values(
                name=name,
                role=role.value,
                password_hash=password_hash,
                disabled=False,
                created_at=utc(at),
            )
        )
    else:
        conn.execute(
            update(operators)
            .where(operators.c.name == name)
            .values(role=role.value, password_hash=password_hash, disabled=False)
        )


def put_api_key(
    conn: Connection, key: str, name: str, sources: Sequence[EventSource], at: datetime
) -> None:
    h = hash_api_key(key)
    body = json.dumps(sorted(s.value for s in sources))
    exists = conn.execute(select(api_keys.c.key_hash).where(api_keys.c.key_hash == h)).first()
    if exists is None:
        conn.execute(
            insert(api_keys).values(key_hash=h, name=name, sources=body, created_at=utc(at))
        )
    else:
        conn.execute(
            update(api_keys).where(api_keys.c.key_hash == h).values(name=name, sources=body)
        )


# -- the store ------------------------------------------------------------------------


# Each SQLite connection keeps its own page cache, 2 MiB by default; the pool keeps up to
# POOL_SIZE connections, so the hub's resident size rose by ~2 MiB every time a burst
# (a mediation call, the catch-up after a restart) opened one more and it filled its
# cache: steps of 2-7 MB at the soak's calls, up to 17 MB in all (measured with
# `sqlite3_memory_used`). 1 MiB each bounds the pool's caches at 8 MiB; a page the
# cache does not hold comes from the operating system's file cache.
POOL_SIZE = 8
SQLITE_CACHE_KIB = 1024


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # let SQLAlchemy (not pysqlite) emit BEGIN, so that SAVEPOINTs work
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (WAL fsynced) before it returns; NORMAL may lose
        # the last commits on power loss, which breaks "committed before acknowledged".
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        # checkpoints run on the store's own thread, never inside a commit
        # (dispatch.db.checkpoint)
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # negative: KiB, not pages
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


class Store:
    """The database behind the hub. `open()` connects and migrates; `close()` disposes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._checkpointer: Checkpointer | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreError("store is not open")
        return self._engine

    def open(self) -> None:
        if self._engine is not None:
            return
        try:
            url = make_url(self.url)
        except Exception as exc:
            raise StoreError(f"invalid database URL {self.url!r}: {exc}") from None
        if url.get_backend_name() == "sqlite":
            db = url.database
            if not db or db == ":memory:":
                raise StoreError("SQLite needs a file (sqlite:///path/hall.db), not memory")
            private_file(Path(db))  # 0600: SQLite gives its -wal and -shm files this mode
            engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
            _sqlite_pragmas(engine)
        else:
            engine = create_engine(
                url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE, pool_pre_ping=True
            )
        from dispatch.db.migrations import upgrade

        try:
            with engine.begin() as conn:
                upgrade(conn)
        except Exception:
            engine.dispose()
            raise
        self._engine = engine
        if url.get_backend_name() == "sqlite":
            self._checkpointer = Checkpointer(engine)
            self._checkpointer.start()

    def checkpoints(self) -> int:
        """How many WAL checkpoints the store's thread has run (SQLite; else 0)."""
        return self._checkpointer.runs if self._checkpointer is not None else 0

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- reads ---------------------------------------------------------------------
    def get_event(self, event_id: str) -> Event | None:
        with self.engine.connect() as conn:
            return load_event(conn, event_id)

    def list_events(
        self,
        *,
        state: EventState | None = None,
        source: EventSource | None = None,
        category: str | None = None,
        township: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Event]:
        q = select(events.c.data)
        if state is not None:
            q = q.where(events.c.state == state.value)
        if source is not None:
            q = q.where(events.c.source == source.value)
        if category is not None:
            q = q.where(events.c.category == category)
        if township is not None:
            q = q.where(events.c.township == township)
        q = q.order_by(events.c.reported_at.desc(), events.c.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [Event.model_validate_json(r.data) for r in conn.execute(q)]

    def open_events(self) -> list[tuple[Event, Colour, int]]:
        """Every event that is not archived, with its last published colour and seq."""
        q = (
            select(events.c.data, events.c.colour, events.c.seq)
            .where(events.c.state != EventState.ARCHIVED.value)
            .order_by(events.c.seq)
        )
        with self.engine.connect() as conn:
            return [
                (Event.model_validate_json(r.data), Colour(r.colour), int(r.seq))
                for r in conn.execute(q)
            ]

    def events_json_by_id(self, ids: Sequence[str]) -> dict[str, tuple[str, Colour]]:
        """The stored JSON and last published colour of each of these events that exists."""
        if not ids:
            return {}
        q = select(events.c.id, events.c.data, events.c.colour).where(events.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return {r.id: (r.data, Colour(r.colour)) for r in conn.execute(q)}

    def events_json_since(self, seq: int) -> list[str]:
        """The stored JSON of every event whose last change is after `seq`."""
        q = select(events.c.data).where(events.c.seq > seq).order_by(events.c.seq)
        with self.engine.connect() as conn:
            return [r.data for r in conn.execute(q)]

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            v = conn.execute(select(func.max(changes.c.seq))).scalar()
            return int(v) if v is not None else 0

    def changes_since(self, seq: int, limit: int = 1000) -> list[tuple[int, str, str]]:
        q = (
            select(changes.c.seq, changes.c.event_id, changes.c.payload)
            .where(changes.c.seq > seq)
            .order_by(changes.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(int(r.seq), r.event_id, r.payload) for r in conn.execute(q)]

    def timeline(self, event_id: str) -> list[AuditEntry]:
        q = select(audit).where(audit.c.event_id == event_id).order_by(audit.c.id)
        with self.engine.connect() as conn:
            return [_audit_from_row(r) for r in conn.execute(q)]

    def count_events(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar() or 0)

    def operator(self, name: str) -> OperatorRecord | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(operators).where(operators.c.name == name)).first()
        if r is None:
            return None
        return OperatorRecord(r.name, Role(r.role), r.password_hash, bool(r.disabled))

    def api_key(self, key: str) -> ApiKeyRecord | None:
        h = hash_api_key(key)
        with self.engine.connect() as conn:
            r = conn.execute(select(api_keys).where(api_keys.c.key_hash == h)).first()
        if r is None:
            return None
        return ApiKeyRecord(r.name, frozenset(EventSource(s) for s in json.loads(r.sources)))

    def reminder(self, event_id: str) -> tuple[datetime, int] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(reminders).where(reminders.c.event_id == event_id)).first()
        return (aware(r.last_at), int(r._mapping["count"])) if r is not None else None

    def reminders(self) -> dict[str, datetime]:
        with self.engine.connect() as conn:
            return {r.event_id: aware(r.last_at) for r in conn.execute(select(reminders))}


__all__ = [
    "ApiKeyRecord",
    "IntegrityError",
    "OperatorRecord",
    "Store",
    "StoreError",
    "VersionConflict",
]
