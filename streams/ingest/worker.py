"""A decode worker process: hosts real `CameraStream`s for the GUI process.

Started with the 'spawn' context (never a fork of the Qt process) by
`streams.ingest.workers.DecodeWorkers`. Its main thread reads commands from the pipe
(`streams.ingest.worker_messages`); each stream is a `CameraStream` as in the console
(its thread, the decode pool of this process, the watchdog, backoff, evidence ring)
whose frames go to a shared-memory slot (`ShmFrameSlot`). Status changes are queued by
the decode threads (never blocking them) and sent by one sender thread. Slow commands
(closing a stream joins its thread; evidence writes files) run on a few helper threads,
so the command loop always reads on. The parent gone (end of the pipe): everything stops.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection

from streams.heap import TRIM_EVERY_S, TrimThread, trim_every_s, tune_allocator
from streams.ingest.evidence import EvidenceError
from streams.ingest.pool import DecodePool
from streams.ingest.rtsp import CameraStream
from streams.ingest.shm_slot import ShmFrameSlot
from streams.ingest.types import CameraState, CameraStatus
from streams.ingest.worker_messages import (
    AskEvidenceSeconds,
    CloseStream,
    Command,
    Event,
    OpenStream,
    Reply,
    SaveClip,
    SaveSnapshot,
    SetKeyframesOnly,
    SetTarget,
    Shutdown,
    StartStream,
    StatusChanged,
)

log = logging.getLogger(__name__)


class _Worker:
    def __init__(self, conn: Connection, places: int) -> None:
        self._conn = conn
        self._pool = DecodePool(places)
        self._streams: dict[int, tuple[CameraStream, ShmFrameSlot]] = {}
        self._out: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._helpers = ThreadPoolExecutor(4, thread_name_prefix="worker-helper")
        self._sender = threading.Thread(target=self._send_loop, name="worker-send", daemon=True)

    def run(self) -> None:
        self._sender.start()
        try:
            while True:
                try:
                    cmd: Command = self._conn.recv()
                except (EOFError, OSError):
                    break  # the GUI process is gone
                if isinstance(cmd, Shutdown):
                    break
                try:
                    self._handle(cmd)
                except Exception:  # one bad command must not end every stream here
                    log.exception("decode worker: %s failed", type(cmd).__name__)
        finally:
            self._close_all()
            self._out.put(None)
            self._sender.join(5.0)

    def _send_loop(self) -> None:
        while True:
            event = self._out.get()
            if event is None:
                return
            try:
                self._conn.send(event)
            except (OSError, ValueError):
                return  # the GUI process is gone

    def _handle(self, cmd: Command) -> None:
        if isinstance(cmd, OpenStream):
            self._open(cmd)
        elif isinstance(cmd, StartStream):
            pair = self._streams.get(cmd.stream_id)
            if pair is not None:
                pair[0].start()
        elif isinstance(cmd, CloseStream):
            pair = self._streams.pop(cmd.stream_id, None)
            self._helpers.submit(self._close, cmd.req_id, pair)
        elif isinstance(cmd, SetTarget):
            pair = self._streams.get(cmd.stream_id)
            if pair is not None:
                if cmd.segment is not None:
                    pair[1].swap(cmd.segment)  # before the bigger pictures come
                pair[0].set_target_size(cmd.width, cmd.height)
        elif isinstance(cmd, SetKeyframesOnly):
            pair = self._streams.get(cmd.stream_id)
            if pair is not None:
                pair[0].set_keyframes_only(cmd.on)
        elif isinstance(cmd, SaveSnapshot | SaveClip | AskEvidenceSeconds):
            self._helpers.submit(self._evidence, cmd)

    def _open(self, cmd: OpenStream) -> None:
        sid = cmd.stream_id
        try:
            slot = ShmFrameSlot(cmd.segment)
        except OSError as exc:  # said on the tile: never a stream silently missing
            error = f"decode process: no shared memory {cmd.segment.name} ({exc.strerror})"
            status = CameraStatus(cmd.camera_id, CameraState.OFFLINE, last_errors=(error,))
            self._out.put(StatusChanged(sid, status))
            return

        def on_status(status: CameraStatus) -> None:  # decode or watchdog thread
            self._out.put(StatusChanged(sid, status))

        stream = CameraStream(
            cmd.camera_id,
            cmd.profiles,
            target_size=cmd.target,
            on_status=on_status,
            pool=self._pool,
            slot=slot,
        )
        if cmd.keyframes_only:
            stream.set_keyframes_only(True)
        self._streams[sid] = (stream, slot)

    def _close(self, req_id: int, pair: tuple[CameraStream, ShmFrameSlot] | None) -> None:
        if pair is not None:
            pair[0].stop()
        self._out.put(Reply(req_id))

    def _evidence(self, cmd: SaveSnapshot | SaveClip | AskEvidenceSeconds) -> None:
        pair = self._streams.get(cmd.stream_id)
        try:
            if pair is None:
                raise EvidenceError("the stream is not in this decode process")
            stream = pair[0]
            if isinstance(cmd, SaveSnapshot):
                reply = Reply(cmd.req_id, path=stream.snapshot(cmd.folder, cmd.camera_name))
            elif isinstance(cmd, SaveClip):
                path = stream.save_clip(cmd.folder, cmd.camera_name, cmd.seconds)
                reply = Reply(cmd.req_id, path=path)
            else:
                reply = Reply(cmd.req_id, number=stream.evidence_seconds())
        except Exception as exc:  # handed to the GUI, which raises it there
            no_space = isinstance(exc, EvidenceError) and exc.no_space
            reply = Reply(
                cmd.req_id, error=str(exc), error_type=type(exc).__name__, no_space=no_space
            )
        self._out.put(reply)

    def _close_all(self) -> None:
        streams = [pair[0] for pair in self._streams.values()]
        self._streams.clear()
        for s in streams:
            s.stop(join=False)
        for s in streams:
            s.stop()
        self._helpers.shutdown(wait=True)


def serve(conn: Connection, places: int) -> None:
    """The worker process's entry point (a spawned process: everything imported anew)."""
    tune_allocator(os.environ)  # before our threads: two glibc arenas, not 8 per core
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the console's to handle
    logging.basicConfig(level=logging.WARNING, format="decode-worker %(levelname)s %(message)s")
    trimmer = TrimThread(trim_interval(os.environ))  # packets and pictures churn for days
    trimmer.start()
    try:
        _Worker(conn, places).run()
    finally:
        trimmer.stop()
        conn.close()


def trim_interval(environ: Mapping[str, str]) -> float:
    """`HALL_TRIM_EVERY_S` as the console read it (it refused nonsense before starting
    us; a wall built by other code gets the default)."""
    try:
        return trim_every_s(environ)
    except ValueError:
        return TRIM_EVERY_S
