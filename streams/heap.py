"""Handing the freed heap back to the system: glibc's `malloc_trim`, now or every minute.

A process that runs for days under a steady churn (the hub's requests, a decode
process's packets and pictures, the console's event rows) frees most of what it
allocates, but glibc keeps freed pages that sit below live blocks, one arena per busy
thread: the resident size creeps up with nothing live behind it. `malloc_trim(0)`
walks every arena and gives those pages back (milliseconds; ctypes drops the GIL).

`trim_now()` trims once; `TrimThread` trims every `every_s` seconds from a thread of
its own (the hub, the console's GUI process and its decode processes). `HALL_TRIM_EVERY_S` sets the
interval for every process of the hall (0: off, for an A/B's baseline).

A trim gives back only whole free pages, and glibc spreads them: it opens up to 8
arenas per core, one more each time a new thread (a call's decoders, a request's
worker) finds no arena of its own, and each arena keeps its own free pages and its
own fragments. `tune_allocator()`, called first thing in each process of the hall, caps
them at `ARENA_MAX` unless the environment already chose (`MALLOC_ARENA_MAX`,
`GLIBC_TUNABLES`) or `HALL_MALLOC_TUNE=0` (an A/B's baseline). glibc's mmap threshold
stays its own (it rises to the size of the pictures freed, so they are reused from the
heap): fixed at 128 KiB, every scaled picture was mapped and faulted in anew, and the
wall's scale to BGRA took 0.97 ms a frame instead of 0.32.

It lives in `streams`, the lowest package, because the hub, the decode processes and
the console all use it and `streams` may import neither of the others.
"""

from __future__ import annotations

import ctypes
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)


def _glibc(name: str, argtypes: list[Any], restype: Any) -> Callable[..., Any] | None:
    """glibc's function `name` (from the process's own symbols: no `ldconfig` run), or
    None (musl, macOS, Windows, an older glibc)."""
    try:
        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = argtypes
    fn.restype = restype
    return fn  # type: ignore[no-any-return]


TRIM: Callable[[int], int] | None = _glibc("malloc_trim", [ctypes.c_size_t], ctypes.c_int)
TRIM_EVERY_S = 60.0
TRIM_EVERY_ENV = "HALL_TRIM_EVERY_S"  # seconds between trims; 0: none (an A/B's baseline)


M_ARENA_MAX = -8  # glibc's mallopt() parameter (<malloc.h>)
ARENA_MAX = 2  # the main arena and one shared by every other thread of the process
TUNE_ENV = "HALL_MALLOC_TUNE"  # 0: glibc's own behaviour (an A/B's baseline)
_GLIBC_OWN = ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")


MALLOPT: Callable[[int, int], int] | None = _glibc(
    "mallopt", [ctypes.c_int, ctypes.c_int], ctypes.c_int
)


def tuning_wanted(environ: Mapping[str, str]) -> bool:
    """Whether `tune_allocator()` should set glibc's parameters: not when the environment
    set them itself or `HALL_MALLOC_TUNE=0` asks for glibc's own behaviour."""
    if environ.get(TUNE_ENV, "").strip() == "0":
        return False
    return not any(environ.get(name) for name in _GLIBC_OWN)


def tune_allocator(environ: Mapping[str, str]) -> dict[str, int]:
    """Cap glibc's arenas at `ARENA_MAX` (see the module's text); what was set (empty
    on musl, macOS, Windows or when `tuning_wanted()` says no). Call it
    before the process starts its threads: arenas already made stay."""
    if MALLOPT is None or not tuning_wanted(environ):
        return {}
    if MALLOPT(M_ARENA_MAX, ARENA_MAX) != 1:  # mallopt answers 1 on success
        log.warning("mallopt(M_ARENA_MAX=%d) refused", ARENA_MAX)
        return {}
    return {"arena_max": ARENA_MAX}


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


MALLINFO2: Callable[[], _MallInfo2] | None = _glibc("mallinfo2", [], _MallInfo2)  # 2.33+


def heap_info() -> dict[str, int]:
    """glibc's account of its heap in bytes, over all arenas (a diagnosis's): `heap` the
    arenas hold from the system, `mapped` in blocks of their own, `in_use` by live
    blocks, `free` held free; empty without glibc 2.33 or later."""
    if MALLINFO2 is None:
        return {}
    info = MALLINFO2()
    return {"heap": info.arena, "mapped": info.hblkhd, "in_use": info.uordblks,
            "free": info.fordblks}  # fmt: skip


def trim_now() -> float:
    """Hand the heap's free pages back to the system (glibc; elsewhere nothing); the
    seconds it took. Blocking: call it off an event loop."""
    if TRIM is None:
        return 0.0
    t0 = time.perf_counter()
    try:
        TRIM(0)
    except Exception:
        log.debug("malloc_trim failed", exc_info=True)
    return time.perf_counter() - t0


def trim_every_s(environ: Mapping[str, str]) -> float:
    """The trim interval `HALL_TRIM_EVERY_S` asks for (default `TRIM_EVERY_S`; 0 is off);
    ValueError naming the variable for anything but 0 or more seconds."""
    raw = environ.get(TRIM_EVERY_ENV, "").strip()
    if not raw:
        return TRIM_EVERY_S
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{TRIM_EVERY_ENV}={raw!r}: seconds expected") from None
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"{TRIM_EVERY_ENV}={raw!r}: 0 or more seconds expected")
    return value


class TrimThread:
    """Trims every `every_s` seconds from a daemon thread until `stop()` (both safe to
    call twice; 0 or no glibc: never starts)."""

    def __init__(self, every_s: float = TRIM_EVERY_S, name: str = "heap-trim") -> None:
        self.every_s = every_s
        self.trims = 0
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self.every_s <= 0 or TRIM is None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            trim_now()
            self.trims += 1
