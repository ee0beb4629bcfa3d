"""`python -m streams.patrol.runner` reads the site's cameras itself (no dispatch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.domain.site import demo_site_path
from streams.ingest.sources import read_camera_sources
from streams.patrol.runner import main, source_targets


def test_bad_site_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntownships = []\n', encoding="utf-8")
    rc = main(["--site", str(bad), "--hub", "http://127.0.0.1:9", "--api-key", "k", "--once"])
    assert rc == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "townships" in err


def test_targets_are_the_sub_streams_with_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_CAMSIM_PASSWORD", "pw")
    cameras = read_camera_sources(demo_site_path())
    targets = source_targets(cameras)
    assert [t.camera for t in targets] == [c.id for c in cameras]
    assert targets[0].url == cameras[0].sub.url.replace("rtsp://", "rtsp://admin:pw@", 1)
