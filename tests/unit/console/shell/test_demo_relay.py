"""`hall-console --demo` puts a relay in front of its cameras: the demo site's copy names
one relay for every township (the map's tile package still found from the copy)."""

from __future__ import annotations

from pathlib import Path

from console.shell.demo import DEMO_PTZ, DEMO_RELAY, relayed_site_text, with_onvif
from dispatch.domain.relay import relay_for, stream_url
from dispatch.domain.site import demo_site_path, load_site


def test_the_demo_sites_copy_pulls_every_camera_through_the_relay(tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    assert not site.relays
    copy = tmp_path / "elsewhere" / "demo-relayed.toml"
    copy.parent.mkdir()
    copy.write_text(relayed_site_text(demo_site_path(), site, 18554), encoding="utf-8")
    relayed = load_site(copy)
    assert [r.id for r in relayed.relays] == [DEMO_RELAY]
    assert relayed.relays[0].url == "rtsp://127.0.0.1:18554"
    for cam in relayed.cameras:
        relay = relay_for(relayed, cam)
        assert relay is not None and relay.id == DEMO_RELAY
        assert stream_url(relayed, cam, "sub") == f"rtsp://127.0.0.1:18554/{cam.id}/sub"
    tiles = relayed.map.tiles_path(copy)
    assert tiles is not None and tiles == site.map.tiles_path(demo_site_path())
    assert [c.id for c in relayed.cameras] == [c.id for c in site.cameras]


def test_the_demo_sites_copy_names_its_ptz_cameras_onvif_service(tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    text = with_onvif(demo_site_path().read_text(encoding="utf-8"), DEMO_PTZ, "http://h:1/o")
    assert with_onvif(text, DEMO_PTZ, "http://h:2/o") == text  # one only
    copy = tmp_path / "demo-ptz.toml"
    copy.write_text(relayed_site_text(demo_site_path(), site, 18554, text), encoding="utf-8")
    ptz = load_site(copy)
    assert [(c.id, c.onvif) for c in ptz.cameras if c.onvif] == [(DEMO_PTZ, "http://h:1/o")]
