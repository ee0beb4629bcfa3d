"""A memory diagnostic for soaks, off by default: `HALL_TRACEMALLOC_FILE=PATH` makes the
hub trace its Python allocations (`tracemalloc`, `HALL_TRACEMALLOC_FRAMES` frames deep,
default 10) and write a snapshot to `PATH.<n>.snap` every `HALL_TRACEMALLOC_EVERY_S`
seconds (default 60) and at each SIGUSR2. Compare two with
`tracemalloc.Snapshot.load(a).compare_to(tracemalloc.Snapshot.load(b), "traceback")`.
Tracing costs the hub CPU and memory: for a diagnosis, never in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tracemalloc
from pathlib import Path

log = logging.getLogger("hall-hub")

FILE_ENV = "HALL_TRACEMALLOC_FILE"
EVERY_ENV = "HALL_TRACEMALLOC_EVERY_S"
FRAMES_ENV = "HALL_TRACEMALLOC_FRAMES"


class MemTrace:
    """Snapshots of the traced allocations, numbered from 1, into `base.<n>.snap`."""

    def __init__(self, base: Path, every_s: float, frames: int) -> None:
        self.base = base
        self.every_s = every_s
        self.frames = frames
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_env(cls) -> MemTrace | None:
        target = os.environ.get(FILE_ENV)
        if not target:
            return None
        every = float(os.environ.get(EVERY_ENV, "60"))
        frames = int(os.environ.get(FRAMES_ENV, "10"))
        return cls(Path(target), every, frames)

    def start(self) -> None:
        """Trace from now on, write every `every_s` and on SIGUSR2 (in the running loop)."""
        tracemalloc.start(self.frames)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR2, self.dump)
        self._task = loop.create_task(self._every(), name="memtrace")
        log.warning("tracemalloc on: snapshots to %s.<n>.snap", self.base)

    def dump(self) -> Path:
        self.written += 1
        path = self.base.with_name(f"{self.base.name}.{self.written}.snap")
        tracemalloc.take_snapshot().dump(str(path))
        return path

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self.dump()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        with contextlib.suppress(RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR2)
        tracemalloc.stop()
