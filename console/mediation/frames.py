"""Video frames of the call turned into BGRA pictures off the GUI thread.

The network thread hands every decoded frame to `offer(key, frame)` (cheap: it keeps only
the latest frame per key); one converter thread scales each to the size its tile asked
for (`set_size`) as BGRA (PyAV, FAST_BILINEAR) and hands `(key, array)` to `deliver`,
which posts it to the Qt thread. A slow GUI therefore drops frames, never queues them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt

Deliver = Callable[[str, npt.NDArray[np.uint8]], None]
DEFAULT_SIZE = (320, 240)


def to_bgra(frame: av.VideoFrame, width: int, height: int) -> npt.NDArray[np.uint8]:
    """`frame` scaled to width x height (even sizes) as a (h, w, 4) BGRA array."""
    w, h = max(2, width - width % 2), max(2, height - height % 2)
    out = frame.reformat(width=w, height=h, format="bgra", interpolation="FAST_BILINEAR", threads=1)
    return np.asarray(out.to_ndarray(), dtype=np.uint8)


class FrameConverter:
    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._latest: dict[str, av.VideoFrame] = {}
        self._sizes: dict[str, tuple[int, int]] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = False
        self.converted = 0

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="mediation-frames", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._cond:
            thread, self._thread = self._thread, None
            self._stop = True
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout_s)

    def set_size(self, key: str, width: int, height: int) -> None:
        with self._cond:
            self._sizes[key] = (width, height)

    def offer(self, key: str, frame: av.VideoFrame) -> None:
        """Thread-safe; keeps only the newest frame per key."""
        with self._cond:
            self._latest[key] = frame
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._latest and not self._stop:
                    self._cond.wait(1.0)
                if self._stop:
                    return
                batch, self._latest = self._latest, {}
                sizes = dict(self._sizes)
            for key, frame in batch.items():
                w, h = sizes.get(key, DEFAULT_SIZE)
                try:
                    arr = to_bgra(frame, w, h)
                except (ValueError, av.FFmpegError):
                    continue
                self.converted += 1
                self._deliver(key, arr)
