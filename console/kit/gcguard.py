"""Garbage collection on the Qt thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a threshold
is crossed. In the console that is often a decode, network or chart thread; if the cycle
it collects holds a Qt object, the object's C++ destructor runs in that thread and the
process can crash (seen as segfaults in worker threads in CI). So the console turns
automatic collection off and collects from a timer on the Qt main thread instead:
young objects often, older generations rarely, so the wall does not stutter.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

TICK_MS = 250
GEN1_EVERY = 10  # ticks: 2.5 s
GEN2_EVERY = 240  # ticks: 60 s


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ticks = 0
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        if self._timer.isActive():
            return
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        if not self._timer.isActive():
            return
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % GEN2_EVERY == 0:
            gc.collect(2)
        elif self._ticks % GEN1_EVERY == 0:
            gc.collect(1)
        else:
            gc.collect(0)
