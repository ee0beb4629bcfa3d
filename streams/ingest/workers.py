"""The decode worker processes of the GUI process: start, place, watch, restart, stop.

`DecodeWorkers(n)` runs up to `n` worker processes (`streams.ingest.worker`, 'spawn'
context: never a fork of the Qt process), started when the first stream needs one. A
stream (`streams.ingest.remote.RemoteStream`) goes to the worker with the fewest
streams (`streams.ingest.placement`). One reader thread per worker receives its status
changes and replies. A worker that exits (its pipe ends): its streams are told
(`worker_lost`, the tile says 解码进程退出) and reopened on a new worker after a backoff
(`RESTART_POLICY`, reset when the lost worker had run `STEADY_S`). Nothing here waits on
a worker without a timeout. `close()` asks every worker to stop, joins it with a
timeout, then terminates it.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Protocol

from streams.ingest.backoff import Backoff, BackoffPolicy
from streams.ingest.placement import choose_worker
from streams.ingest.pool import default_workers
from streams.ingest.types import CameraStatus
from streams.ingest.worker_messages import (
    Command,
    OpenStream,
    Reply,
    Shutdown,
    StartStream,
    StatusChanged,
)

log = logging.getLogger(__name__)

RESTART_POLICY = BackoffPolicy(initial_s=0.5, max_s=10.0)
STEADY_S = 30.0  # a worker that ran this long before it exited resets the backoff
JOIN_S = 5.0


class WorkerLost(Exception):
    """The decode process exited before it answered."""


class Hosted(Protocol):
    """What the workers need of a stream they host (`RemoteStream`)."""

    def open_command(self, stream_id: int, fresh: bool) -> OpenStream | None:
        """The stream's `OpenStream` (a new segment when `fresh`); None: stopped."""
        ...

    def deliver(self, status: CameraStatus) -> None: ...

    def worker_lost(self, retry_in_s: float) -> None: ...

    def release(self) -> None:
        """Unlink its shared memory."""
        ...


@dataclass(eq=False)
class _Proc:
    number: int
    process: BaseProcess
    conn: Connection
    started_at: float
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    streams: set[int] = field(default_factory=set)
    alive: bool = True
    retired: bool = False  # asked to stop by `close()`: its end is no loss
    reader: threading.Thread | None = None


class DecodeWorkers:
    def __init__(self, processes: int | None = None, *, places: int | None = None) -> None:
        self.processes = default_workers() if processes is None else processes
        if self.processes < 1:
            raise ValueError(f"at least one decode process is needed, got {self.processes}")
        # places in each worker's decode pool: the cores shared out (at least one each)
        self._places = places or max(1, default_workers() // self.processes)
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._procs: list[_Proc] = []
        self._hosted: dict[int, Hosted] = {}
        self._where: dict[int, _Proc] = {}
        self._pending: dict[int, tuple[Future[Reply], _Proc]] = {}
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._backoff = Backoff()
        self._timers: list[threading.Timer] = []
        self._closed = False
        self.restarts = 0  # streams reopened on another worker
        self.workers_lost = 0

    # -- streams -----------------------------------------------------------------------
    def new_id(self) -> int:
        return next(self._ids)

    def host(self, stream_id: int, stream: Hosted, *, start: bool) -> None:
        """Open `stream` on the least busy worker (and start it)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the decode processes are closing")
            self._hosted[stream_id] = stream
        self._place(stream_id, fresh=False, start=start)

    def unhost(self, stream_id: int, close: Command | None, timeout_s: float) -> None:
        """Forget the stream; send `close` (a `CloseStream`) and wait for its reply."""
        with self._lock:
            self._hosted.pop(stream_id, None)
        if close is not None:
            try:
                self.request(stream_id, close, timeout_s)
            except (WorkerLost, TimeoutError) as exc:
                log.info("stream %d: close not confirmed (%s)", stream_id, exc)
        with self._lock:
            proc = self._where.pop(stream_id, None)
            if proc is not None:
                proc.streams.discard(stream_id)

    def send(self, stream_id: int, cmd: Command) -> bool:
        """Send to the stream's worker; False if it has none now (lost, restarting)."""
        with self._lock:
            proc = self._where.get(stream_id)
        return proc is not None and self._send(proc, cmd)

    def request(self, stream_id: int, cmd: Command, timeout_s: float) -> Reply:
        """Send a command that has a `req_id` and wait for its reply."""
        req_id = getattr(cmd, "req_id", None)
        if req_id is None:
            raise ValueError(f"{type(cmd).__name__} has no req_id")
        fut: Future[Reply] = Future()
        with self._lock:
            proc = self._where.get(stream_id)
            if proc is None or not proc.alive:
                raise WorkerLost("解码进程退出 / the decode process exited")
            self._pending[req_id] = (fut, proc)
        if not self._send(proc, cmd):
            with self._lock:
                self._pending.pop(req_id, None)
            raise WorkerLost("解码进程退出 / the decode process exited")
        try:
            return fut.result(timeout_s)
        finally:
            with self._lock:
                self._pending.pop(req_id, None)

    def worker_of(self, stream_id: int) -> int | None:
        """The pid of the process hosting the stream now (tests, the bench)."""
        with self._lock:
            proc = self._where.get(stream_id)
        return None if proc is None else proc.process.pid

    def hosts(self) -> dict[int, int | None]:
        """Stream id → the pid of the process hosting it now (tests, the bench)."""
        with self._lock:
            return {sid: p.process.pid for sid, p in self._where.items()}

    def pids(self) -> list[int]:
        """The worker processes running now."""
        with self._lock:
            return [p.process.pid for p in self._procs if p.alive and p.process.pid is not None]

    # -- placing -----------------------------------------------------------------------
    def _place(self, stream_id: int, *, fresh: bool, start: bool) -> None:
        with self._lock:
            stream = self._hosted.get(stream_id)
            if stream is None or self._closed or stream_id in self._where:
                return
            loads = {i: len(p.streams) for i, p in enumerate(self._procs) if p.alive}
            pick = choose_worker(loads, self.processes)
            proc = self._spawn() if pick is None else self._procs[pick]
            self._where[stream_id] = proc
            proc.streams.add(stream_id)
        # the open command is made and sent under the pipe's lock: a new tile size sent
        # meanwhile from another thread is either in it or comes after it
        with proc.send_lock:
            cmd = stream.open_command(stream_id, fresh)
            if cmd is not None:
                self._send_locked(proc, cmd)
                if start:
                    self._send_locked(proc, StartStream(stream_id))

    def _spawn(self) -> _Proc:
        """A new worker (under the lock); it reads its pipe once it has started."""
        from streams.ingest.worker import serve  # imports PyAV: only once a worker is needed

        number = next(self._numbers)
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(
            target=serve, args=(theirs, self._places), name=f"hall-decode-{number}", daemon=True
        )
        process.start()
        theirs.close()
        proc = _Proc(number, process, ours, time.monotonic())
        proc.reader = threading.Thread(
            target=self._read, args=(proc,), name=f"decode-reader-{number}", daemon=True
        )
        self._procs = [p for p in self._procs if p.alive] + [proc]
        proc.reader.start()
        return proc

    def _send(self, proc: _Proc, cmd: Command) -> bool:
        with proc.send_lock:
            return self._send_locked(proc, cmd)

    @staticmethod
    def _send_locked(proc: _Proc, cmd: Command) -> bool:
        if not proc.alive:
            return False
        try:
            proc.conn.send(cmd)
            return True
        except (OSError, ValueError):
            return False  # the reader thread reports the worker's end

    # -- from the workers --------------------------------------------------------------
    def _read(self, proc: _Proc) -> None:
        while True:
            try:
                event = proc.conn.recv()
            except (EOFError, OSError):
                break
            if isinstance(event, StatusChanged):
                with self._lock:
                    here = self._where.get(event.stream_id) is proc
                    stream = self._hosted.get(event.stream_id)
                if here and stream is not None:
                    stream.deliver(event.status)
            elif isinstance(event, Reply):
                with self._lock:
                    entry = self._pending.pop(event.req_id, None)
                if entry is not None:
                    entry[0].set_result(event)
        self._lost(proc)

    def _lost(self, proc: _Proc) -> None:
        with proc.send_lock:
            proc.alive = False
        proc.process.join(JOIN_S)
        proc.conn.close()
        with self._lock:
            pending = [f for f, p in self._pending.values() if p is proc]
            orphans = [s for s, p in self._where.items() if p is proc]
            for sid in orphans:
                del self._where[sid]
            closed = self._closed or proc.retired
            if not closed:
                self.workers_lost += 1
                if time.monotonic() - proc.started_at >= STEADY_S:
                    self._backoff.reset()
                delay = self._backoff.next_delay(RESTART_POLICY)
        for fut in pending:
            if not fut.done():
                fut.set_exception(WorkerLost("解码进程退出 / the decode process exited"))
        if closed:
            return
        log.warning(
            "decode process %d (pid %s) exited with %s; %d streams restart in %.1f s",
            proc.number,
            proc.process.pid,
            proc.process.exitcode,
            len(orphans),
            delay,
        )
        for sid in orphans:
            with self._lock:
                stream = self._hosted.get(sid)
            if stream is not None:
                stream.worker_lost(delay)
        self._later(delay, lambda: self._restart(orphans))

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        timer = threading.Timer(delay, fn)
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _restart(self, stream_ids: list[int]) -> None:
        for sid in stream_ids:
            with self._lock:
                known = sid in self._hosted and not self._closed
            if known:
                self.restarts += 1
                self._place(sid, fresh=True, start=True)

    # -- shutdown ----------------------------------------------------------------------
    def close(self, timeout_s: float = JOIN_S) -> None:
        """Stop every worker: asked, joined within `timeout_s`, else terminated (idempotent).

        Streams hosted then are forgotten (their shared memory unlinked); streams started
        afterwards start new workers."""
        with self._lock:
            self._closed = True
            procs = list(self._procs)
            for p in procs:
                p.retired = True
            timers = list(self._timers)
            hosted = list(self._hosted.values())
            self._hosted.clear()
            self._where.clear()
        for t in timers:
            t.cancel()
        for stream in hosted:
            stream.release()
        for p in procs:
            self._send(p, Shutdown())
        deadline = time.monotonic() + timeout_s
        for p in procs:
            p.process.join(max(0.0, deadline - time.monotonic()))
            if p.process.is_alive():
                log.warning("decode process %d did not stop: terminated", p.number)
                p.process.terminate()
                p.process.join(2.0)
            if p.process.is_alive():
                p.process.kill()
                p.process.join(2.0)
            if p.reader is not None and p.reader is not threading.current_thread():
                p.reader.join(2.0)
            if not p.process.is_alive():
                p.process.close()
        with self._lock:
            self._procs = [p for p in self._procs if p not in procs]
            self._backoff.reset()
            self._closed = False
