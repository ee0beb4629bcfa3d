"""`python -m streams.patrol.runner` goes through the site's relays as the hub does."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dispatch.domain.site import load_site
from dispatch.patrol.runner import site_targets
from streams.ingest.sources import SourcesError
from streams.patrol.sites import patrol_targets, read_patrol_targets

SITE = """
name = "县"
[credentials.cam]
username = "admin"
password = "campw"
[credentials.relay]
username = "hall"
password = "relaypw"
[[townships]]
id = "t01"
name = "甲镇"
[[townships]]
id = "t02"
name = "乙镇"
[[relays]]
id = "r1"
url = "rtsp://10.0.0.5:8554"
townships = ["t01"]
cameras = ["c3"]
credentials = "relay"
"""
CAM = """
[[cameras]]
id = "{id}"
name = "{id}"
township = "{t}"
lon = 117.0
lat = 36.0
credentials = "cam"
main = {{ url = "rtsp://10.1.0.{n}:554/main", width = 1920, height = 1080 }}
sub = {{ url = "rtsp://10.1.0.{n}:554/sub", width = 704, height = 576 }}
"""


def site_text() -> str:
    cams = [("c1", "t01", 1), ("c2", "t02", 2), ("c3", "t02", 3)]
    return SITE + "".join(CAM.format(id=i, t=t, n=n) for i, t, n in cams)


def test_targets_go_through_the_relay_as_the_hubs_do(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(site_text(), encoding="utf-8")
    targets = read_patrol_targets(path)
    assert [(t.camera, t.via) for t in targets] == [("c1", "r1"), ("c2", ""), ("c3", "r1")]
    assert targets[0].url == "rtsp://hall:relaypw@10.0.0.5:8554/c1/sub?patrol=1"
    assert targets[1].url == "rtsp://admin:campw@10.1.0.2:554/sub"
    assert targets == site_targets(load_site(path))  # the hub's own patrol, same targets


def test_direct_probes_every_camera_itself(tmp_path: Path) -> None:
    targets = patrol_targets(tomllib.loads(site_text()), direct=True)
    assert [t.via for t in targets] == ["", "", ""]
    assert targets[2].url == "rtsp://admin:campw@10.1.0.3:554/sub"


def test_a_bad_relay_table_is_named() -> None:
    data = tomllib.loads(site_text().replace('url = "rtsp://10.0.0.5:8554"', 'url = "http://x"'))
    with pytest.raises(SourcesError, match=r"relays\.0\.url"):
        patrol_targets(data, "site.toml")
    data = tomllib.loads(site_text().replace('credentials = "relay"', 'credentials = "nope"'))
    with pytest.raises(SourcesError, match="unknown credentials"):
        patrol_targets(data, "site.toml")
