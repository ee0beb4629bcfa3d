"""The simulator's spec: from a camera count or a site to the JSON line the server reads."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from dispatch.domain.site import demo_site_path
from streams.ingest.sources import CameraSource, parse_camera_sources, read_camera_sources
from streams.simulator import CamSim
from streams.simulator.cli import build_parser
from streams.simulator.spec import SpecError, numbered_spec, site_spec, with_profile


def site_with(cameras: list[dict[str, Any]], **extra: Any) -> list[CameraSource]:
    data: dict[str, object] = {
        "name": "测试县",
        "townships": [{"id": "t1", "name": "城关镇"}],
        "cameras": cameras,
        **extra,
    }
    return parse_camera_sources(data, "test")


def cam(cid: str, main: str, sub: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "name": f"{cid} 路口",
        "township": "t1",
        "lon": 112.5,
        "lat": 37.8,
        "main": {"url": main, "width": 1280, "height": 720},
        "sub": {"url": sub, "width": 704, "height": 576},
        **extra,
    }


def test_numbered_spec_serves_main_and_sub_per_camera_on_free_ports() -> None:
    spec = numbered_spec(3)
    assert spec.camera_ids == ["cam1", "cam2", "cam3"]
    body = json.loads(spec.to_json())
    assert body["host"] == "127.0.0.1"
    first = body["cameras"][0]
    assert first["port"] == 0  # the server binds a free port itself
    assert first["auth"] is None
    assert first["streams"] == [
        {"name": "main", "path": "/cam1/main", "width": 1280, "height": 720},
        {"name": "sub", "path": "/cam1/sub", "width": 704, "height": 576},
        {"name": "third", "path": "/cam1/third", "width": 640, "height": 360},
    ]
    assert len({c["seed"] for c in body["cameras"]}) == 3  # different pictures


def test_numbered_spec_with_base_port_and_auth() -> None:
    spec = numbered_spec(2, base_port=18000, auth=("admin", "s3cret"))
    body = json.loads(spec.to_json())
    assert [c["port"] for c in body["cameras"]] == [18000, 18001]
    assert all(c["auth"] == ["admin", "s3cret"] for c in body["cameras"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cameras": 0}, "cameras"),
        ({"cameras": 3, "base_port": 65534}, "base port"),
        ({"cameras": 1, "auth": ("", "x")}, "user name"),
        ({"cameras": 1, "auth": ("admin", "")}, "password"),
        ({"cameras": 1, "auth": ("ad:min", "x")}, "':'"),
    ],
)
def test_bad_numbered_spec_is_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        numbered_spec(**kwargs)


def test_demo_site_spec_uses_the_urls_ports_and_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_CAMSIM_PASSWORD", "from-env")
    cameras = read_camera_sources(demo_site_path())
    spec = site_spec(cameras)
    assert spec.camera_ids == [c.id for c in cameras]
    body = json.loads(spec.to_json())
    for c, sc in zip(cameras, body["cameras"], strict=True):
        assert f":{sc['port']}{sc['streams'][0]['path']}" in c.main.url
        assert f":{sc['port']}{sc['streams'][1]['path']}" in c.sub.url
        assert c.third is not None  # every demo camera names its 640x360 third stream
        assert sc["streams"][2] == {
            "name": "third",
            "path": urlsplit(c.third.url).path,
            "width": 640,
            "height": 360,
        }
        assert sc["name"] == c.name
        assert sc["auth"] == ["admin", "from-env"]  # the site's own credential


def test_site_spec_auth_and_base_port_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALL_CAMSIM_PASSWORD", raising=False)
    cameras = read_camera_sources(demo_site_path())
    body = json.loads(site_spec(cameras, base_port=20000, auth=("u", "p")).to_json())
    assert [c["port"] for c in body["cameras"]] == [20000 + i for i in range(len(cameras))]
    assert all(c["auth"] == ["u", "p"] for c in body["cameras"])


@pytest.mark.parametrize(
    ("camera", "match"),
    [
        (cam("c1", "rtsps://127.0.0.1:1/a", "rtsp://127.0.0.1:1/b"), "rtsp:// only"),
        (cam("c1", "rtsp://127.0.0.1/a", "rtsp://127.0.0.1/b"), "explicit port"),
        (cam("c1", "rtsp://127.0.0.1:1/a", "rtsp://127.0.0.1:2/b"), "share one port"),
        (cam("c1", "rtsp://127.0.0.1:1/a", "rtsp://127.0.0.1:1/a"), "same path"),
        (
            cam(
                "c1",
                "rtsp://127.0.0.1:1/a",
                "rtsp://127.0.0.1:1/b",
                third={"url": "rtsp://127.0.0.1:1/a", "width": 640, "height": 360},
            ),
            "same path",
        ),
        (
            cam(
                "c1",
                "rtsp://127.0.0.1:1/a",
                "rtsp://127.0.0.1:1/b",
                third={"url": "rtsp://127.0.0.1:2/c", "width": 640, "height": 360},
            ),
            "share one port",
        ),
        (cam("c1", "rtsp://127.0.0.1:1/", "rtsp://127.0.0.1:1/b"), "needs a path"),
    ],
)
def test_bad_site_camera_is_refused_naming_the_camera(camera: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match) as info:
        site_spec(site_with([camera]))
    assert "c1" in str(info.value)


def test_two_cameras_on_one_port_are_refused() -> None:
    site = site_with(
        [
            cam("c1", "rtsp://127.0.0.1:9000/c1/main", "rtsp://127.0.0.1:9000/c1/sub"),
            cam("c2", "rtsp://127.0.0.1:9000/c2/main", "rtsp://127.0.0.1:9000/c2/sub"),
        ]
    )
    with pytest.raises(SpecError, match="9000"):
        site_spec(site)


def test_site_without_cameras_is_refused() -> None:
    with pytest.raises(SpecError, match="no cameras"):
        site_spec(site_with([]))


def test_camsim_constructor_validates_without_starting_anything() -> None:
    sim = CamSim(site=read_camera_sources(demo_site_path()), auth=("admin", "x"))
    assert sim.pid is None
    assert sim.camera_ids[0] == "cam1"
    with pytest.raises(SpecError):
        CamSim(cameras=-1)


def test_encoding_codec_and_scene_reach_the_server_spec() -> None:
    spec = with_profile(numbered_spec(4), encoding="camera", codec="h265", scene="mixed")
    body = json.loads(spec.to_json())
    assert {c["encoding"] for c in body["cameras"]} == {"camera"}
    assert {c["codec"] for c in body["cameras"]} == {"h265"}
    assert [c["night"] for c in body["cameras"]] == [False, False, False, True]
    assert CamSim(cameras=2).spec.cameras[0].encoding == "camera"  # the default
    fast = CamSim(cameras=2, encoding="fast", scene="night").spec.cameras
    assert all(c.encoding == "fast" and c.night for c in fast)
    for kwargs, match in (
        ({"encoding": "cheap"}, "encoding"),
        ({"codec": "vp8"}, "codec"),
        ({"encoding": "fast", "codec": "h265"}, "H.264 only"),
        ({"scene": "dusk"}, "scene"),
    ):
        with pytest.raises(SpecError, match=match):
            with_profile(numbered_spec(1), **kwargs)


def test_cli_encoding_flags() -> None:
    args = build_parser().parse_args(["--encoding", "fast", "--scene", "night"])
    assert (args.encoding, args.codec, args.scene) == ("fast", "h264", "night")
    args = build_parser().parse_args(["--codec", "h265"])
    assert (args.encoding, args.codec, args.scene) == ("camera", "h265", "day")


def test_some_cameras_send_h265_main_streams() -> None:
    spec = with_profile(numbered_spec(3), codecs={"cam2": "h265"})
    assert [c.codec for c in spec.cameras] == ["h264", "h265", "h264"]
    with pytest.raises(SpecError, match="unknown camera 'cam9'"):
        with_profile(numbered_spec(3), codecs={"cam9": "h265"})
    with pytest.raises(SpecError, match=r"codecs\.cam1: the fast encoding"):
        with_profile(numbered_spec(3), encoding="fast", codecs={"cam1": "h265"})
    args = build_parser().parse_args(["--camera-codec", "cam2=h265"])
    assert CamSim(cameras=3, codecs=dict(args.camera_codec)).spec.cameras[1].codec == "h265"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--camera-codec", "cam2=vp9"])
