"""The hub's single writer thread with group commit.

Every write is a job `fn(tx) -> T`. The writer takes all jobs waiting at that moment,
runs them in ONE transaction and commits once, so many concurrent intakes share one
fsync. Only after the commit does it hand the batch's published changes to
`on_committed` (in seq order) and resolve each job's future: nothing is acknowledged
or published before it is durable.

Jobs first run without savepoints (the common case: nothing fails, and a SAVEPOINT
and its RELEASE would double the statements of a small intake). If any job raises,
the whole transaction is rolled back and the batch is run again with one SAVEPOINT
per job (`tx.careful` is then True), so a failing job rolls back only its own writes
and the others still commit. Jobs must therefore be functions of the database state
(no side effects besides `tx.conn` and `tx.published`): they may run twice.

A job that refuses before it has written anything (a workflow step that is not allowed
in the event's state: typically one asked again after a lost reply) raises
`Refused(error)`: its caller gets `error`, and the batch goes on without a rollback and
a careful second run (at the soak's load, retried steps made most batches run twice).

With a `loop`, the commit's consequences (publishing, then resolving the futures) run
as ONE callback on that loop per batch, instead of one thread-safe wake-up per job.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from dispatch.db.store import Store
from dispatch.events.messages import EventChanged
from dispatch.hub.storage import classify

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Committed:
    """A committed change to publish: the typed message, its encoded PUB frame and the
    event as a snapshot entry (JSON), each serialised once."""

    change: EventChanged
    frame: bytes
    entry: str
    extra: tuple[bytes, ...] = ()  # frames published right after `frame` (TaskChanged)


@dataclass
class Tx:
    """What a job sees: the connection and the list of changes to publish on commit."""

    conn: Connection
    published: list[Committed] = field(default_factory=list)
    careful: bool = False  # True on the second run of a batch: each job in a savepoint

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """A SAVEPOINT on the careful run only (the fast run retries the batch instead)."""
        if self.careful:
            with self.conn.begin_nested():
                yield
        else:
            yield


AnyFuture = concurrent.futures.Future[Any] | asyncio.Future[Any]


@dataclass
class _Job(Generic[T]):
    fn: Callable[[Tx], T]
    future: AnyFuture


_STOP = object()


class WriterStopped(Exception):
    pass


class Refused(Exception):
    """Raised by a job BEFORE it wrote anything: its caller gets `error`, the batch goes
    on (nothing to roll back)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


class _Retry(Exception):
    """A job failed on the fast run: roll the batch back and run it carefully."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


def _resolve(fut: AnyFuture, ok: bool, value: Any) -> None:
    if fut.done():  # an asyncio future whose awaiting task was cancelled
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


class GroupWriter:
    def __init__(
        self,
        store: Store,
        on_committed: Callable[[list[Committed]], None],
        *,
        max_batch: int = 512,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._store = store
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._loop = loop
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.batches = 0
        self.jobs = 0
        self.retried_batches = 0
        self.busy_s = 0.0  # time spent running batches, commit included
        self.commit_s = 0.0  # of which committing

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
        log.info(
            "writer: %d jobs in %d batches (%d retried), busy %.2f s, committing %.2f s",
            self.jobs,
            self.batches,
            self.retried_batches,
            self.busy_s,
            self.commit_s,
        )

    def submit(self, fn: Callable[[Tx], T]) -> concurrent.futures.Future[T]:
        """Queue a job from any thread; the future resolves after its batch's commit."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self._stopped or self._thread is None:
            fut.set_exception(WriterStopped("the hub's writer is not running"))
            return fut
        self._q.put(_Job(fn, fut))
        return fut

    def submit_async(self, fn: Callable[[Tx], T]) -> asyncio.Future[T]:
        """Queue a job from the writer's loop (the one given to the constructor)."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and loop is not self._loop:
            raise RuntimeError("submit_async called from another event loop")
        fut: asyncio.Future[T] = loop.create_future()
        if self._stopped or self._thread is None:
            fut.set_exception(WriterStopped("the hub's writer is not running"))
            return fut
        if self._loop is None:  # no loop of ours: bridge a thread future
            return asyncio.wrap_future(self.submit(fn), loop=loop)
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
            t0 = time.perf_counter()
            self._run_batch(batch)
            self.busy_s += time.perf_counter() - t0
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
                self._deliver([], [j], [(False, WriterStopped("the hub is stopping"))])

    def _attempt(
        self, batch: list[_Job[Any]], careful: bool
    ) -> tuple[list[tuple[bool, Any]], list[Committed]]:
        """Run the batch in one transaction (raises `_Retry` if a job fails on the fast run)."""
        outcomes: list[tuple[bool, Any]] = []
        published: list[Committed] = []
        with self._store.engine.connect() as conn:
            with conn.begin() as trans:
                self._run_jobs(conn, batch, careful, outcomes, published)
                t0 = time.perf_counter()
                trans.commit()
            self.commit_s += time.perf_counter() - t0
        return outcomes, published

    @staticmethod
    def _run_jobs(
        conn: Connection,
        batch: list[_Job[Any]],
        careful: bool,
        outcomes: list[tuple[bool, Any]],
        published: list[Committed],
    ) -> None:
        for job in batch:
            tx = Tx(conn, careful=careful)
            if not careful:
                try:
                    result = job.fn(tx)
                except Refused as refused:  # nothing written: no rollback needed
                    outcomes.append((False, refused.error))
                    continue
                except Exception as exc:
                    raise _Retry(exc) from None  # the transaction rolls back
                outcomes.append((True, result))
                published.extend(tx.published)
                continue
            try:
                with conn.begin_nested():
                    result = job.fn(tx)
            except Refused as refused:
                outcomes.append((False, refused.error))
            except Exception as exc:
                outcomes.append((False, exc))
            else:
                outcomes.append((True, result))
                published.extend(tx.published)

    def _run_batch(self, batch: list[_Job[Any]]) -> None:
        try:
            try:
                done = self._attempt(batch, careful=False)
            except _Retry as retry:
                if len(batch) == 1:  # rolled back: that one job simply failed
                    self._deliver([], batch, [(False, retry.cause)])
                    return
                self.retried_batches += 1
                done = self._attempt(batch, careful=True)
        except Exception as exc:  # the commit itself failed: nothing of the batch is durable
            if classify(exc) is None:
                log.exception("commit of %d jobs failed", len(batch))
            else:  # a full disk or a lost database: the storage state says so, once
                log.warning("commit of %d jobs failed: %s", len(batch), exc.__class__.__name__)
            self._deliver([], batch, [(False, exc)] * len(batch))
            return
        outcomes, published = done
        self.batches += 1
        self.jobs += len(batch)
        published.sort(key=lambda c: c.change.seq)
        self._deliver(published, batch, outcomes)

    def _deliver(
        self, published: list[Committed], batch: list[_Job[Any]], outcomes: list[tuple[bool, Any]]
    ) -> None:
        loop = self._loop
        if loop is None:
            self._finish(published, batch, outcomes)
            return
        try:
            loop.call_soon_threadsafe(self._finish, published, batch, outcomes)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            for job, (ok, value) in zip(batch, outcomes, strict=True):
                if isinstance(job.future, concurrent.futures.Future):
                    _resolve(job.future, ok, value)

    def _finish(
        self, published: list[Committed], batch: list[_Job[Any]], outcomes: list[tuple[bool, Any]]
    ) -> None:
        """Publish first, then acknowledge (on the loop if there is one)."""
        if published:
            try:
                self._on_committed(published)
            except Exception:  # publishing must never undo an acknowledged commit
                log.exception("publishing committed changes failed")
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            _resolve(job.future, ok, value)
