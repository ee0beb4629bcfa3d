"""Giving a finished call's memory back to the system.

A mediation call's media are aiortc peer connections: some 25,000 objects in reference
cycles (event handlers, transports, receivers and senders pointing at each other) that
hold libvpx and FFmpeg codec contexts and their buffers, allocated in the receivers'
decoder threads. Closed, they wait for the next full collection, which the hub makes
rare on purpose (`gc.freeze()` at start; the open events kept as strings); and what
glibc then frees stays in its per-thread arenas. The soak's hub grew 15-20 MB at each
call and never gave it back (its RSS rose in steps, one per call).

`release()` after a call's media have ended: one full collection (tens of ms, once per
call) and `malloc_trim(0)` (glibc only; elsewhere nothing), off the loop; `Trimmer`
trims every minute while the hub runs. The trim itself and its interval
(`HALL_TRIM_EVERY_S`) are `streams.heap`'s, shared with the console and its decode
processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from streams.heap import TRIM, TRIM_EVERY_ENV, TRIM_EVERY_S, trim_every_s, trim_now

__all__ = ["TRIM_EVERY_ENV", "TRIM_EVERY_S", "Trimmer", "release", "trim", "trim_every_s"]

_TRIM = TRIM  # None without glibc


async def release() -> int:
    """Collect the garbage in reference cycles now and hand the freed heap back to the
    system; how many unreachable objects were found."""
    found = gc.collect()
    await trim()  # ctypes drops the GIL: the loop runs on
    return found


async def trim() -> float:
    """Hand the heap's free pages back to the system (glibc), off the loop; the seconds
    it took."""
    return await asyncio.to_thread(trim_now)


class Trimmer:
    """Trims the heap every `every_s` while the hub runs.

    Under a steady load (5 events/s, 200 phones) glibc keeps what the hub frees: the
    soak's hub rose by about 2 MB a minute between calls and fell back to the same
    level at each call's trim (`release`), i.e. free pages held, not live data. A trim
    takes milliseconds in a worker thread (ctypes drops the GIL)."""

    def __init__(self, every_s: float = TRIM_EVERY_S) -> None:
        self.every_s = every_s
        self.trims = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is not None or self.every_s <= 0 or _TRIM is None:
            return
        self._task = asyncio.create_task(self._run(), name="heap-trim")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await trim()
            self.trims += 1
