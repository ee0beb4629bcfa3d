"""Core statements compiled once per dialect and run on the DBAPI cursor directly.

The statements of every intake run through `Raw`: SQLAlchemy's per-execute machinery
(cache key, parameter construction, execution context, result wrapping) cost ~5x the
SQLite step itself and was the largest share of the hub's CPU per intake. Integrity
errors are raised as SQLAlchemy's `IntegrityError`, like `Connection.execute` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError


@dataclass(frozen=True)
class Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter order for a positional paramstyle
    procs: dict[str, Callable[[Any], Any]]  # bind processors (SQLite datetimes, ...)


class Raw:
    """A Core statement compiled once per dialect, executed on the DBAPI cursor of the
    connection's current transaction. DBAPI integrity errors are raised as SQLAlchemy's
    `IntegrityError`, like `Connection.execute` does."""

    def __init__(self, stmt: Any, column_keys: Sequence[str] | None = None) -> None:
        self._stmt = stmt
        self._keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, Compiled] = {}

    def _compiled(self, dialect: Dialect) -> Compiled:
        key = f"{dialect.name}/{dialect.paramstyle}"
        got = self._by_dialect.get(key)
        if got is None:
            c = self._stmt.compile(dialect=dialect, column_keys=self._keys)
            procs = {}
            for name, bind in c.binds.items():
                proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if proc is not None:
                    procs[name] = proc
            order = tuple(c.positiontup) if c.positional else None
            got = self._by_dialect[key] = Compiled(c.string, order, procs)
        return got

    def execute(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Run with `params`; return the DBAPI cursor (the caller fetches and closes)."""
        c = self._compiled(conn.dialect)
        for name, proc in c.procs.items():
            params[name] = proc(params[name])
        args: Any = tuple(params[n] for n in c.order) if c.order is not None else params
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(c.sql, args)
        except conn.dialect.loaded_dbapi.IntegrityError as exc:
            cur.close()
            raise IntegrityError(c.sql, args, exc) from exc
        except BaseException:
            cur.close()
            raise
        return cur


def run(conn: Connection, raw: Raw, params: dict[str, Any]) -> None:
    """Execute `raw` for its effect and close the cursor."""
    raw.execute(conn, params).close()
