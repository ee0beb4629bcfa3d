"""TURN credentials of coturn's shared-secret scheme (`dispatch.hub.turn`), the `[turn]`
configuration and the coturn configuration file (`streams.webrtc.coturn`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiortc import RTCIceTransportPolicy

from dispatch.hub import cli
from dispatch.hub.config import ConfigError, build_config
from dispatch.hub.turn import (
    TurnMinter,
    expiry_of,
    ice_info,
    mint,
    plan_of,
    safe_name,
    turn_password,
    turn_username,
)
from streams.webrtc.config import IceConfigError, IceServer, plan_from_browser
from streams.webrtc.coturn import CoturnSettings, turnserver_conf

SECRET = "north-county-secret-2026"
# computed independently: echo -n "1700043200:station-c01" |
#   openssl dgst -sha1 -hmac north-county-secret-2026 -binary | base64
VECTOR = ("1700043200:station-c01", "tojopa5ZTw++K/RVtr6ldOdSccY=")
NOW = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000


def test_fixed_vector() -> None:
    user = turn_username(1700043200, "station-c01")
    assert user == VECTOR[0]
    assert turn_password(SECRET, user) == VECTOR[1]


def test_mint_uses_the_clock_and_ttl() -> None:
    c = mint(SECRET, "station-c01", NOW, 12 * 3600)
    assert (c.username, c.password) == VECTOR
    assert c.expires_at == datetime.fromtimestamp(1700043200, UTC)
    assert expiry_of(c.username) == c.expires_at
    assert expiry_of("alice") is None


def test_names_cannot_break_the_user_name() -> None:
    assert safe_name("a:b c\n") == "a_b_c"
    assert safe_name("张三") == "-"
    assert len(safe_name("x" * 500)) == 64
    user = turn_username(1, "evil:9999999999")
    assert user.count(":") == 1 and expiry_of(user) == datetime.fromtimestamp(1, UTC)
    digest = hmac.new(SECRET.encode(), user.encode(), hashlib.sha1).digest()
    assert turn_password(SECRET, user) == base64.b64encode(digest).decode()


def test_minter_puts_turn_first_with_fresh_credentials() -> None:
    now = [NOW]
    stun = IceServer(("stun:stun.example:3478",))
    m = TurnMinter(
        ["turn:turn.example:3478?transport=udp"],
        lambda: SECRET,
        ttl_s=12 * 3600,
        static=[stun],
        relay_only=True,
        clock=lambda: now[0],
    )
    plan = m("station-c01")
    assert plan.servers[0] == IceServer(("turn:turn.example:3478?transport=udp",), *VECTOR)
    assert plan.servers[1] == stun
    assert plan.relay_only and plan.expires_at == datetime.fromtimestamp(1700043200, UTC)
    assert plan.browser()["iceTransportPolicy"] == "relay"
    cfg = plan.configuration()
    assert cfg.iceTransportPolicy == RTCIceTransportPolicy.RELAY
    assert cfg.iceServers is not None and cfg.iceServers[0].username == VECTOR[0]
    assert plan_of(ice_info(plan)) == plan
    assert plan_from_browser(plan.browser()) == replace(plan, expires_at=None)
    for bad in ({}, {"iceServers": [{"urls": "x"}]}, [], {"iceServers": [3]}):
        with pytest.raises(IceConfigError):
            plan_from_browser(bad)
    now[0] = NOW.replace(hour=23)
    assert m("station-c01").servers[0].username != VECTOR[0]  # later: a later expiry


def test_minter_without_secret_gives_static_servers_only() -> None:
    stun = IceServer(("stun:stun.example:3478",))
    m = TurnMinter(["turn:t.example:3478"], lambda: None, ttl_s=60, static=[stun])
    plan = m("x")
    assert plan.servers == (stun,) and plan.expires_at is None
    assert plan.browser() == {
        "iceServers": [{"urls": ["stun:stun.example:3478"]}],
        "iceTransportPolicy": "all",
    }


def test_turn_config_needs_a_secret_and_checks_addresses() -> None:
    with pytest.raises(ConfigError, match="shared secret"):
        build_config({"turn": {"urls": ["turn:t.example:3478"]}})
    with pytest.raises(ConfigError, match=r"turn\.urls"):
        build_config({"turn": {"urls": ["turn:u:p@t.example:3478"], "secret": SECRET}})
    with pytest.raises(ConfigError, match=r"turn\.listen_ip"):
        build_config({"turn": {"run": True, "listen_ip": "turn.example"}})
    with pytest.raises(ConfigError, match="not both"):
        build_config({"turn": {"run": True, "secret": SECRET, "secret_file": "/x"}})
    c = build_config({"turn": {"run": True, "external_ip": "203.0.113.5", "port": 3479}})
    assert c.turn.effective_urls() == (
        "turn:203.0.113.5:3479?transport=udp",
        "turn:203.0.113.5:3479?transport=tcp",
    )
    assert len(c.turn.load_secret()) >= 32  # run without a secret: one made for this run


def test_secret_file(tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_text(SECRET + "\n", encoding="utf-8")
    c = build_config({"turn": {"urls": ["turn:t.example:3478"], "secret_file": str(f)}})
    assert c.turn.load_secret() == SECRET
    f.write_text("short\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="16 characters"):
        c.turn.load_secret()


def test_print_config_masks_the_turn_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "hub.toml"
    f.write_text(f'[turn]\nurls = ["turn:t.example:3478"]\nsecret = "{SECRET}"\n', "utf-8")
    assert cli.main(["--config", str(f), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and 'secret = "***"' in out


def test_turnserver_conf_denies_all_but_the_allowed_peers(tmp_path: Path) -> None:
    conf = turnserver_conf(
        CoturnSettings(
            secret=SECRET,
            listen_ip="10.9.0.2",
            external_ip="203.0.113.5",
            allowed_peers=("10.8.0.0/24",),
        ),
        tmp_path,
    )
    lines = conf.splitlines()
    for want in (
        "use-auth-secret",
        f"static-auth-secret={SECRET}",
        "listening-ip=10.9.0.2",
        "relay-ip=10.9.0.2",
        "external-ip=203.0.113.5/10.9.0.2",
        "no-tls",
        "denied-peer-ip=0.0.0.0-255.255.255.255",
        "allowed-peer-ip=10.8.0.0-10.8.0.255",
        "log-file=stdout",
    ):
        assert want in lines
    assert "allow-loopback-peers" not in lines
    loop = turnserver_conf(CoturnSettings(secret=SECRET), tmp_path).splitlines()
    assert "allow-loopback-peers" in loop and "allowed-peer-ip=127.0.0.1-127.0.0.1" in loop
    assert any(x.startswith("cli-password=") and len(x) > 20 for x in loop) and "no-cli" in loop


def test_demo_flags_run_coturn_on_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--turn-run", "--turn-port", "34790", "--turn-relay-only", "--print-config"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    turn = out[out.index("[turn]") :]
    for line in ("run = true", "port = 34790", "relay_only = true", 'listen_ip = "127.0.0.1"'):
        assert line in turn.splitlines()


def test_print_turnserver_conf_for_the_coturn_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "turn-secret"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    f = tmp_path / "hub.toml"
    f.write_text(
        '[turn]\nurls = ["turn:turn.example.gov.cn:3478?transport=udp"]\n'
        f'secret_file = "{secret}"\nlisten_ip = "10.20.0.5"\nexternal_ip = "203.0.113.7"\n'
        'allowed_peers = ["10.20.0.0/24"]\n',
        "utf-8",
    )
    assert cli.main(["--config", str(f), "--print-turnserver-conf"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for want in (
        f"static-auth-secret={SECRET}",
        "listening-ip=10.20.0.5",
        "external-ip=203.0.113.7/10.20.0.5",
        "allowed-peer-ip=10.20.0.0-10.20.0.255",
    ):
        assert want in lines
    assert not any(x.startswith(("pidfile=", "userdb=", "allow-loopback")) for x in lines)
    f.write_text("[turn]\nrun = true\n", "utf-8")
    assert cli.main(["--config", str(f), "--print-turnserver-conf"]) == 2
    assert "needs secret or secret_file" in capsys.readouterr().err


def test_relay_only_without_a_turn_server_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs a TURN server"):
        cli.check_config(build_config({"turn": {"relay_only": True}}))
    cli.check_config(build_config({"turn": {"relay_only": True, "run": True}}))
    static = {"webrtc": {"ice_servers": ["turn:u:p@t.example:3478"]}}
    cli.check_config(build_config({**static, "turn": {"relay_only": True}}))
