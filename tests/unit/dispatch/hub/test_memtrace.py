"""The hub's tracemalloc diagnostic: off without its variable, snapshots when asked."""

from __future__ import annotations

import asyncio
import os
import signal
import tracemalloc
from pathlib import Path

import pytest

from dispatch.hub.memtrace import EVERY_ENV, FILE_ENV, MemTrace


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FILE_ENV, raising=False)
    assert MemTrace.from_env() is None


def test_snapshots_every_period_and_on_sigusr2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "hub"))
    monkeypatch.setenv(EVERY_ENV, "0.2")
    trace = MemTrace.from_env()
    assert trace is not None

    async def run() -> None:
        trace.start()
        try:
            kept = [bytearray(1000) for _ in range(100)]  # something to find
            os.kill(os.getpid(), signal.SIGUSR2)
            await asyncio.sleep(0.5)
            del kept
        finally:
            trace.stop()

    asyncio.run(run())
    assert not tracemalloc.is_tracing()
    snaps = sorted(tmp_path.glob("hub.*.snap"))
    assert len(snaps) >= 2  # the signal's and at least one period's
    stats = tracemalloc.Snapshot.load(str(snaps[0])).statistics("filename")
    assert any(s.traceback[0].filename == __file__ for s in stats)
