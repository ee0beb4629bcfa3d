"""A camera stream decoded in a worker process, as the wall sees a `CameraStream`.

`RemoteStream` has the interface the wall uses of `streams.ingest.rtsp.CameraStream`
(start/stop, target size, stream size, key frames only, latest/take, status and its
callback, snapshot, evidence seconds, clips). The real `CameraStream` runs in a decode
worker process (`streams.ingest.worker`); commands go to it over the pipe of
`streams.ingest.workers.DecodeWorkers`, status changes come back on that pipe's reader
thread, and pictures come through a shared-memory slot (`streams.ingest.shm_slot`): the
`Frame` handed to the painter is an array over the shared memory, no copy.

The segment belongs to this object: made at `start`, a bigger one when the tile grows
beyond it, a new one when the stream is reopened on another worker (the old worker may
have died in the middle of a picture), and unlinked at `stop`. Frame numbers run on
across segments, so `take(after_seq)` keeps working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from streams.ingest.decode import stream_label
from streams.ingest.evidence import EvidenceError
from streams.ingest.profiles import choose_profile
from streams.ingest.shm_slot import Segment, SlotReader, capacity_for
from streams.ingest.types import CameraState, CameraStatus, Frame, StreamProfile, StreamStats
from streams.ingest.worker_messages import (
    AskEvidenceSeconds,
    CloseStream,
    Command,
    OpenStream,
    Reply,
    SaveClip,
    SaveSnapshot,
    SetKeyframesOnly,
    SetTarget,
)
from streams.ingest.workers import DecodeWorkers, WorkerLost

log = logging.getLogger(__name__)

LOST_TEXT = "解码进程退出 / decode process exited"
REQUEST_TIMEOUT_S = 30.0  # a clip of 30 s is written by the worker
STOP_TIMEOUT_S = 15.0  # the worker joins the decode thread (open + read timeouts)


class RemoteStream:
    def __init__(
        self,
        camera_id: str,
        profiles: Sequence[StreamProfile],
        workers: DecodeWorkers,
        *,
        target_size: tuple[int, int] = (480, 270),
        on_status: Callable[[CameraStatus], None] | None = None,
    ) -> None:
        if not profiles:
            raise ValueError(f"camera {camera_id}: no stream profiles")
        _check_size(camera_id, *target_size)
        self.camera_id = camera_id
        self.profiles = tuple(profiles)
        self._workers = workers
        self._on_status = on_status
        self._lock = threading.Lock()
        self._target = target_size
        self._profile = choose_profile(self.profiles, *target_size)
        self._keyframes = False
        self._status = CameraStatus(camera_id, CameraState.IDLE)
        self._segment: Segment | None = None
        # replaced by a bigger one while the worker may not have attached it yet (it reads
        # its commands in order): unlinked at stop or when a new worker opens the stream
        self._retired: list[Segment] = []
        self._reader: SlotReader | None = None
        self._previous: SlotReader | None = None  # shown until the new one has a picture
        self._sid: int | None = None
        self._seen = 0  # the highest frame number handed out

    # -- life ------------------------------------------------------------------------
    def start(self) -> None:
        """Open the stream on a worker process (no-op while started)."""
        with self._lock:
            if self._sid is not None:
                return
            self._sid = sid = self._workers.new_id()
        self._workers.host(sid, self, start=True)

    def stop(self) -> None:
        """Close the stream in its worker and unlink the segment (idempotent).

        The last picture stays readable (the tile keeps showing it)."""
        with self._lock:
            sid, self._sid = self._sid, None
        if sid is None:
            return
        self._workers.unhost(sid, CloseStream(self._workers.new_id(), sid), STOP_TIMEOUT_S)
        self.release()
        self._set_status(CameraStatus(self.camera_id, CameraState.IDLE))

    def release(self) -> None:
        """Unlink the shared memory (idempotent; the workers call it when they close).

        The reader keeps its mapping (the last picture); a later start makes a new segment."""
        with self._lock:
            segs = [*self._retired, *([self._segment] if self._segment is not None else [])]
            self._segment, self._retired = None, []
        for seg in segs:
            seg.unlink()

    @property
    def workers(self) -> DecodeWorkers:
        return self._workers

    @property
    def running(self) -> bool:
        with self._lock:
            return self._sid is not None

    # -- from the workers --------------------------------------------------------------
    def open_command(self, stream_id: int, fresh: bool) -> OpenStream | None:
        with self._lock:
            if stream_id != self._sid:
                return None
            if self._segment is None or fresh:
                self._new_segment(capacity_for(*self._target), self._newest(), fresh=True)
            assert self._segment is not None
            return OpenStream(
                stream_id,
                self.camera_id,
                self.profiles,
                self._target,
                self._keyframes,
                self._segment.ref,
            )

    def _newest(self) -> int:
        """The highest frame number so far: a reopened stream's numbers go on from it."""
        newest = self._seen
        if self._reader is not None:
            newest = max(newest, self._reader.newest_seq())
        return newest

    def _new_segment(self, capacity: int, seq_offset: int, *, fresh: bool) -> Segment:
        """(Under the lock) a new segment and its reader. `fresh`: for a new worker, the
        old names go now; else the old one is kept until then (a worker still starting
        opens the stream in it first)."""
        old = [*self._retired, *([self._segment] if self._segment is not None else [])]
        self._segment = Segment(capacity)
        self._previous = self._reader if self._reader is not None else self._previous
        self._reader = SlotReader(self._segment.buf, self.camera_id, seq_offset)
        if fresh:
            self._retired = []
            for seg in old:
                seg.unlink()
        else:
            self._retired = old
        return self._segment

    def deliver(self, status: CameraStatus) -> None:
        """A status from the worker (on the workers' reader thread)."""
        self._set_status(status)

    def worker_lost(self, retry_in_s: float) -> None:
        """The worker exited: say so until the stream is reopened on another."""
        stamp = datetime.now().astimezone().strftime("%H:%M:%S")
        with self._lock:
            errors = (*self._status.last_errors, f"{stamp} {LOST_TEXT}")[-5:]
            status = replace(
                self._status,
                state=CameraState.DECODER_LOST,
                retry_in_s=retry_in_s,
                last_errors=errors,
                stats=replace(self._status.stats, fps=0.0, kbps=0.0),
            )
        self._set_status(status)

    def _set_status(self, status: CameraStatus) -> None:
        with self._lock:
            self._status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a broken observer must not kill the reader thread
                log.exception("camera %s: on_status callback failed", self.camera_id)

    def check_stall(self) -> None:
        """Nothing to do here: the worker's watchdog watches the stream, and a worker that
        exits is reported by the workers' reader thread."""

    # -- what the wall sets and reads ------------------------------------------------------
    def set_target_size(self, width: int, height: int) -> None:
        _check_size(self.camera_id, width, height)
        profile = choose_profile(self.profiles, width, height)
        with self._lock:
            self._target = (width, height)
            self._profile = profile
            sid, ref = self._sid, None
            if self._segment is not None and width * height * 4 > self._segment.capacity:
                offset = self._reader.seq_offset if self._reader is not None else 0
                ref = self._new_segment(capacity_for(width, height), offset, fresh=False).ref
        if sid is not None:
            self._workers.send(sid, SetTarget(sid, width, height, ref))

    def stream_size(self) -> tuple[int, int]:
        with self._lock:
            return self._profile.width, self._profile.height

    def set_keyframes_only(self, on: bool) -> None:
        with self._lock:
            self._keyframes = on
            stream = self._status.stream.removesuffix("+key")
            self._status = replace(self._status, stream=stream_label(stream, on) if stream else "")
            sid = self._sid
        if sid is not None:
            self._workers.send(sid, SetKeyframesOnly(sid, on))

    def take(self, after_seq: int) -> Frame | None:
        reader, previous = self._reader, self._previous
        if reader is None:
            return None
        frame = reader.take(after_seq)
        if frame is not None:
            if previous is not None:
                self._previous = None  # the new segment has pictures now
        elif previous is not None:
            frame = previous.take(after_seq)
        if frame is not None and frame.seq > self._seen:
            self._seen = frame.seq
        return frame

    def latest(self) -> Frame | None:
        reader, previous = self._reader, self._previous
        frame = reader.latest() if reader is not None else None
        if frame is None and previous is not None:
            frame = previous.latest()
        return frame

    def status(self) -> CameraStatus:
        with self._lock:
            return self._status

    @property
    def stats(self) -> StreamStats:
        return self.status().stats

    @property
    def dropped(self) -> int:
        """Pictures the worker replaced before the GUI took them (this segment)."""
        reader = self._reader
        return 0 if reader is None else reader.dropped

    # -- evidence, written by the worker -----------------------------------------------------
    def _ask(self, make: Callable[[int, int], Command]) -> Reply:
        with self._lock:
            sid = self._sid
        if sid is None:
            raise EvidenceError(f"camera {self.camera_id} is not live: no video to save")
        cmd = make(self._workers.new_id(), sid)
        try:
            reply = self._workers.request(sid, cmd, REQUEST_TIMEOUT_S)
        except WorkerLost as exc:
            raise EvidenceError(f"camera {self.camera_id}: {exc}") from None
        if reply.error is not None:
            if reply.error_type == "EvidenceError":
                raise EvidenceError(reply.error, no_space=reply.no_space)
            raise RuntimeError(f"{reply.error_type}: {reply.error}")
        return reply

    def snapshot(self, folder: Path, camera_name: str) -> Path:
        reply = self._ask(lambda req, sid: SaveSnapshot(req, sid, folder, camera_name))
        assert reply.path is not None
        return reply.path

    def save_clip(self, folder: Path, camera_name: str, seconds: float = 30.0) -> Path:
        reply = self._ask(lambda req, sid: SaveClip(req, sid, folder, camera_name, seconds))
        assert reply.path is not None
        return reply.path

    def evidence_seconds(self) -> float:
        """Seconds of video in the worker's packet ring (0 when it cannot say now)."""
        try:
            reply = self._ask(lambda req, sid: AskEvidenceSeconds(req, sid))
        except (EvidenceError, RuntimeError, TimeoutError):
            return 0.0
        return reply.number or 0.0


def _check_size(camera_id: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"camera {camera_id}: target size must be positive, got {width}x{height}")
