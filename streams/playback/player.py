"""One camera's recording played back: a decode thread pulling from the NVR form (PyAV).

Qt-free. The caller asks (`play`, `seek`, `set_speed`, `pause`, `resume`, `step`) from
any thread; the decode thread (stopped by a `threading.Event`) opens
`…/Streaming/tracks/101?starttime=…&endtime=…&speed=…` with `av.open(..., timeout=)`,
decodes and puts each picture, scaled to the target size as BGRA, into a latest-frame
slot (overwritten pictures are counted as dropped). The recorder paces the stream at
the asked speed (above x4 it sends key frames only), so a seek or a speed change is a
new request from the current position: the first picture of the new request is the
seek's "first frame".

Where a picture is in the recording (`PlaybackFrame.at_ms`) comes from the stream's
timestamps: the request's start plus the elapsed stream time times the speed (the
recorder starts at the key frame at or before the start, so it may read up to one key
frame interval early). `pause` holds the session (pictures stop being pulled; `step`
pulls exactly one); after `idle_close_s` paused the session is closed and `resume`
reopens at the paused position.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

import av
import numpy as np
import numpy.typing as npt
from av.container import InputContainer

from streams.ingest.decode import to_tile
from streams.playback.nvr import playback_url

OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "100000", "probesize": "32768"}


class PlaybackState(StrEnum):
    IDLE = "idle"  # nothing asked yet, or stopped
    OPENING = "opening"  # av.open under way for a request
    PLAYING = "playing"
    PAUSED = "paused"
    ENDED = "ended"  # the span (or the recording) ended
    FAILED = "failed"  # the request failed: `last_error` says why


@dataclass(frozen=True, slots=True)
class PlaybackFrame:
    image: npt.NDArray[np.uint8]  # BGRA at the target size (rows may be padded)
    at_ms: int  # where in the recording (Unix ms), from the stream's timestamps
    seq: int
    request: int  # which request it belongs to (a seek makes a new one)
    shown_at: float  # clock() when it was put in the slot


@dataclass(frozen=True, slots=True)
class PlaybackStatus:
    state: PlaybackState = PlaybackState.IDLE
    position_ms: int | None = None
    speed: float = 1.0
    last_error: str = ""
    frames: int = 0
    dropped: int = 0
    first_frame_ms: float | None = None  # from the request to its first picture


@dataclass(frozen=True, slots=True)
class _Request:
    n: int
    start_ms: int
    end_ms: int | None
    speed: float
    asked_at: float


class PlaybackStream:
    """See the module text. `start()`/`stop()` are safe to call twice."""

    def __init__(
        self,
        camera_id: str,
        track: str,
        *,
        target: tuple[int, int] = (640, 360),
        open_timeout_s: float = 8.0,
        read_timeout_s: float = 8.0,
        idle_close_s: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera_id = camera_id
        self.track = track
        self.target = target
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.idle_close_s = idle_close_s
        self.clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: _Request | None = None
        self._n = 0
        self._paused = False
        self._steps = 0
        self._end_ms: int | None = None
        self._frame: PlaybackFrame | None = None
        self._taken = False
        self._status = PlaybackStatus()

    # -- life ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"playback-{self.camera_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if thread is not None:
            thread.join(self.open_timeout_s + self.read_timeout_s + 2.0)
        self._set(state=PlaybackState.IDLE)

    # -- intents (any thread) -------------------------------------------------------------
    def play(self, start_ms: int, end_ms: int | None = None, speed: float = 1.0) -> None:
        """Play from `start_ms` to `end_ms` (None: to the end of the recording)."""
        playback_url(self.track, start_ms, end_ms, speed)  # bad input fails here, at once
        with self._wake:
            self._n += 1
            self._end_ms = end_ms
            self._paused = False
            self._steps = 0
            self._pending = _Request(self._n, start_ms, end_ms, speed, self.clock())
            self._wake.notify_all()
        self._set(state=PlaybackState.OPENING, speed=speed, position_ms=start_ms)

    def seek(self, at_ms: int) -> None:
        """Jump to `at_ms`, keeping the speed (and the pause: one picture is shown)."""
        status = self.status()
        paused = self._paused
        self.play(at_ms, self._end_ms, status.speed)
        if paused:
            with self._wake:
                self._paused, self._steps = True, 1

    def set_speed(self, speed: float) -> None:
        status = self.status()
        self.play(status.position_ms or 0, self._end_ms, speed)

    def pause(self) -> None:
        with self._wake:
            self._paused = True
        self._set(state=PlaybackState.PAUSED)

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._wake.notify_all()

    def step(self) -> None:
        """Paused: show the next picture."""
        with self._wake:
            self._paused = True
            self._steps += 1
            self._wake.notify_all()

    # -- what it shows ----------------------------------------------------------------------
    def latest(self) -> PlaybackFrame | None:
        with self._lock:
            return self._frame

    def take(self) -> PlaybackFrame | None:
        """The newest picture if nobody took it yet (a picture overwritten before it was
        taken counts as dropped)."""
        with self._lock:
            if self._frame is None or self._taken:
                return None
            self._taken = True
            return self._frame

    def status(self) -> PlaybackStatus:
        with self._lock:
            return self._status

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    # -- the decode thread ------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                req, self._pending = self._pending, None
                if req is None:
                    self._wake.wait(0.2)
                    continue
            self._session(req)

    def _session(self, req: _Request) -> None:
        url = playback_url(self.track, req.start_ms, req.end_ms, req.speed)
        try:
            container = av.open(
                url, options=OPTIONS, timeout=(self.open_timeout_s, self.read_timeout_s)
            )
        except Exception as exc:  # every open failure is shown, none retried on its own
            self._set(state=PlaybackState.FAILED, last_error=_error_text(exc))
            return
        try:
            outcome = self._decode(container, req)
        except Exception as exc:  # a broken stream ends this request, with its reason
            self._set(state=PlaybackState.FAILED, last_error=_error_text(exc))
            return
        finally:
            container.close()
        if outcome == "ended":
            self._set(state=PlaybackState.ENDED)
        elif outcome == "idle":  # paused too long: reopen at the position on resume
            self._reopen_on_resume(req)

    def _reopen_on_resume(self, req: _Request) -> None:
        pos = self.status().position_ms or req.start_ms
        with self._wake:
            while self._paused and self._pending is None and not self._stop.is_set():
                if self._steps:
                    break
                self._wake.wait(0.2)
            if self._pending is None and not self._stop.is_set():
                self._n += 1
                self._pending = _Request(self._n, pos, req.end_ms, req.speed, self.clock())

    def _decode(self, container: InputContainer, req: _Request) -> str:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        tb = float(stream.time_base or 0)
        pts0: int | None = None
        seq = 0
        for packet in container.demux(stream):
            for frame in packet.decode():
                if pts0 is None:
                    pts0 = frame.pts or 0
                at = req.start_ms + round(((frame.pts or 0) - pts0) * tb * 1000 * req.speed)
                seq += 1
                self._show(to_tile(frame, self.target), at, seq, req)
                hold = self._hold(req)
                if hold is not None:
                    return hold
        return "ended"

    def _show(self, image: npt.NDArray[np.uint8], at: int, seq: int, req: _Request) -> None:
        now = self.clock()
        with self._lock:
            unseen = self._frame is not None and not self._taken
            self._frame = PlaybackFrame(image, at, seq, req.n, now)
            self._taken = False
            first = self._status.first_frame_ms
            if seq == 1:
                first = (now - req.asked_at) * 1000.0
            state = PlaybackState.PAUSED if self._paused else PlaybackState.PLAYING
            self._status = replace(
                self._status,
                state=state,
                position_ms=at,
                frames=self._status.frames + 1,
                dropped=self._status.dropped + (1 if unseen else 0),
                first_frame_ms=first,
                last_error="",
            )

    def _hold(self, req: _Request) -> str | None:
        """Between pictures: a new request ends this one; paused waits (or steps)."""
        with self._wake:
            if self._stop.is_set():
                return "stop"
            if self._pending is not None:
                return "replaced"
            if not self._paused:
                return None
            if self._steps:
                self._steps -= 1
                return None
            since = self.clock()
            while self._paused and not self._steps and self._pending is None:
                if self._stop.is_set():
                    return "stop"
                if self.clock() - since > self.idle_close_s:
                    return "idle"
                self._wake.wait(0.2)
            if self._pending is not None:
                return "replaced"
            if self._steps:
                self._steps -= 1
            return None


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    # the URL may carry credentials: never shown
    return text.split(": 'rtsp://")[0]
