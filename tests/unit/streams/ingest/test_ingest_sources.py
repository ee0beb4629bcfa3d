"""streams' own reader of a site's cameras agrees with the hub's site model."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.domain.model import ID_PATTERN
from dispatch.domain.site import demo_site_path, load_site
from streams.ingest.sources import SourcesError, parse_camera_sources, read_camera_sources
from streams.patrol import types as patrol_types


def test_demo_cameras_match_the_hub_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_CAMSIM_PASSWORD", "p@ss:w/rd")
    site = load_site(demo_site_path())
    cameras = read_camera_sources(demo_site_path())
    assert [c.id for c in cameras] == [c.id for c in site.cameras]
    for src, cam in zip(cameras, site.cameras, strict=True):
        assert src.name == cam.name
        assert (src.main.url, src.main.width, src.main.height) == (
            cam.main.url,
            cam.main.width,
            cam.main.height,
        )
        for which in ("main", "sub"):
            assert src.authed_url(which) == site.authed_url(cam, which)
    assert "p%40ss%3Aw%2Frd@" in cameras[0].authed_url("sub")


def test_unset_password_env_resolves_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALL_CAMSIM_PASSWORD", raising=False)
    first = read_camera_sources(demo_site_path())[0]
    assert first.auth is not None
    assert first.auth.password == ""
    assert first.auth.password_env == "HALL_CAMSIM_PASSWORD"


def test_bad_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\ntownships = [{id = "t1", name = "t"}]\n'
        '[[cameras]]\nid = "c1"\nname = "x"\ncredentials = "nope"\n'
        'main = {url = "rtsp://h:1/a", width = 2, height = 2}\n'
        'sub = {url = "http://h:1/b", width = 2, height = 2}\n',
        encoding="utf-8",
    )
    with pytest.raises(SourcesError, match=r"bad\.toml.*\n.*cameras\.0\.sub\.url"):
        read_camera_sources(bad)
    with pytest.raises(SourcesError, match="cannot read"):
        read_camera_sources(tmp_path / "missing.toml")
    with pytest.raises(SourcesError, match="unknown entry 'nope'"):
        parse_camera_sources(
            {
                "name": "x",
                "townships": [{"id": "t1", "name": "t"}],
                "cameras": [
                    {
                        "id": "c1",
                        "name": "x",
                        "credentials": "nope",
                        "main": {"url": "rtsp://h:1/a", "width": 2, "height": 2},
                        "sub": {"url": "rtsp://h:1/b", "width": 2, "height": 2},
                    }
                ],
            }
        )


def test_patrol_ids_follow_the_hub_rule() -> None:
    assert patrol_types.ID_PATTERN == ID_PATTERN
