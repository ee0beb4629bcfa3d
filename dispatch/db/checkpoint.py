"""WAL checkpoints of the SQLite store, on their own thread instead of inside a commit.

SQLite's automatic checkpoint runs inside whichever commit crosses the WAL's page
limit: that commit then copies the WAL into the database file and fsyncs it, which
took 15–60 ms here and showed as the p99 of intake and publish latency. The store
turns the automatic checkpoint off (`PRAGMA wal_autocheckpoint=0`) and this thread
runs a PASSIVE checkpoint (never blocks the writer or readers) every `interval_s`.
Durability is unchanged: a commit is durable once the WAL is fsynced (synchronous=FULL).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, engine: Engine, *, interval_s: float = 0.5) -> None:
        self._engine = engine
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self._failing_since: float | None = None
        self._logged_at = 0.0
        self._failures = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and run one last (full) checkpoint."""
        t, self._thread = self._thread, None
        if t is None:
            return
        self._stop.set()
        t.join(timeout=30)
        self.checkpoint("TRUNCATE")

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").fetchall()
            self.runs += 1
        except Exception as exc:  # a busy, closing or full database: the next run catches up
            self._failed(mode, exc)
            return
        if self._failing_since is not None:
            log.warning("WAL checkpoints work again after %d failures", self._failures)
            self._failing_since, self._failures = None, 0

    def _failed(self, mode: str, exc: Exception) -> None:
        """The first failure with its traceback, then one line a minute while it lasts
        (a full disk fails every run: twice a second)."""
        now = time.monotonic()
        self._failures += 1
        if self._failing_since is None:
            self._failing_since = self._logged_at = now
            log.warning("WAL checkpoint (%s) failed", mode, exc_info=True)
        elif now - self._logged_at >= 60:
            self._logged_at = now
            log.warning("WAL checkpoints still failing (%d times): %s", self._failures, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.checkpoint()
