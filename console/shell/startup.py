"""How long the console takes to show its main window: phase marks and one report line.

`hall-console --startup-report` prints `STARTUP {json}` once the main window is exposed
on the screen (the hub's panels are installed only then: a normal start shows the window
first) (its native window's first expose, then one turn of the event loop, so
the first paint is in), and quits: `shown_s` is the time from the process's creation
(the kernel's start time of this process, so the interpreter's own start and every
import are in), `phases` the time at each mark on the way, and `cpu_s` the CPU time the
process used until then (on a machine shared with other work, wall time is longer).
The county benchmark (`tests/bench/county.py`) reads it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from streams.heap import TrimThread, trim_every_s, tune_allocator

_T0 = time.monotonic()


def process_age_s() -> float:
    """Seconds since this process was created (Linux /proc; elsewhere since this module
    was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(after_name[19])  # field 22 of stat: starttime, in clock ticks
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _T0


class StartupClock:
    """Marks on the way to the shown window (seconds since the process was created)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.phases[name] = round(process_age_s(), 3)

    def line(self, **extra: object) -> str:
        t = os.times()
        body = {
            "shown_s": self.phases.get("shown"),
            "cpu_s": round(t.user + t.system, 3),  # this process's CPU time to here
            "phases": self.phases,
            **extra,
        }
        return "STARTUP " + json.dumps(body, ensure_ascii=False)


class _ExposeWatch(QObject):
    def __init__(self, done: Callable[[], None]) -> None:
        super().__init__()
        self._done: Callable[[], None] | None = done

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Expose and self._done is not None:
            done, self._done = self._done, None
            QTimer.singleShot(0, done)  # after this turn's paint
        return False


def when_shown(window: QWidget, done: Callable[[], None]) -> QObject:
    """Call `done` once `window` (shown already) is first exposed on the screen. Keep the
    returned object alive until then."""
    handle = window.windowHandle()
    watch = _ExposeWatch(done)
    if handle is None or handle.isExposed():
        QTimer.singleShot(0, done)
        return watch
    handle.installEventFilter(watch)
    return watch


def trimmer_or_exit() -> TrimThread:
    """The heap trimmer `HALL_TRIM_EVERY_S` asks for (not started), or a message naming
    the variable and exit code 2 before anything is opened. It first caps glibc's arenas
    (`tune_allocator`), so call it before any thread starts."""
    tune_allocator(os.environ)
    try:
        return TrimThread(trim_every_s(os.environ))
    except ValueError as exc:
        print(f"hall-console: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
