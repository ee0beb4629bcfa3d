"""`Site.relays` and the one resolver `stream_url`: relay URL when a relay serves the camera,
the camera's own otherwise; credentials only for the decoder; bad relay tables named."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.domain.relay import display_url, relay_cameras, relay_for, stream_url
from dispatch.domain.site import SiteConfigError, parse_site


def _cam(cid: str, township: str, port: int, cred: str | None = None) -> dict[str, Any]:
    cam: dict[str, Any] = {
        "id": cid,
        "name": f"摄像机{cid}",
        "township": township,
        "lon": 113.6,
        "lat": 34.7,
        "main": {
            "url": f"rtsp://10.0.0.{port % 250}:{port}/{cid}/main",
            "width": 1280,
            "height": 720,
        },
        "sub": {"url": f"rtsp://10.0.0.{port % 250}:{port}/{cid}/sub", "width": 704, "height": 576},
    }
    if cred is not None:
        cam["credentials"] = cred
    return cam


def _site(relays: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "县",
        "credentials": {
            "cams": {"username": "admin", "password": "cam-secret"},
            "hall": {"username": "hall", "password": "relay-secret"},
        },
        "townships": [{"id": "t1", "name": "甲镇"}, {"id": "t2", "name": "乙乡"}],
        "cameras": [
            _cam("c1", "t1", 8601, "cams"),
            _cam("c2", "t1", 8602, "cams"),
            _cam("c3", "t2", 8603, "cams"),
            _cam("c4", "t2", 8604),
        ],
        "relays": relays,
    }


def test_no_relay_means_the_cameras_own_url_with_its_credentials() -> None:
    site = parse_site(_site([]))
    cam = site.camera("c1")
    assert stream_url(site, cam, "sub") == "rtsp://admin:cam-secret@10.0.0.101:8601/c1/sub"
    assert display_url(site, cam, "sub") == "rtsp://10.0.0.101:8601/c1/sub"
    assert stream_url(site, site.camera("c4"), "main") == "rtsp://10.0.0.104:8604/c4/main"


def test_relay_by_township_and_by_camera_without_the_cameras_credentials() -> None:
    site = parse_site(
        _site(
            [
                {"id": "r1", "url": "rtsp://relay1.hall:8554", "townships": ["t1"]},
                {"id": "r2", "url": "rtsp://relay2.hall:8554", "cameras": ["c2", "c3"]},
            ]
        )
    )
    assert stream_url(site, site.camera("c1"), "main") == "rtsp://relay1.hall:8554/c1/main"
    # named by r2: r2's, even though r1 serves its township
    assert stream_url(site, site.camera("c2"), "sub") == "rtsp://relay2.hall:8554/c2/sub"
    assert stream_url(site, site.camera("c3"), "sub") == "rtsp://relay2.hall:8554/c3/sub"
    # nobody serves t2 as a township: c4 direct
    assert stream_url(site, site.camera("c4"), "sub") == "rtsp://10.0.0.104:8604/c4/sub"
    for cam in site.cameras:
        assert "cam-secret" not in stream_url(site, cam, "sub") or relay_for(site, cam) is None
    assert [c.id for c in relay_cameras(site, "r1")] == ["c1"]
    assert [c.id for c in relay_cameras(site, "r2")] == ["c2", "c3"]


def test_a_relay_with_credentials_gets_its_own_never_the_cameras() -> None:
    site = parse_site(
        _site(
            [{"id": "r1", "url": "rtsp://relay1:8554", "townships": ["t1"], "credentials": "hall"}]
        )
    )
    url = stream_url(site, site.camera("c1"), "sub")
    assert url == "rtsp://hall:relay-secret@relay1:8554/c1/sub"
    assert display_url(site, site.camera("c1"), "sub") == "rtsp://relay1:8554/c1/sub"
    assert "relay-secret" not in repr(site)


def test_a_missing_third_stream_is_an_error_not_a_guess() -> None:
    site = parse_site(_site([]))
    with pytest.raises(ValueError, match="no third stream"):
        stream_url(site, site.camera("c1"), "third")


@pytest.mark.parametrize(
    ("relays", "message"),
    [
        ([{"id": "r1", "url": "rtsp://h:1", "townships": ["t9"]}], "relays.r1.townships"),
        ([{"id": "r1", "url": "rtsp://h:1", "cameras": ["c9"]}], "relays.r1.cameras"),
        (
            [
                {"id": "r1", "url": "rtsp://h:1", "townships": ["t1"]},
                {"id": "r2", "url": "rtsp://h:2", "townships": ["t1"]},
            ],
            "already served by relay 'r1'",
        ),
        (
            [{"id": "r1", "url": "rtsp://h:1"}, {"id": "r1", "url": "rtsp://h:2"}],
            "duplicate id 'r1'",
        ),
        ([{"id": "r1", "url": "rtsp://h:1", "credentials": "nope"}], "relays.r1.credentials"),
        ([{"id": "r1", "url": "rtsp://u:p@h:1"}], "relays.0.url"),
        ([{"id": "r1", "url": "rtsp://h:1/path"}], "relays.0.url"),
        ([{"id": "r1", "url": "rtsp://h:1", "colour": "red"}], "relays.0.colour"),
    ],
)
def test_bad_relay_tables_are_named(relays: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(SiteConfigError, match=message):
        parse_site(_site(relays))


def test_a_third_stream_goes_through_the_relay_or_direct() -> None:
    data = _site([{"id": "r1", "url": "rtsp://relay1:8554", "townships": ["t1"]}])
    for cam in data["cameras"]:
        cam["third"] = {
            "url": cam["sub"]["url"].replace("/sub", "/third"),
            "width": 640,
            "height": 360,
        }
    site = parse_site(data)
    assert stream_url(site, site.camera("c1"), "third") == "rtsp://relay1:8554/c1/third"
    assert stream_url(site, site.camera("c3"), "third") == (
        "rtsp://admin:cam-secret@10.0.0.103:8603/c3/third"
    )
