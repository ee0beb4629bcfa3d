"""The latest-frame slot between one decode thread and the painter: never a queue.

The decode thread `put`s every frame; the painter `take`s the newest one it has not
seen yet. A frame that is overwritten before anyone took it is counted as dropped,
so a painter that cannot keep up shows up in the stats instead of building a backlog.
"""

from __future__ import annotations

import threading

from streams.ingest.types import Frame


class FrameSlot:
    """Holds at most one frame (the newest); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._taken = True  # nothing pending: an empty slot overwrites nothing
        self._dropped = 0
        self._puts = 0

    def put(self, frame: Frame) -> None:
        """Store `frame` as the newest; the pending one, if never taken, counts as dropped."""
        with self._lock:
            if not self._taken:
                self._dropped += 1
            self._frame = frame
            self._taken = False
            self._puts += 1

    def latest(self) -> Frame | None:
        """The newest frame (taken or not), or None; does not mark it as taken."""
        with self._lock:
            return self._frame

    def take(self, after_seq: int) -> Frame | None:
        """The newest frame if its seq is greater than `after_seq` (and mark it taken)."""
        with self._lock:
            frame = self._frame
            if frame is None or frame.seq <= after_seq:
                return None
            self._taken = True
            return frame

    def clear(self) -> None:
        """Forget the frame (a pending untaken frame is not counted as dropped)."""
        with self._lock:
            self._frame = None
            self._taken = True

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    @property
    def puts(self) -> int:
        with self._lock:
            return self._puts
