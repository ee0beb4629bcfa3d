"""A shared screen or document page as a video track (the meeting console's 共享): the
latest picture put by whoever grabs it (a window, a PDF page rendered once) is sent at a
steady few frames a second, the same picture again while nothing new came (a document
stays on the screen; the encoder makes those frames tiny).

`put(rgb)` may be called from any thread (the console grabs on the Qt thread; aiortc
pulls on its own loop); only the newest picture is kept, never a queue. The picture's
size may change between puts (another window); each side is made even (VP8, I420).
"""

from __future__ import annotations

import asyncio
import fractions
import threading
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_CLOCK = 90_000


def even(rgb: np.ndarray) -> np.ndarray:
    """The picture cut to even width and height (I420 needs both)."""
    h, w = rgb.shape[:2]
    return rgb[: h - h % 2, : w - w % 2]


class LatestFrameTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, fps: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.fps = fps
        self.clock = clock
        self.sent = 0
        self.puts = 0
        self._lock = threading.Lock()
        self._rgb: np.ndarray | None = None
        self._got = threading.Event()
        self._start: float | None = None

    def put(self, rgb: np.ndarray) -> None:
        """The newest picture (height × width × 3, RGB, uint8)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 2 or rgb.shape[1] < 2:
            raise ValueError(f"not an RGB picture: {rgb.shape}")
        pic = np.ascontiguousarray(even(rgb), dtype=np.uint8)
        with self._lock:
            self._rgb = pic
            self.puts += 1
        self._got.set()

    def latest(self) -> np.ndarray | None:
        with self._lock:
            return self._rgb

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        while not self._got.is_set():  # nothing to show yet
            await asyncio.sleep(0.05)
            if self.readyState != "live":
                raise MediaStreamError
        now = self.clock()
        if self._start is None:
            self._start = now
        due = self._start + self.sent / self.fps
        if due > now:
            await asyncio.sleep(due - now)
        rgb = self.latest()
        assert rgb is not None
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = round((self.clock() - self._start) * VIDEO_CLOCK)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.sent += 1
        return frame
