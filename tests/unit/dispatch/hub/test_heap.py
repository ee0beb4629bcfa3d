"""The hub's heap trimming (`dispatch.hub.heap`): the trimmer's life and the hub's refusal
of a nonsense interval (the interval itself: tests/unit/streams/test_heap.py; that a trim
gives pages back: tests/integration/dispatch/hub)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dispatch.hub import cli, heap


def test_the_trimmer_trims_while_it_runs_and_stops_twice_safely() -> None:
    async def body() -> tuple[int, int, int]:
        off = heap.Trimmer(0)
        off.start()  # 0 is off: no task
        await asyncio.sleep(0.1)
        t = heap.Trimmer(0.02)
        t.start()
        t.start()  # one task, not two
        await asyncio.sleep(0.3)
        await t.stop()
        await t.stop()
        after_stop = t.trims
        await asyncio.sleep(0.1)
        return off.trims, after_stop, t.trims

    off, after_stop, later = asyncio.run(body())
    assert off == 0
    assert after_stop >= 3 and later == after_stop  # it ran, and stopped for good


def test_the_hub_refuses_a_trim_interval_that_is_not_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "hub.toml"
    conf.write_text(f'db_url = "sqlite:///{tmp_path / "hall.db"}"\n', encoding="utf-8")
    monkeypatch.setenv(heap.TRIM_EVERY_ENV, "soon")
    assert cli.main(["--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert f"hall-hub: {heap.TRIM_EVERY_ENV}='soon': seconds expected" in err
    assert not (tmp_path / "hall.db").exists()  # refused before anything was opened
