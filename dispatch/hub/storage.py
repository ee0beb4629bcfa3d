"""The state of the hub's store as consoles and probes see it: `ok`, `disk_full` or
`db_unreachable`, with the time it began.

Every write of the hub goes through `HubService._write`; a write that fails because the
disk is full (SQLite's SQLITE_FULL, ENOSPC, PostgreSQL's 53100) or because the database
cannot be reached (a connection refused or cut, PostgreSQL shutting down) sets the state
(`StorageHealth.failed`) and is answered as `busy` with a message saying why (the HTTP
intake: 503 with `Retry-After`); nothing was acknowledged, since a write is acknowledged
only after its commit. The next write that commits sets `ok` again; so does the probe
that runs while the state is not `ok` (every `every_s`: free space in the SQLite file's
folder above `reserve_bytes`, or a `SELECT 1` that answers), so the hub recovers by
itself when space or the database returns, with no write needed to find out.

The state goes to consoles in every heartbeat (`Heartbeat.storage`) and to monitoring at
`GET /api/v1/health` (200 when ok, else 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dispatch.hub.clock import china_now
from dispatch.hub.messages import StorageState

log = logging.getLogger("hall-hub.storage")

# what an operator reads (the console shows its own words for the state)
MESSAGES: dict[StorageState, str] = {
    "ok": "",
    "disk_full": "中枢存储空间已满，事件暂未接收，请稍后重试 / the hub's disk is full: "
    "the event was NOT accepted; retry later",
    "db_unreachable": "中枢数据库无法连接，事件暂未接收，请稍后重试 / the hub's database is "
    "unreachable: the event was NOT accepted; retry later",
}
RETRY_AFTER_S = 5
_PG_DISK_FULL = "53100"
_PG_UNREACHABLE = ("08", "57P")  # connection exceptions; admin/crash shutdown


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, the DB-API error SQLAlchemy wraps (`orig`) and the chain of causes."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(out) < 16:
        e = todo.pop()
        if e is None or any(e is o for o in out):
            continue
        out.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return out


def classify(exc: BaseException) -> StorageState | None:
    """The storage state a failed write means, or None (an ordinary failure)."""
    for e in _causes(exc):
        if isinstance(e, sqlite3.Error) and getattr(e, "sqlite_errorcode", None) == 13:
            return "disk_full"  # SQLITE_FULL
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full"
        state = getattr(e, "sqlstate", None)
        if isinstance(state, str) and state == _PG_DISK_FULL:
            return "disk_full"
        if isinstance(state, str) and state.startswith(_PG_UNREACHABLE):
            return "db_unreachable"
        if type(e).__module__.startswith("psycopg") and type(e).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            return "db_unreachable"  # no SQLSTATE: refused, reset, closed
        if getattr(e, "connection_invalidated", False):
            return "db_unreachable"
    return None


def database_folder(db_url: str) -> Path | None:
    """The folder of a SQLite database file, else None (PostgreSQL, memory, no URL)."""
    try:
        url = make_url(db_url)
    except Exception:
        return None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).absolute().parent
    return None


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


Probe = Callable[[StorageState], Awaitable[bool]]


class StorageHealth:
    """The store's state; `failed`/`succeeded` from the loop, `stop()` ends the probe."""

    def __init__(
        self,
        probe: Probe | None = None,
        *,
        every_s: float = 1.0,
        clock: Callable[[], datetime] = china_now,
    ) -> None:
        self._probe = probe
        self.every_s = every_s
        self._clock = clock
        self.state: StorageState = "ok"
        self.since: datetime | None = None
        self.detail = ""
        self._task: asyncio.Task[None] | None = None

    @property
    def message(self) -> str:
        return MESSAGES[self.state]

    def failed(self, state: StorageState, exc: BaseException) -> None:
        if state != self.state:
            log.error("store: %s (%s); writes are refused until it recovers", state, exc)
            self.state, self.since, self.detail = state, self._clock(), str(exc)[:300]
        if self._probe is not None and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="storage-probe")

    def succeeded(self) -> None:
        if self.state == "ok":
            return
        took = (self._clock() - self.since).total_seconds() if self.since else 0.0
        log.warning("store: %s is over after %.0f s; writes are accepted again", self.state, took)
        self.state, self.since, self.detail = "ok", None, ""

    async def _watch(self) -> None:
        assert self._probe is not None
        while True:
            await asyncio.sleep(self.every_s)
            state = self.state
            if state == "ok":
                return
            try:
                if await self._probe(state):
                    self.succeeded()
                    return
            except Exception as exc:  # a probe that fails is a "not yet"
                log.debug("storage probe: %s", exc)

    async def stop(self) -> None:
        t, self._task = self._task, None
        if t is not None:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t


def ping(engine_of: Callable[[], object]) -> bool:
    """Whether the database answers `SELECT 1` (a fresh pooled connection)."""
    engine = engine_of()
    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True


def store_probe(
    engine_of: Callable[[], object], sqlite_folder: Path | None, reserve_bytes: int = 1 << 20
) -> Probe:
    """The probe of a store: for a full SQLite disk, free space above `reserve_bytes` in
    its folder; otherwise a database that answers (a full PostgreSQL disk recovers with
    the next write that commits)."""

    async def probe(state: StorageState) -> bool:
        if state == "disk_full":
            if sqlite_folder is None:
                return False
            return await asyncio.to_thread(free_bytes, sqlite_folder) >= reserve_bytes
        return await asyncio.to_thread(ping, engine_of)

    return probe
