"""deploy/: the sample hub.toml is a valid HubConfig with each listener on its network,
and the systemd units, sysusers and tmpfiles entries say what docs/deploy.md promises
(own user, state folder 0700, umask 077, hardening). `systemd-analyze verify` is not on
every machine (not on CI's): the units are parsed here, every directive checked against
the ones systemd knows in its section; tests/integration/deploy runs the verifier where
it exists and coturn with the sample file."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dispatch.hub import backup_cli, cli
from dispatch.hub.config import HubConfig, build_config
from tests.kit.paths import ROOT

DEPLOY = ROOT / "deploy"
GOV_LAN = ipaddress.ip_network("10.20.0.0/16")
INTERNET = ipaddress.ip_address("203.0.113.10")
VIDEO = ipaddress.ip_network("172.16.0.0/12")

# the directives these units may use, per section (a typo is an unknown key)
KNOWN = {
    "Unit": {"Description", "Documentation", "Wants", "After", "Requires", "Before"},
    "Service": {
        "Type", "User", "Group", "ExecStart", "Restart", "RestartSec", "TimeoutStopSec",
        "Environment", "StateDirectory", "StateDirectoryMode", "ConfigurationDirectory",
        "ConfigurationDirectoryMode", "RuntimeDirectory", "RuntimeDirectoryMode", "UMask",
        "AmbientCapabilities", "CapabilityBoundingSet", "NoNewPrivileges", "ProtectSystem",
        "ProtectHome", "PrivateTmp", "PrivateDevices", "ReadWritePaths",
        "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
        "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictSUIDSGID",
        "RestrictRealtime", "RestrictNamespaces", "LockPersonality",
        "RestrictAddressFamilies", "SystemCallArchitectures", "LimitNOFILE", "Nice",
        "IOSchedulingClass", "ReadOnlyPaths",
    },
    "Timer": {"OnCalendar", "RandomizedDelaySec", "Persistent"},
    "Install": {"WantedBy"},
}  # fmt: skip


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as section → key → values (systemd allows a key more than once)."""
    out: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] | None = None
    for n, raw in enumerate((DEPLOY / name).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
            continue
        key, eq, value = line.partition("=")
        assert eq and section is not None, f"{name}:{n}: not KEY=VALUE in a section: {raw!r}"
        section.setdefault(key.strip(), []).append(value.strip())
    for sec, keys in out.items():
        assert sec in KNOWN, f"{name}: unknown section [{sec}]"
        unknown = set(keys) - KNOWN[sec]
        assert not unknown, f"{name}: unknown directives in [{sec}]: {sorted(unknown)}"
    return out


def one(u: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    (value,) = u[section][key]
    return value


def sample() -> HubConfig:
    path = DEPLOY / "hub.toml"
    return build_config(tomllib.loads(path.read_text(encoding="utf-8")), source=str(path))


def host_of(endpoint: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(urlsplit(endpoint.replace("turn:", "turn://", 1)).hostname or "")


def test_the_sample_config_puts_each_listener_on_its_network() -> None:
    c = sample()
    assert c.data_dir() == Path("/var/lib/command-hall")
    assert c.db_url == "sqlite:////var/lib/command-hall/hall.db"
    assert host_of(c.zmq.req) in GOV_LAN and host_of(c.zmq.pub) in GOV_LAN
    assert c.zmq.curve  # consoles on the LAN: encrypted and enrolled, never plain
    assert ipaddress.ip_address(c.http.host) == INTERNET and c.http.port == 443
    assert c.http.plain_port == 80 and c.tls.mode == "auto"
    assert (c.http.public_url or "").startswith("https://")  # never a LAN or loopback URL
    assert c.turn.urls and all(host_of(u) == INTERNET for u in c.turn.urls)
    assert c.webrtc.hosts == ()  # set, it would drop direct candidates (docs/deploy.md)
    listeners = [c.zmq.req, c.zmq.pub, *c.turn.urls]
    assert not any(host_of(e) in VIDEO for e in listeners)  # the video network: none
    assert c.turn.secret is None and c.turn.secret_file == Path("/etc/command-hall/turn-secret")


def test_the_hub_unit_runs_as_its_own_user_in_a_private_state_folder() -> None:
    u = unit("command-hall-hub.service")
    s = u["Service"]
    assert one(u, "Service", "User") == one(u, "Service", "Group") == "command-hall"
    assert one(u, "Service", "ExecStart").split() == [
        "/opt/command-hall/.venv/bin/hall-hub",
        "--config",
        "/etc/command-hall/hub.toml",
    ]
    assert one(u, "Service", "StateDirectory") == "command-hall"
    assert one(u, "Service", "StateDirectoryMode") == "0700"
    assert one(u, "Service", "UMask") == "0077"
    for key, want in (
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
    ):
        assert s[key] == [want], key
    # the state folder is the sample's data_dir, and the only place it may write
    assert one(u, "Service", "ReadWritePaths").split() == [str(sample().data_dir())]
    assert one(u, "Service", "CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE"  # 443 and 80


def test_the_turn_unit_runs_coturn_with_the_sample_file_and_relays_only_to_the_hub() -> None:
    u = unit("command-hall-turn.service")
    cmd = one(u, "Service", "ExecStart").split()
    assert cmd[:3] == ["/usr/bin/turnserver", "-c", "/etc/command-hall/turnserver.conf"]
    assert one(u, "Service", "User") == "turnserver"
    assert one(u, "Service", "UMask") == "0077"
    conf = turn_conf()
    writable = one(u, "Service", "ReadWritePaths").split()
    for flag in ("--pidfile", "--userdb"):  # coturn writes only where the unit lets it
        path = cmd[cmd.index(flag) + 1]
        assert any(path.startswith(w + "/") for w in writable), flag
    assert conf["listening-ip"] == conf["relay-ip"] == [str(INTERNET)]
    assert conf["allowed-peer-ip"] == [str(INTERNET)]
    assert conf["denied-peer-ip"][0] == "0.0.0.0-255.255.255.255"
    assert "use-auth-secret" in conf and "no-cli" in conf and "no-multicast-peers" in conf
    c = sample()
    assert all(f":{conf['listening-port'][0]}?" in url for url in c.turn.urls)
    # the hub's [turn] names the same addresses (its --print-turnserver-conf agrees)
    assert [c.turn.listen_ip] == conf["listening-ip"]
    assert list(c.turn.allowed_peers) == conf["allowed-peer-ip"]


def turn_conf() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (DEPLOY / "turnserver.conf").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_sysusers_and_tmpfiles_make_the_user_and_the_0700_folders() -> None:
    (user,) = [
        line.split(maxsplit=5)
        for line in (DEPLOY / "command-hall.sysusers").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert user[:2] == ["u", "command-hall"] and user[-1].split()[-2:] == [
        "/var/lib/command-hall",
        "/usr/sbin/nologin",
    ]
    entries = {
        f[1]: f
        for f in (
            line.split()
            for line in (DEPLOY / "command-hall.tmpfiles").read_text().splitlines()
            if line and not line.startswith("#")
        )
    }
    assert entries["/var/lib/command-hall"][:5] == [
        "d",
        "/var/lib/command-hall",
        "0700",
        "command-hall",
        "command-hall",
    ]
    assert entries["/etc/command-hall"][2:4] == ["0750", "root"]
    # the backup unit (as command-hall) writes there; archives older than 30 days go
    assert entries["/var/backups/command-hall"][2:] == [
        "0700",
        "command-hall",
        "command-hall",
        "30d",
    ]


def test_the_backup_timer_runs_hall_hub_backup_beside_the_hub_into_the_backup_folder() -> None:
    u = unit("command-hall-backup.service")
    assert one(u, "Service", "Type") == "oneshot"
    assert one(u, "Service", "User") == "command-hall"
    assert one(u, "Service", "UMask") == "0077"
    cmd = one(u, "Service", "ExecStart").split()
    assert cmd[:2] == ["/opt/command-hall/.venv/bin/hall-hub", "backup"]
    args = backup_cli._parser().parse_args(cmd[1:])
    assert str(args.config) == "/etc/command-hall/hub.toml"
    assert one(u, "Service", "ReadWritePaths").split() == [str(args.to), str(sample().data_dir())]
    t = unit("command-hall-backup.timer")
    assert one(t, "Timer", "OnCalendar") == "*-*-* 02:30:00"
    assert one(t, "Timer", "Persistent") == "true"
    assert one(t, "Install", "WantedBy") == "timers.target"


def test_the_hub_prints_the_same_turnserver_conf_as_the_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hall-hub --print-turnserver-conf` from the sample hub.toml and deploy/turnserver.conf
    say the same (secret, order and a peer written as a range aside)."""
    secret = tmp_path / "turn-secret"
    secret.write_text("s" * 32 + "\n")
    toml = (DEPLOY / "hub.toml").read_text(encoding="utf-8")
    config = tmp_path / "hub.toml"
    config.write_text(toml.replace("/etc/command-hall/turn-secret", str(secret)))
    assert cli.main(["--config", str(config), "--print-turnserver-conf"]) == 0
    printed: dict[str, list[str]] = {}
    for line in capsys.readouterr().out.splitlines():
        key, _, value = line.partition("=")
        printed.setdefault(key, []).append(value)
    sample = turn_conf()
    assert printed.pop("static-auth-secret") == ["s" * 32]
    assert sample.pop("static-auth-secret")[0].startswith("CHANGE-ME")
    sample.pop("stale-nonce")  # the sample's addition: nonces renewed every 10 minutes
    printed["allowed-peer-ip"] = [p.split("-")[0] for p in printed["allowed-peer-ip"]]
    assert printed == sample
