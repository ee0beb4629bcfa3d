"""Giving a finished call's memory back to the system.

A mediation call's media are aiortc peer connections: some 25,000 objects in reference
cycles (event handlers, transports, receivers and senders pointing at each other) that
hold libvpx and FFmpeg codec contexts and their buffers, allocated in the receivers'
decoder threads. Closed, they wait for the next full collection, which the hub makes
rare on purpose (`gc.freeze()` at start; the open events kept as strings); and what
glibc then frees stays in its per-thread arenas. The soak's hub grew 15-20 MB at each
call and never gave it back (its RSS rose in steps, one per call).

`release()` after a call's media have ended: one full collection (tens of ms, once per
call) and `malloc_trim(0)` (glibc only; elsewhere nothing), off the loop. Between
calls the hub trims every minute with `streams.heap.TrimThread`, as the console and its
decode processes do: under a steady load (5 events/s, 200 phones) glibc kept what the
hub freed, about 2 MB a minute, which fell back at each call's trim (free pages held,
not live data). The trim and its interval (`HALL_TRIM_EVERY_S`) are `streams.heap`'s.
"""

from __future__ import annotations

import asyncio
import gc

from streams.heap import TRIM_EVERY_ENV, TRIM_EVERY_S, TrimThread, trim_every_s, trim_now

__all__ = ["TRIM_EVERY_ENV", "TRIM_EVERY_S", "TrimThread", "release", "trim", "trim_every_s"]


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
