"""The decode pool: at most `workers` cameras decode at the same time, whatever their count.

Every camera keeps its own thread for the network (`av.open`, the demuxer's blocking
read, reconnects and backoff), but the work on a packet (keeping it for evidence,
decoding, scaling to the tile, handing the frame over) happens only while the thread
holds one of the pool's few places. A thread waiting for a place sleeps on a lock,
not on the GIL: with 36 cameras and one thread each, the Qt thread had to win the GIL
against up to 36 others after every call into Qt (a paint of the wall waited ~2 ms a
tile for it); with the pool it competes with `workers` of them.

A place is returned in a `finally`: a camera stopped or failing in the middle of a
packet never keeps it. A waiting camera blocks on a lock of its own (in C, the GIL
released) until a place is handed to it, in the order they came.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


def default_workers() -> int:
    """One place per core the process may run on (at least one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


class DecodePool:
    """`workers` places to decode in; `place()` waits for one and gives it back after.

    Places go first come, first served: a camera giving one back while others wait
    hands it to the one that waited longest, and queues behind them for its next packet
    (a camera with packets already buffered would otherwise take the place back again
    and again before a woken waiter got the GIL: under load some tiles starved).
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"a decode pool needs at least one worker place, got {workers}")
        self.workers = workers
        self._lock = threading.Lock()
        self._free = workers
        self._waiters: deque[threading.Lock] = deque()
        self._entries = 0
        self._waits = 0

    def _take(self) -> bool:
        """Take a place; True if this had to wait for it."""
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return False
            handoff = threading.Lock()
            handoff.acquire()
            self._waiters.append(handoff)
        handoff.acquire()  # blocks in C, the GIL released, until a place is handed over
        return True

    def _give_back(self, waited: bool) -> None:
        with self._lock:
            self._entries += 1
            self._waits += waited
            if self._waiters:
                self._waiters.popleft().release()  # the place goes on, `_free` unchanged
            else:
                self._free += 1

    @contextmanager
    def place(self) -> Iterator[None]:
        """Hold a place for the body; waits (first come, first served) while all are taken."""
        waited = self._take()
        try:
            yield
        finally:
            self._give_back(waited)

    @property
    def free(self) -> int:
        """Places not taken now."""
        with self._lock:
            return self._free

    @property
    def waiting(self) -> int:
        """Cameras waiting for a place now."""
        with self._lock:
            return len(self._waiters)

    def counts(self) -> tuple[int, int]:
        """(packets handled in a place, of which the camera had to wait for one)."""
        with self._lock:
            return self._entries, self._waits


DECODE_POOL = DecodePool(default_workers())
