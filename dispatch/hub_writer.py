"""The hub's single writer thread with group commit.

Every write is a job `fn(conn) -> T` run inside its own SAVEPOINT; the writer takes
all jobs waiting at that moment, runs them in ONE transaction and commits once, so
many concurrent intakes share one fsync. Only after the commit does it hand the
batch's published changes to `on_committed` (in seq order) and resolve each job's
future: nothing is acknowledged or published before it is durable. A job that raises
rolls back its savepoint only; the others of the batch still commit.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from dispatch.protocol import EventChanged
from dispatch.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Tx:
    """What a job sees: the connection and the list of changes to publish on commit."""

    conn: Connection
    published: list[EventChanged] = field(default_factory=list)


@dataclass
class _Job(Generic[T]):
    fn: Callable[[Tx], T]
    future: concurrent.futures.Future[T]


_STOP = object()


class WriterStopped(Exception):
    pass


class GroupWriter:
    def __init__(
        self,
        store: Store,
        on_committed: Callable[[list[EventChanged]], None],
        *,
        max_batch: int = 512,
    ) -> None:
        self._store = store
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.batches = 0
        self.jobs = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="hub-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopped = True
        self._q.put(_STOP)
        self._thread.join(timeout=30)
        self._thread = None

    def submit(self, fn: Callable[[Tx], T]) -> concurrent.futures.Future[T]:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self._stopped or self._thread is None:
            fut.set_exception(WriterStopped("the hub's writer is not running"))
            return fut
        self._q.put(_Job(fn, fut))
        return fut

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is _STOP:
                self._fail_pending()
                return
            batch: list[_Job[Any]] = [first]
            stop_after = False
            while len(batch) < self._max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop_after = True
                    break
                batch.append(nxt)
            self._run_batch(batch)
            if stop_after:
                self._fail_pending()
                return

    def _fail_pending(self) -> None:
        while True:
            try:
                j = self._q.get_nowait()
            except queue.Empty:
                return
            if isinstance(j, _Job):
                j.future.set_exception(WriterStopped("the hub is stopping"))

    def _run_batch(self, batch: list[_Job[Any]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        published: list[EventChanged] = []
        try:
            with self._store.transaction() as conn:
                for job in batch:
                    tx = Tx(conn)
                    try:
                        with conn.begin_nested():
                            result = job.fn(tx)
                    except Exception as exc:
                        outcomes.append((False, exc))
                    else:
                        outcomes.append((True, result))
                        published.extend(tx.published)
        except Exception as exc:  # the commit itself failed: nothing of the batch is durable
            log.exception("commit of %d jobs failed", len(batch))
            for job in batch:
                job.future.set_exception(exc)
            return
        self.batches += 1
        self.jobs += len(batch)
        if published:
            try:
                self._on_committed(sorted(published, key=lambda c: c.seq))
            except Exception:  # publishing must never undo an acknowledged commit
                log.exception("publishing committed changes failed")
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
