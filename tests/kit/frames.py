"""A decoded RTSP stream's luma in the background, for tests and benchmarks that read
what a camera shows (PTZ movement): a thread per stream stopped by an Event, PyAV with
timeouts, the newest frames kept with their arrival times (monotonic seconds)."""

from __future__ import annotations

import threading
import time
from collections import deque

import av
import numpy as np
import numpy.typing as npt

OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
Luma = npt.NDArray[np.uint8]


class LumaReader:
    """`start()` opens `url` and decodes in a thread; `frames_after(t)` and `latest()`
    read what arrived. `stop()` is safe twice."""

    def __init__(self, url: str, *, keep: int = 400) -> None:
        self.url = url
        self._frames: deque[tuple[float, Luma]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="luma-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None

    def _run(self) -> None:
        try:
            with av.open(self.url, options=OPTIONS, timeout=(5.0, 5.0)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "SLICE"
                for frame in container.decode(stream):
                    luma: Luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
                    with self._lock:
                        self._frames.append((time.monotonic(), luma))
                    if self._stop.is_set():
                        return
        except BaseException as exc:  # reported to the test through `error`
            self.error = exc

    def latest(self) -> tuple[float, Luma] | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def frames_after(self, t: float) -> list[tuple[float, Luma]]:
        with self._lock:
            return [f for f in self._frames if f[0] > t]

    def wait_frame_after(self, t: float, timeout_s: float = 10.0) -> Luma:
        """The first frame that arrived after `t` (monotonic), waiting for it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.frames_after(t)
            if got:
                return got[0][1]
            if self.error is not None:
                raise RuntimeError(f"reading {self.url} failed: {self.error!r}")
            time.sleep(0.02)
        raise TimeoutError(f"no frame from {self.url} within {timeout_s} s")

    def __enter__(self) -> LumaReader:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
