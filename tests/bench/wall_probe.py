"""What the wall benchmark measures beside painted frames: where the time goes.

- `StampSampler`: every Nth painted frame of a tile keeps a copy of the picture's top
  strip and the wall-clock time; the stamps are read after the run, so the GUI thread
  being measured does not also read them (reading one took ~0.5 ms in the paint).
- `PaintTimer`: wall and CPU time of the wall's paintEvent (the GUI thread), per tile
  painted, and the time the thread waited for a core in it (the kernel's run-queue
  delay, /proc/thread-self/schedstat); wall minus CPU minus that is time the GUI thread
  was blocked in the paint: waiting for the GIL (the paint does no I/O). That figure
  holds on a loaded machine, where waits for a core swamp the wall time.
- `ThreadCpu`: CPU seconds of the GUI thread, the ingest threads and the rest of the
  process over the measured window (psutil's per-thread times by native id).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.ingest.stamp import STRIP_FRACTION, decode_stamp
from streams.ingest.types import Frame


@dataclass
class StampSampler:
    every: int = 3
    seqs: dict[int, int] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    samples: list[tuple[float, int, npt.NDArray[np.uint8]]] = field(default_factory=list)

    def on_painted(self, slot: int, frame: Frame) -> None:
        if self.seqs.get(slot) == frame.seq:
            return  # a repaint of the same frame (status change) is not a new picture
        self.seqs[slot] = frame.seq
        n = self.counts.get(slot, 0) + 1
        self.counts[slot] = n
        if n % self.every == 0:
            rows = frame.height // STRIP_FRACTION + 1
            self.samples.append((time.time(), frame.height, frame.image[:rows].copy()))

    def clear(self) -> None:
        self.counts.clear()
        self.samples.clear()

    def ages_ms(self) -> tuple[list[float], int]:
        """(age of each painted frame read from its stamp, samples without a readable stamp)."""
        ages: list[float] = []
        misses = 0
        for t, height, strip in self.samples:
            full = np.zeros((height, *strip.shape[1:]), np.uint8)
            full[: strip.shape[0]] = strip
            ms = decode_stamp(full)
            if ms is None:
                misses += 1
            else:
                ages.append(t * 1000.0 - ms)
        return ages, misses


def run_queue_s() -> float:
    """Seconds this thread has waited for a core (Linux schedstat; 0 where absent)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class PaintTimer:
    calls: int = 0
    tiles: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    runq_s: float = 0.0

    def wrap(self, cls: Any, count_tiles: Callable[[Any], int]) -> Callable[[], None]:
        """Time `cls.paintEvent`; returns the function that puts the original back."""
        original = cls.paintEvent

        def timed(view: Any, event: Any) -> None:
            q0, t0, c0 = run_queue_s(), time.perf_counter(), time.thread_time()
            before = count_tiles(view)
            original(view, event)
            self.wall_s += time.perf_counter() - t0
            self.cpu_s += time.thread_time() - c0
            self.runq_s += run_queue_s() - q0
            self.calls += 1
            self.tiles += count_tiles(view) - before

        cls.paintEvent = timed

        def restore() -> None:
            cls.paintEvent = original

        return restore

    def reset(self) -> None:
        self.calls = self.tiles = 0
        self.wall_s = self.cpu_s = self.runq_s = 0.0

    def summary(self) -> dict[str, float]:
        n = max(1, self.tiles)
        return {
            "paint_ms_per_tile": round(self.wall_s / n * 1000, 3),
            "paint_cpu_ms_per_tile": round(self.cpu_s / n * 1000, 3),
            "paint_core_wait_ms_per_tile": round(self.runq_s / n * 1000, 3),
            "paint_gil_wait_ms_per_tile": round(
                max(0.0, self.wall_s - self.cpu_s - self.runq_s) / n * 1000, 3
            ),
            "paint_events": self.calls,
        }


class ThreadCpu:
    """CPU seconds by kind of thread between `start()` and `stop()`."""

    def __init__(self, proc: Any) -> None:
        self._proc = proc
        self._gui = threading.get_native_id()
        self._t0: dict[int, float] = {}
        self._kinds: dict[int, str] = {}
        self.seconds: dict[str, float] = {}

    def _times(self) -> dict[int, float]:
        for t in threading.enumerate():
            if t.native_id is not None and t.name.startswith("ingest-"):
                self._kinds[t.native_id] = "ingest"
        return {t.id: t.user_time + t.system_time for t in self._proc.threads()}

    def start(self) -> None:
        self._t0 = self._times()

    def stop(self, elapsed_s: float) -> dict[str, float]:
        """CPU % per kind: gui (the Qt thread), ingest (decode threads), other."""
        now = self._times()
        out = {"gui": 0.0, "ingest": 0.0, "other": 0.0}
        for tid, t in now.items():
            kind = "gui" if tid == self._gui else self._kinds.get(tid, "other")
            out[kind] += t - self._t0.get(tid, 0.0)
        return {k: round(v / elapsed_s * 100, 1) for k, v in out.items()}
