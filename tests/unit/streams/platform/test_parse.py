"""Tolerant parsing of WVP answers: clear errors for bad envelopes, bad entries skipped."""

from __future__ import annotations

import pytest

from streams.platform import parse
from streams.platform.errors import PlatformAuthError, PlatformError, PlatformProtocolError


def test_envelope_errors_are_typed_and_name_the_call() -> None:
    assert parse.envelope_data({"code": 0, "data": [1]}, "x") == [1]
    with pytest.raises(PlatformAuthError, match="devices: platform error 401"):
        parse.envelope_data({"code": 401, "msg": "请登录"}, "devices")
    with pytest.raises(PlatformError, match="play: platform error 100: 通道不存在") as exc:
        parse.envelope_data({"code": 100, "msg": "通道不存在"}, "play")
    assert exc.value.code == 100 and type(exc.value) is PlatformError
    bads: list[object] = [[], "ok", {"msg": "no code"}, {"code": "0"}, {"code": True}]
    for bad in bads:
        with pytest.raises(PlatformProtocolError, match="login"):
            parse.envelope_data(bad, "login")


def test_pages_and_entries() -> None:
    assert parse.page_list({"total": 2, "list": [1, 2]}, "d") == (2, [1, 2])
    for bad in (None, {"total": 1}, {"total": -1, "list": []}, {"total": "2", "list": []}):
        with pytest.raises(PlatformProtocolError, match="channels"):
            parse.page_list(bad, "channels")
    ch = parse.channel(
        "D", {"channelId": "C", "civilCode": " 3305 ", "status": "ON", "longitude": "120.5"}
    )
    assert (ch.id, ch.name, ch.civil_code, ch.online, ch.lon, ch.lat) == (
        "C",
        "C",
        "3305",
        True,
        120.5,
        None,
    )
    assert parse.channel("D", {"channelId": "C", "status": 0}).online is False
    with pytest.raises(ValueError, match="channelId"):
        parse.channel("D", {"name": "no id"})
    with pytest.raises(ValueError, match="deviceId"):
        parse.device({"deviceId": 7})


def test_play_answer_needs_a_url_of_the_right_scheme() -> None:
    assert parse.play_urls({"rtsp": "rtsp://h/s", "expire": 30}, "p") == ("rtsp://h/s", None, 30.0)
    assert parse.play_urls({"flv": "http://h/a.flv", "rtsp": "file:///etc/passwd"}, "p") == (
        None,
        "http://h/a.flv",
        None,
    )
    with pytest.raises(PlatformProtocolError, match="no rtsp or flv URL"):
        parse.play_urls({"rtsp": "", "flv": None}, "p")
