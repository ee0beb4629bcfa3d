"""The store's state (`dispatch.hub.storage`): which failures mean a full disk or a lost
database, and the state's life: failed, probed, recovered by itself."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from pathlib import Path

import psycopg
import psycopg.errors
from sqlalchemy.exc import OperationalError

from dispatch.hub.messages import StorageState
from dispatch.hub.storage import StorageHealth, classify, database_folder


def sqlite_full() -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = 13  # type: ignore[attr-defined]
    return exc


def test_what_counts_as_a_full_disk_or_a_lost_database() -> None:
    wrapped = OperationalError("INSERT …", {}, sqlite_full())
    assert classify(wrapped) == "disk_full"
    assert classify(OSError(errno.ENOSPC, "No space left on device")) == "disk_full"
    try:
        raise RuntimeError("commit failed") from OSError(errno.EDQUOT, "quota")
    except RuntimeError as exc:
        assert classify(exc) == "disk_full"
    assert classify(psycopg.errors.DiskFull("no space")) == "disk_full"
    assert classify(psycopg.OperationalError("connection refused")) == "db_unreachable"
    assert classify(psycopg.errors.AdminShutdown("terminating")) == "db_unreachable"
    assert classify(ValueError("bad")) is None
    assert classify(sqlite3.IntegrityError("UNIQUE constraint failed")) is None


def test_the_folder_of_a_sqlite_database_only(tmp_path: Path) -> None:
    assert database_folder(f"sqlite:///{tmp_path / 'hall.db'}") == tmp_path
    assert database_folder("postgresql+psycopg://hall@127.0.0.1/hall") is None
    assert database_folder("sqlite://") is None


def test_the_state_recovers_by_itself_when_the_probe_says_so() -> None:
    room = [False]
    asked: list[StorageState] = []

    async def probe(state: StorageState) -> bool:
        asked.append(state)
        return room[0]

    async def body() -> None:
        h = StorageHealth(probe, every_s=0.01)
        assert h.state == "ok" and h.message == ""
        h.failed("disk_full", OSError(errno.ENOSPC, "full"))
        assert h.state == "disk_full" and h.since is not None and "disk is full" in h.message
        await asyncio.sleep(0.05)
        assert h.state == "disk_full" and asked and set(asked) == {"disk_full"}
        room[0] = True
        for _ in range(100):
            if h.state == "ok":
                break
            await asyncio.sleep(0.01)
        assert h.state == "ok" and h.since is None
        h.failed("db_unreachable", OSError("refused"))
        h.succeeded()  # a write that commits ends it at once
        assert h.state == "ok"
        await h.stop()

    asyncio.run(asyncio.wait_for(body(), 10))
