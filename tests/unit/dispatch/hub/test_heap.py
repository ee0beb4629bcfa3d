"""The hub's heap trimming (`dispatch.hub.heap`): the hub's refusal of a nonsense interval
(the interval and the trim thread: tests/unit/streams/test_heap.py; that a trim gives
pages back: tests/integration/dispatch/hub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.hub import cli, heap


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
