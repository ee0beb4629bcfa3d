"""Giving a finished call's memory back to the system.

A mediation call's media are aiortc peer connections: some 25,000 objects in reference
cycles (event handlers, transports, receivers and senders pointing at each other) that
hold libvpx and FFmpeg codec contexts and their buffers, allocated in the receivers'
decoder threads. Closed, they wait for the next full collection, which the hub makes
rare on purpose (`gc.freeze()` at start; the open events kept as strings); and what
glibc then frees stays in its per-thread arenas. The soak's hub grew 15-20 MB at each
call and never gave it back (its RSS rose in steps, one per call).

`release()` after a call's media have ended: one full collection (tens of ms, once per
call) and `malloc_trim(0)` (glibc only; elsewhere nothing), off the loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim` (from the process's own symbols: no `ldconfig` run), or None
    (musl, macOS, Windows)."""
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


_TRIM = _malloc_trim()


async def release() -> int:
    """Collect the garbage in reference cycles now and hand the freed heap back to the
    system; how many unreachable objects were found."""
    found = gc.collect()
    if _TRIM is not None:
        try:
            await asyncio.to_thread(_TRIM, 0)  # ctypes drops the GIL: the loop runs on
        except Exception:
            log.debug("malloc_trim failed", exc_info=True)
    return found
