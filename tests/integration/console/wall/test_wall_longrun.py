"""A long run of the live wall: thousands of paints, then no leak of None, memory, threads, fds.

PySide6 6.12.0 on Python 3.11 loses one reference to None per drawImage and kills the
process after enough paints (shared/TESTING.md): this is the test that catches it.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time
from typing import Any

import psutil
import pytest
from PySide6.QtWidgets import QApplication

from console.wall.controller import WallController
from console.wall.model import WallModel
from console.wall.sources import camera_names, rtsp_factory
from console.wall.view import WallView
from streams.ingest.types import Frame
from tests.integration.console.wall.test_wall_support import camsim_site
from tests.kit import pump_for, pump_until

pytestmark = pytest.mark.integration

TILES = 16


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def run_wall(app: QApplication, camsim: Any, paints_per_tile: int) -> tuple[int, int, int]:
    """Run a 16-tile live wall until each tile painted `paints_per_tile` new frames.

    Returns (frames painted, None refcount before, None refcount after) over the
    measured part (after every tile showed its first picture).
    """
    site = camsim_site(camsim)
    cams = [c.id for c in site.cameras]
    model = WallModel("16")
    controller = WallController(
        model, rtsp_factory(site), evidence_dir=camsim_dir(), names=camera_names(site)
    )
    # this test counts paints for leaks: a loaded machine's lag (or decoders running
    # behind) must not shed tiles to key frames (a new picture every 2 s), which would
    # never reach the count
    controller.shedder.lag_threshold_ms = float("inf")
    controller.shedder.behind_threshold_ms = float("inf")
    view = WallView(controller)
    view.resize(1920, 1080)
    counts: dict[int, int] = {}
    seqs: dict[int, int] = {}

    def on_painted(slot: int, frame: Frame) -> None:
        if seqs.get(slot) != frame.seq:
            seqs[slot] = frame.seq
            counts[slot] = counts.get(slot, 0) + 1

    view.painted_hook = on_painted
    model.assign_many([(i, cams[i % len(cams)]) for i in range(TILES)])
    controller.start()
    view.start()
    view.show()
    try:
        pump_until(lambda: len(counts) == TILES, 30, what=lambda: sorted(counts))
        pump_for(1.0)
        counts.clear()
        none_before = sys.getrefcount(None)
        pump_until(
            lambda: len(counts) == TILES and min(counts.values()) >= paints_per_tile,
            paints_per_tile / 25 * 4 + 30,
            interval=0.002,
            what=lambda: f"painted {counts}",
        )
        none_after = sys.getrefcount(None)
        total = sum(counts.values())
    finally:
        view.stop()
        controller.stop()
        view.close()
        view.deleteLater()
        pump_for(0.2)
    return total, none_before, none_after


def camsim_dir() -> Any:
    from pathlib import Path

    return Path("/tmp/hall-longrun-evidence")


def rss_after_trim(proc: psutil.Process) -> int:
    """RSS after gc and glibc's malloc_trim: freed memory of ended decode threads' arenas
    goes back to the system, so what remains is memory still referenced."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return int(proc.memory_info().rss)


def settle(app: QApplication, threads: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        gc.collect()
        if threading.active_count() <= threads:
            return True
        time.sleep(0.05)
    return False


def test_long_run_wall_leaks_nothing(qapp: QApplication, camsim: Any) -> None:
    proc = psutil.Process()
    threads0, fds0 = threading.active_count(), fds()

    painted1, n0, n1 = run_wall(qapp, camsim, paints_per_tile=150)
    assert settle(qapp, threads0), [t.name for t in threading.enumerate()]
    rss_a = rss_after_trim(proc)
    fds_a = fds()
    assert n1 >= n0 - 100, f"None lost {n0 - n1} references over {painted1} paints"

    painted2, m0, m1 = run_wall(qapp, camsim, paints_per_tile=400)
    assert painted2 >= TILES * 400
    assert m1 >= m0 - 100, f"None lost {m0 - m1} references over {painted2} paints"
    assert settle(qapp, threads0), [t.name for t in threading.enumerate()]
    rss_b = rss_after_trim(proc)
    assert threading.active_count() <= threads0
    assert fds() <= max(fds0, fds_a) + 2, (fds0, fds_a, fds())
    growth_mb = (rss_b - rss_a) / 2**20
    # the second, longer run must not keep what it used: a leak per frame or per stream
    # (16 decoders, ~6,400 paints) would show as tens of MB here
    assert growth_mb < 40, f"RSS grew {growth_mb:.1f} MB after a second run"
