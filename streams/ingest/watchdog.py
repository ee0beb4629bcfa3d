"""One thread for all cameras that marks a live camera stalled when its data stops.

The decode thread cannot notice by itself: it is blocked in the demuxer until PyAV's
read timeout fires (and FFmpeg's RTSP demuxer then reports an I/O error after about
twice the timeout).
"""

from __future__ import annotations

import threading
from typing import Protocol


class Watched(Protocol):
    def check_stall(self) -> None: ...


class Watchdog:
    """The shared watchdog; its thread runs only while some camera is started."""

    INTERVAL_S = 0.1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: set[Watched] = set()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    def add(self, stream: Watched) -> None:
        with self._lock:
            self._streams.add(stream)
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="ingest-watchdog", daemon=True
                )
                self._thread.start()

    def remove(self, stream: Watched) -> None:
        """Forget `stream`; the last one out stops and joins the thread."""
        with self._lock:
            self._streams.discard(stream)
            if self._streams or self._thread is None or self._stop is None:
                return
            thread, stop = self._thread, self._stop
            self._thread = self._stop = None
        stop.set()
        if thread is not threading.current_thread():
            thread.join(5.0)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.INTERVAL_S):
            with self._lock:
                streams = list(self._streams)
            for s in streams:
                s.check_stall()


WATCHDOG = Watchdog()
