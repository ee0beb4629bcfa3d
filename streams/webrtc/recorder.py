"""Records a room: every participant composited into one picture, all voices mixed.

Fragmented MP4 (`movflags=frag_keyframe+empty_moov+default_base_moof`, a key frame
every `KEY_S`) with H.264 (libx264, ultrafast) and AAC, which PyAV and every browser
play. A plain MP4 writes its index (moov) only at the end, so a process killed while
recording would leave an unreadable file; a fragmented one is playable up to its last
complete fragment (at most `KEY_S` lost). The
picture is a grid (1, 2, 2x2 or 3x2 tiles) of the newest frame of each participant
with its label (CJK font, `streams.webrtc.labels`), at `fps`; the sound is the sum of
everyone's audio, resampled to 48 kHz mono. Wall-clock driven: a thread ticks at `fps`
and writes one picture and 1/fps s of sound per tick whatever arrives, so the file's
length is the time recorded. A thread starved of CPU for more than a second does not
catch up frame by frame (it would never see the stop, and the file would run on past
it): it skips to the present, the picture held over the gap and the sound silent
(`frames_skipped`).

`set_sources([(label, video, audio), ...])` (on the loop) can change who is recorded at
any time; the pulling runs as asyncio tasks, the composing and encoding in the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from numpy.typing import NDArray

from streams.private import private_file
from streams.webrtc.labels import draw_label

log = logging.getLogger(__name__)

RATE = 48_000
MAX_BACKLOG = RATE // 5  # 200 ms of sound per participant at most
KEY_S = 1.0  # a key frame, hence a fragment, every second
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


def grid_shape(n: int) -> tuple[int, int]:
    """(columns, rows) for n tiles."""
    if n <= 1:
        return 1, 1
    if n == 2:
        return 2, 1
    if n <= 4:
        return 2, 2
    return 3, math.ceil(n / 3)


@dataclass
class _Source:
    label: str
    video: MediaStreamTrack | None
    audio: MediaStreamTrack | None
    picture: NDArray[np.uint8] | None = None
    sound: list[NDArray[np.int16]] = field(default_factory=list)
    queued: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Recorder:
    def __init__(self, path: Path, *, width: int = 960, height: int = 540, fps: int = 15) -> None:
        self.path = path
        self.width, self.height, self.fps = width, height, fps
        self._sources: dict[str, _Source] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_written = 0
        self.frames_skipped = 0  # ticks the starved thread skipped (the picture held)
        self.error: BaseException | None = None

    async def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        for key in list(self._sources):
            self._drop(key)
        if thread is None:
            return
        self._stop.set()
        await asyncio.to_thread(thread.join, 30.0)

    def set_sources(
        self, sources: Sequence[tuple[str, MediaStreamTrack | None, MediaStreamTrack | None]]
    ) -> None:
        want = {label: (v, a) for label, v, a in sources}
        for key in list(self._sources):
            s = self._sources[key]
            if key not in want or want[key] != (s.video, s.audio):
                self._drop(key)
        for label, (v, a) in want.items():
            if label in self._sources:
                continue
            s = _Source(label, v, a)
            if v is not None:
                s.tasks.append(asyncio.ensure_future(self._pull_video(s, v)))
            if a is not None:
                s.tasks.append(asyncio.ensure_future(self._pull_audio(s, a)))
            with self._lock:
                self._sources[label] = s

    def _drop(self, key: str) -> None:
        with self._lock:
            s = self._sources.pop(key, None)
        if s is not None:
            for t in s.tasks:
                t.cancel()

    async def _pull_video(self, s: _Source, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.VideoFrame)
                cols, rows = grid_shape(max(1, len(self._sources)))
                tw, th = self.width // cols // 2 * 2, self.height // rows // 2 * 2
                pic = np.asarray(
                    frame.reformat(width=tw, height=th, format="rgb24", threads=1).to_ndarray(),
                    dtype=np.uint8,
                )
                with self._lock:
                    s.picture = pic

    async def _pull_audio(self, s: _Source, track: MediaStreamTrack) -> None:
        res = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.AudioFrame)
                frame.pts = None
                for out in res.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.int16)
                    with self._lock:
                        s.sound.append(chunk)
                        s.queued += len(chunk)
                        while s.queued - len(s.sound[0]) > MAX_BACKLOG:
                            s.queued -= len(s.sound.pop(0))

    # -- the thread -----------------------------------------------------------------------
    def _compose(self) -> tuple[NDArray[np.uint8], NDArray[np.int16]]:
        need = RATE // self.fps
        canvas = np.full((self.height, self.width, 3), 24, dtype=np.uint8)
        mix = np.zeros(need, dtype=np.int32)
        with self._lock:
            sources = list(self._sources.values())
            cols, rows = grid_shape(max(1, len(sources)))
            tw, th = self.width // cols // 2 * 2, self.height // rows // 2 * 2
            for i, s in enumerate(sources):
                x, y = (i % cols) * tw, (i // cols) * th
                pic = s.picture
                if pic is not None and pic.shape[0] == th and pic.shape[1] == tw:
                    canvas[y : y + th, x : x + tw] = pic
                draw_label(canvas, s.label, x + 6, y + th - 34)
                got = 0
                while got < need and s.sound:
                    head = s.sound[0]
                    take = min(need - got, len(head))
                    mix[got : got + take] += head[:take]
                    got += take
                    s.queued -= take
                    if take == len(head):
                        s.sound.pop(0)
                    else:
                        s.sound[0] = head[take:]
        return canvas, np.clip(mix, -32768, 32767).astype(np.int16)

    def _run(self) -> None:
        try:
            self._record()
        except BaseException as exc:  # keep it: the session reports a failed recording
            self.error = exc
            log.exception("recording %s failed", self.path)

    def _record(self) -> None:
        private_file(self.path)  # 0600 in a 0700 folder; the muxer keeps the mode
        # fragmented MP4: a key frame every KEY_S closes a fragment, so a hub that is
        # killed mid-recording leaves a file that plays up to its last fragment
        with av.open(str(self.path), "w", format="mp4", options=dict(FRAGMENTED)) as out:
            vs = out.add_stream("libx264", rate=self.fps)
            vs.width, vs.height, vs.pix_fmt = self.width, self.height, "yuv420p"
            vs.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "crf": "28",
                "g": str(round(self.fps * KEY_S)),
            }
            vs.codec_context.time_base = Fraction(1, self.fps)
            aus = out.add_stream("aac", rate=RATE)
            aus.layout = "mono"
            res = av.AudioResampler(format="fltp", layout="mono", rate=RATE, frame_size=1024)
            t0 = time.monotonic()
            n = 0
            apts = 0

            def sound_out(sound: NDArray[np.int16]) -> None:
                nonlocal apts
                af = av.AudioFrame.from_ndarray(sound.reshape(1, -1), format="s16", layout="mono")
                af.sample_rate = RATE
                af.pts = apts
                af.time_base = Fraction(1, RATE)
                apts += len(sound)
                for rf in res.resample(af):
                    for pkt in aus.encode(rf):
                        out.mux(pkt)

            while True:
                now = time.monotonic()
                delay = t0 + n / self.fps - now
                if delay > 0:
                    if self._stop.wait(delay):
                        break
                    continue
                if self._stop.is_set():
                    break
                behind = math.floor((now - t0) * self.fps) - n
                if behind > self.fps:  # starved for over a second: skip to the present
                    skip = behind - 1
                    sound_out(np.zeros(skip * (RATE // self.fps), dtype=np.int16))
                    n += skip
                    self.frames_skipped += skip
                canvas, sound = self._compose()
                vf = av.VideoFrame.from_ndarray(canvas, format="rgb24")
                vf.pts = n
                vf.time_base = Fraction(1, self.fps)
                for pkt in vs.encode(vf):
                    out.mux(pkt)
                sound_out(sound)
                n += 1
                self.frames_written += 1
            for rf in res.resample(None):
                for pkt in aus.encode(rf):
                    out.mux(pkt)
            for pkt in aus.encode(None):
                out.mux(pkt)
            for pkt in vs.encode(None):
                out.mux(pkt)
