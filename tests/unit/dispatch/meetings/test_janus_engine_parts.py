"""Pure parts of the Janus engine: the `[janus]` section, the generated Janus
configuration, and the roster fed with videoroom events."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dispatch.meetings.janus.config import JanusConfig, build_media, default_public_url
from dispatch.meetings.janus.process import (
    JanusSettings,
    TurnForJanus,
    http_jcfg,
    janus_jcfg,
    videoroom_jcfg,
    write_config,
)
from dispatch.meetings.janus.roster import Roster


def test_janus_section_refuses_what_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="extra"):
        JanusConfig.model_validate({"rnu": True})
    with pytest.raises(ValidationError, match="not both"):
        JanusConfig(run=True, url="http://j:8088/janus", admin_key_file=tmp_path / "k")
    with pytest.raises(ValidationError, match="admin_key_file"):
        JanusConfig(url="http://j:8088/janus")
    with pytest.raises(ValidationError, match="rtp_min"):
        JanusConfig(run=True, rtp_min=30000, rtp_max=20000)
    assert not JanusConfig().enabled()
    none = build_media(
        JanusConfig(), data_dir=tmp_path, hub_public_url="https://h", ice=lambda _n: []
    )
    assert none is None


def test_build_media_local_and_remote(tmp_path: Path) -> None:
    local = build_media(
        JanusConfig(run=True),
        data_dir=tmp_path,
        hub_public_url="https://hub.example.gov.cn:8443/",
        ice=lambda _n: [],
    )
    assert local is not None and local.process is not None
    assert local.settings.public_url == "https://hub.example.gov.cn:8089/janus"
    assert local.settings.api_url == "http://127.0.0.1:8088/janus"
    assert not (tmp_path / "janus").exists()  # nothing written before start()
    key = tmp_path / "key"
    key.write_text("sekrit\n", encoding="utf-8")
    cfg = JanusConfig(url="http://10.1.1.7:8088/janus", admin_key_file=key)
    remote = build_media(cfg, data_dir=tmp_path, hub_public_url="https://h", ice=lambda _n: [])
    assert remote is not None and remote.process is None
    assert remote.settings.admin_key == "sekrit"
    assert default_public_url("https://[::1]:8443", 9) == "https://[::1]:9/janus"
    assert default_public_url("https://10.0.0.2", 9) == "https://10.0.0.2:9/janus"


def test_generated_janus_configuration(tmp_path: Path) -> None:
    s = JanusSettings(
        admin_key='a"b',
        public_ip="10.0.0.2",
        cert_pem=tmp_path / "c.pem",
        cert_key=tmp_path / "k.pem",
        rtp_min=21000,
        rtp_max=21099,
        turn=TurnForJanus("turn.test", 3478, "1:u", "pw"),
    )
    core = janus_jcfg(s, tmp_path)
    assert 'rtp_port_range = "21000-21099"' in core
    assert 'turn_server = "turn.test"' in core and 'turn_pwd = "pw"' in core
    assert "libjanus_streaming.so" in core and "libjanus_videoroom.so" not in core
    assert "libjanus_websockets.so" in core and "libjanus_http.so" not in core
    http = http_jcfg(s)
    assert 'ip = "127.0.0.1"' in http and 'secure_ip = "10.0.0.2"' in http
    assert "https = true" in http and f'cert_pem = "{tmp_path / "c.pem"}"' in http
    assert 'admin_key = "a\\"b"' in videoroom_jcfg(s)
    plain = http_jcfg(JanusSettings(admin_key="k"))
    assert "https = false" in plain and "cert_pem" not in plain
    write_config(s, tmp_path / "cfg")
    assert (tmp_path / "cfg").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "cfg" / "janus.plugin.videoroom.jcfg").stat().st_mode & 0o777 == 0o600


def test_roster_follows_videoroom_events() -> None:
    r = Roster()
    audio = {"type": "audio", "mid": "0"}
    town = {"id": 7, "display": "城关镇", "streams": [audio, {"type": "video", "mid": "1"}]}
    r.apply({"videoroom": "joined", "id": 1, "publishers": [town]})
    r.apply({"videoroom": "event", "joining": {"id": 8, "display": "王家庄村"}})
    assert [(p.feed, p.display, p.publishing) for p in r.participants()] == [
        (7, "城关镇", True),
        (8, "王家庄村", False),
    ]
    assert r.members[7].audio_mids == ["0"]
    r.apply({"videoroom": "talking", "id": 7})
    r.muted.add(7)
    assert next((p.talking, p.muted) for p in r.participants()) == (True, True)
    r.apply({"videoroom": "stopped-talking", "id": 7})
    r.apply({"videoroom": "event", "unpublished": 7})
    assert not r.members[7].talking and not r.members[7].publishing
    r.apply({"videoroom": "event", "leaving": 7})
    r.apply({"videoroom": "event", "publishers": [{"id": 1, "display": "engine"}]})
    assert [p.feed for p in r.participants()] == [8] and 7 not in r.muted
    r.apply({"videoroom": "destroyed"})
    assert r.destroyed
