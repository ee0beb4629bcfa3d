"""RTSP ingest: one decode thread per camera, PyAV's pull model, a latest-frame slot.

The decode thread opens the camera with `av.open(..., timeout=(open_s, read_s))` (never
without a timeout), demuxes, keeps the encoded packets for evidence, decodes without frame
threading (frame threads hold back frames), scales to the tile size in this thread
(`reformat` to BGRA with FAST_BILINEAR) and puts the result into a `FrameSlot`; the
painter takes the newest frame, and frames it never took count as dropped.

State is explicit (`CameraState`): connecting, live, stalled, offline, retrying, auth
failed, not found, no video. End of stream on a live source is a disconnect. Failures are
retried with capped exponential backoff (`streams.ingest.backoff`); wrong credentials,
unknown paths and a stream without video (audio only) only slowly. Credentials never
appear in an error text.

The concepts live beside it: failure → state and scrubbed texts in
`streams.ingest.failures`, the stall watchdog in `streams.ingest.watchdog`, opening,
rates and scaling of a session in `streams.ingest.decode`; this module is the stream
object and its decode loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from av.video.frame import VideoFrame

from streams.ingest.backoff import SLOW_STATES, Backoff, policy_for
from streams.ingest.decode import (
    BehindMeter,
    RateWindow,
    TileScaler,
    is_activity,
    open_container,
    open_options,
    skip_deblocking,
    stream_label,
)
from streams.ingest.evidence import (
    ClipTemplate,
    EvidenceError,
    PacketRing,
    write_clip,
    write_snapshot,
)
from streams.ingest.failures import NoVideoError, classify_error, redact, url_secrets
from streams.ingest.pool import DECODE_POOL, DecodePool
from streams.ingest.profiles import choose_profile
from streams.ingest.slot import FrameSlot
from streams.ingest.types import CameraState, CameraStatus, Frame, StreamProfile
from streams.ingest.watchdog import WATCHDOG

log = logging.getLogger(__name__)

MAX_ERRORS = 5
STATS_INTERVAL_S = 0.5
STATS_WINDOW_S = 2.0


@dataclass(frozen=True, slots=True)
class _FullFrame:
    frame: VideoFrame
    captured_at: float  # wall clock (time.time()); a datetime only when a snapshot is saved


_Outcome = Literal["stopped", "switch", "eof"]


KEYFRAMES_ONLY_STALL_S = 10.0  # in key-frame-only mode a frame comes once per GOP
# Decoding this far behind the camera (a backlog in the sockets: the machine cannot keep
# up), the stream skips to the next key frame instead of showing ever older pictures;
# it decodes every frame again once a key frame is less than half of this behind.
# HALL_INGEST_CATCH_UP_S overrides it (the wall bench's --no-shed: "inf", decode processes too)
CATCH_UP_S = float(os.environ.get("HALL_INGEST_CATCH_UP_S", "1.0"))


# --- the camera stream -----------------------------------------------------------------


class CameraStream:
    """One camera's ingest: a decode thread, its state and stats, and its evidence ring.

    `on_status` is called from the decode thread (or, for "stalled", from the shared
    watchdog thread) on every state change and at most every 0.5 s with fresh stats. It
    must return quickly and must not call `stop()`: the console turns it into a queued
    Qt signal.
    """

    def __init__(
        self,
        camera_id: str,
        profiles: Sequence[StreamProfile],
        *,
        target_size: tuple[int, int] = (480, 270),
        open_timeout_s: float = 3.0,
        read_timeout_s: float = 2.0,
        transport: str = "tcp",
        ring_seconds: float = 35.0,
        ring_max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
        on_status: Callable[[CameraStatus], None] | None = None,
        pool: DecodePool = DECODE_POOL,
        slot: FrameSlot | None = None,
    ) -> None:
        if not profiles:
            raise ValueError(f"camera {camera_id}: no stream profiles")
        _check_size(camera_id, *target_size)
        if open_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError(f"camera {camera_id}: timeouts must be positive")
        self.camera_id = camera_id
        self.profiles = tuple(profiles)
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self._options = open_options(transport)
        self._clock = clock
        self._on_status = on_status
        self._pool = pool
        self._secrets = tuple(s for p in self.profiles for s in url_secrets(p.url))

        self._lock = threading.Lock()  # guards everything below that both threads touch
        self._target = target_size
        self._profile = choose_profile(self.profiles, *target_size)  # for the target size
        self._keyframes_only = False
        self._status = CameraStatus(camera_id, CameraState.IDLE)
        self._errors: deque[str] = deque(maxlen=MAX_ERRORS)
        self._retry_deadline: float | None = None
        self._last_frame_at: float | None = None
        self._last_packet_at: float | None = None  # last packet that was not a timeout echo
        self._prev_packet_at: float | None = None  # last packet of any kind
        self._full: _FullFrame | None = None
        self._seq = 0
        self._frames = 0
        self._reconnects = 0
        self._catch_ups = 0
        self._first_frame_ms: float | None = None

        self._slot = FrameSlot() if slot is None else slot  # a decode worker's: shared memory
        self._ring = PacketRing(ring_seconds, ring_max_bytes)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

        # decode-thread-only stats
        self._frame_window = RateWindow(STATS_WINDOW_S)
        self._byte_window = RateWindow(STATS_WINDOW_S)
        self._decode_ms: deque[float] = deque(maxlen=50)  # CPU time of the thread, ms
        self._scale_ms: deque[float] = deque(maxlen=50)
        self._decode_cpu_s = 0.0  # summed over the stream's life (the bench's cost split)
        self._scale_cpu_s = 0.0
        self._scaler = TileScaler()
        self._behind = BehindMeter()
        self._behind_s = 0.0
        self._last_emit = float("-inf")
        self._went_live = False
        self._frames_since_state = 0

    # --- public API (any thread) ---------------------------------------------------------

    def start(self) -> None:
        """Start the decode thread (no-op if it runs).

        After `stop(join=False)` the old thread may still be finishing: it is joined first
        (at most the open+read timeouts), so two threads never feed one slot.
        """
        with self._lock:
            old = self._thread
        if old is not None and old.is_alive() and self._stop.is_set():
            old.join(self.open_timeout_s + self.read_timeout_s + 5.0)
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                if self._stop.is_set():
                    raise RuntimeError(f"camera {self.camera_id}: decode thread did not stop")
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"ingest-{self.camera_id}", daemon=True
            )
            thread = self._thread
        thread.start()

    def stop(self, *, join: bool = True) -> None:
        """Stop decoding; with `join` wait for the thread (at most the open+read timeouts).

        Idempotent. The last frame, the snapshot frame and the packet ring are kept.
        """
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        if join and thread is not threading.current_thread():
            thread.join(self.open_timeout_s + self.read_timeout_s + 5.0)
            if thread.is_alive():
                log.warning("camera %s: decode thread did not stop in time", self.camera_id)
                return
            with self._lock:
                if self._thread is thread:
                    self._thread = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def set_target_size(self, width: int, height: int) -> None:
        """Scale to `width`x`height` from the next frame; may switch sub <-> main (the thread
        reopens the other stream and the old picture stays until the new one arrives)."""
        _check_size(self.camera_id, width, height)
        profile = choose_profile(self.profiles, width, height)
        with self._lock:
            self._target = (width, height)
            self._profile = profile

    def stream_size(self) -> tuple[int, int]:
        """The full size of the stream this tile decodes (or will, once a switch is done)."""
        with self._lock:
            return self._profile.width, self._profile.height

    def set_keyframes_only(self, on: bool) -> None:
        """Decode key frames only (load shedding); `status().stream` then ends in "+key"."""
        with self._lock:
            self._keyframes_only = on
            self._status = replace(
                self._status,
                stream=stream_label(self._status.stream.removesuffix("+key"), on)
                if self._status.stream
                else "",
            )

    def latest(self) -> Frame | None:
        return self._slot.latest()

    def take(self, after_seq: int) -> Frame | None:
        return self._slot.take(after_seq)

    def status(self) -> CameraStatus:
        """A consistent snapshot of state, errors and stats (ages computed now)."""
        with self._lock:
            return self._status_locked()

    def snapshot(self, folder: Path, camera_name: str) -> Path:
        """The last decoded picture at the stream's full size, as PNG with metadata."""
        with self._lock:
            full = self._full
        if full is None:
            raise EvidenceError(f"camera {self.camera_id} is not live: no frames to save")
        captured = datetime.fromtimestamp(full.captured_at).astimezone()
        return write_snapshot(full.frame, folder, self.camera_id, camera_name, captured)

    def evidence_seconds(self) -> float:
        """How many seconds of video the packet ring holds now (what a clip can cover)."""
        return self._ring.span_s()

    def save_clip(self, folder: Path, camera_name: str, seconds: float = 30.0) -> Path:
        """The last ~`seconds` (from the key frame at or before the start) as MP4 + .sha256."""
        source = self._ring.clip(seconds)
        if source is None or not source.packets:
            raise EvidenceError(f"camera {self.camera_id} is not live: no video to save")
        return write_clip(source, folder, self.camera_id, camera_name, datetime.now().astimezone())

    # --- status bookkeeping --------------------------------------------------------------

    def _status_locked(self) -> CameraStatus:
        now = self._clock()
        retry_in = None
        if self._retry_deadline is not None:
            retry_in = max(0.0, self._retry_deadline - now)
        age = None if self._last_frame_at is None else max(0.0, now - self._last_frame_at)
        stats = replace(
            self._status.stats,
            last_frame_age_s=age,
            frames=self._frames,
            dropped=self._slot.dropped,
            reconnects=self._reconnects,
            catch_ups=self._catch_ups,
            first_frame_ms=self._first_frame_ms,
            decode_cpu_s=self._decode_cpu_s,  # floats written by the decode thread alone
            scale_cpu_s=self._scale_cpu_s,
        )
        return replace(
            self._status, retry_in_s=retry_in, last_errors=tuple(self._errors), stats=stats
        )

    def _set_state(
        self,
        state: CameraState,
        *,
        profile: str | None = None,
        error: str | None = None,
        retry_in_s: float | None = None,
        expect: CameraState | None = None,
    ) -> None:
        with self._lock:
            if expect is not None and self._status.state is not expect:
                return  # someone else changed the state first
            if error is not None:
                stamp = datetime.now().astimezone().strftime("%H:%M:%S")
                self._errors.append(f"{stamp} {redact(error, self._secrets)}")
            self._retry_deadline = None if retry_in_s is None else self._clock() + retry_in_s
            stream = self._status.stream
            if profile is not None:
                stream = stream_label(profile, self._keyframes_only)
            if state is not CameraState.LIVE:
                stats = replace(self._status.stats, fps=0.0, kbps=0.0)
                self._status = replace(self._status, stats=stats)
            if state is not self._status.state:
                self._frames_since_state = 0
            self._status = replace(self._status, state=state, stream=stream)
            snapshot = self._status_locked()
        self._emit(snapshot)

    def _emit(self, status: CameraStatus) -> None:
        self._last_emit = self._clock()
        if self._on_status is None:
            return
        try:
            self._on_status(status)
        except Exception:  # a broken observer must not kill ingest
            log.exception("camera %s: on_status callback failed", self.camera_id)

    def check_stall(self) -> None:
        """(Watchdog thread) a live camera whose data stopped becomes stalled.

        `on_status` is then called from the watchdog thread, not the decode thread.
        """
        now = self._clock()
        with self._lock:
            if self._status.state is not CameraState.LIVE:
                return
            frame_limit = self.read_timeout_s
            if self._keyframes_only:
                frame_limit = max(frame_limit, KEYFRAMES_ONLY_STALL_S)
            packet_age = now - (self._last_packet_at or now)
            frame_age = now - (self._last_frame_at or now)
            if packet_age <= self.read_timeout_s and frame_age <= frame_limit:
                return
        self._set_state(
            CameraState.STALLED,
            error=f"no frame from the camera for {max(packet_age, frame_age):.1f} s",
            expect=CameraState.LIVE,
        )

    # --- decode thread -------------------------------------------------------------------

    def _wanted_profile(self) -> StreamProfile:
        with self._lock:
            return self._profile

    def _run(self) -> None:
        backoff = Backoff()
        attempts = 0
        WATCHDOG.add(self)
        try:
            while not self._stop.is_set():
                profile = self._wanted_profile()
                if attempts > 0:
                    with self._lock:
                        self._reconnects += 1
                attempts += 1
                self._set_state(CameraState.CONNECTING, profile=profile.name)
                went_live = False
                try:
                    outcome, went_live = self._session(profile)
                except Exception as exc:
                    state, text = classify_error(exc)
                    if state is CameraState.OFFLINE and text.startswith("unexpected"):
                        log.exception("camera %s: unexpected ingest error", self.camera_id)
                    went_live = self._went_live
                    if self.status().state is CameraState.STALLED:
                        # the watchdog saw the data stop; the demuxer's error is its echo
                        state = CameraState.STALLED
                else:
                    if outcome == "stopped":
                        break
                    if outcome == "switch":
                        attempts = 0  # a deliberate switch is not a reconnect
                        continue
                    state, text = CameraState.OFFLINE, "end of stream (camera closed the session)"
                if self._stop.is_set():
                    break  # the failure was caused by stopping, or is moot now
                if went_live:
                    backoff.reset()
                delay = backoff.next_delay(policy_for(state))
                if state in SLOW_STATES:
                    # a person has to fix this: keep saying so while waiting (slowly)
                    self._set_state(state, error=text, retry_in_s=delay)
                else:
                    self._set_state(state, error=text)
                    self._set_state(CameraState.RETRYING, retry_in_s=delay)
                self._stop.wait(delay)
        finally:
            WATCHDOG.remove(self)
            self._set_state(CameraState.IDLE)

    def _session(self, profile: StreamProfile) -> tuple[_Outcome, bool]:
        """One connection: open, demux, decode until stop, switch, end of stream or error."""
        self._went_live = False
        t_open = self._clock()
        container = open_container(
            profile.url, self._options, self.open_timeout_s, self.read_timeout_s, self._clock
        )
        try:
            if not container.streams.video:
                raise NoVideoError("the camera's stream has no video")
            vstream = container.streams.video[0]
            ctx = vstream.codec_context
            ctx.thread_count = 1  # no frame threading: it holds back 1-2 frames
            with self._lock:
                tile = self._target
            if skip_deblocking((profile.width, profile.height), tile):
                ctx.options = {"skip_loop_filter": "all"}  # read when the decoder opens
            self._ring.begin(ClipTemplate.from_stream(vstream))
            self._frame_window.clear()
            self._behind.reset()
            self._behind_s = 0.0
            self._prev_packet_at = None
            self._byte_window.clear()
            self._scaler = TileScaler()  # a new session may bring another size or format
            applied_key = False
            catching_up = False
            first = True
            for packet in container.demux(vstream):
                now = self._clock()  # the packet's arrival, before any wait for a place
                with self._pool.place():  # the network read above waits outside it
                    if self._stop.is_set():
                        return "stopped", self._went_live
                    with self._lock:
                        target = self._target
                        key_only = self._keyframes_only
                        wanted = self._profile
                    if wanted is not profile:
                        return "switch", self._went_live
                    catching_up = self._catching_up(catching_up)
                    skip = key_only or catching_up
                    if skip != applied_key:
                        ctx.skip_frame = "NONKEY" if skip else "DEFAULT"
                        applied_key = skip
                    if packet.size == 0:
                        continue  # the flush packet at end of stream
                    prev: float | None = self._prev_packet_at
                    self._prev_packet_at = now
                    if is_activity(prev, now, self.read_timeout_s):
                        self._last_packet_at = now
                    self._byte_window.add(now, packet.size)
                    self._ring.keep(packet)
                    t0 = time.thread_time()
                    frames = ctx.decode(packet)
                    spent = time.thread_time() - t0
                    self._decode_cpu_s += spent
                    self._decode_ms.append(spent * 1000.0)
                    for frame in frames:
                        self._deliver(frame, profile, target)
                        if first:
                            first = False
                            with self._lock:
                                self._first_frame_ms = (self._clock() - t_open) * 1000.0
            return "eof", self._went_live
        finally:
            container.close()

    def _catching_up(self, was: bool) -> bool:
        """Whether to skip to key frames to catch up with the camera (see CATCH_UP_S)."""
        if not was and self._behind_s > CATCH_UP_S:
            with self._lock:
                self._catch_ups += 1
            return True
        return was and self._behind_s >= CATCH_UP_S / 2

    def _deliver(self, frame: VideoFrame, profile: StreamProfile, target: tuple[int, int]) -> None:
        t0 = time.thread_time()
        image = self._scaler(frame, target)
        spent = time.thread_time() - t0
        self._scale_cpu_s += spent
        self._scale_ms.append(spent * 1000.0)
        now = self._clock()
        self._frame_window.add(now, 1.0)
        if frame.time is not None:
            self._behind_s = self._behind.add(now, float(frame.time))
        with self._lock:
            self._seq += 1
            self._frames += 1
            self._last_frame_at = now
            self._full = _FullFrame(frame, time.time())
            seq = self._seq
            state = self._status.state
        self._slot.put(
            Frame(
                camera_id=self.camera_id,
                image=image,
                seq=seq,
                pts_s=float(frame.time) if frame.time is not None else 0.0,
                decoded_at=now,
                source_width=frame.width,
                source_height=frame.height,
                stream=profile.name,
            )
        )
        self._frames_since_state += 1
        if state is CameraState.STALLED and self._frames_since_state < 2:
            # FFmpeg hands out the last buffered frame when its read times out: one frame
            # after a stall is that echo, not the camera coming back
            pass
        elif state is not CameraState.LIVE:
            self._went_live = True
            self._update_stats(now)
            self._set_state(CameraState.LIVE, profile=profile.name)
        elif now - self._last_emit >= STATS_INTERVAL_S:
            self._update_stats(now)
            with self._lock:
                snapshot = self._status_locked()
            self._emit(snapshot)

    def _update_stats(self, now: float) -> None:
        fps, _ = self._frame_window.rate(now)
        _, bytes_per_s = self._byte_window.rate(now)
        decode_ms = _median(self._decode_ms)
        scale_ms = _median(self._scale_ms)
        with self._lock:
            self._status = replace(
                self._status,
                stats=replace(
                    self._status.stats,
                    fps=fps,
                    kbps=bytes_per_s * 8 / 1000.0,
                    decode_ms=decode_ms,
                    scale_ms=scale_ms,
                    behind_ms=self._behind_s * 1000.0,
                ),
            )


def _median(values: Iterable[float]) -> float:
    ms = sorted(values)
    return ms[len(ms) // 2] if ms else 0.0


def _check_size(camera_id: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"camera {camera_id}: target size must be positive, got {width}x{height}")
