"""hall-hub's one configuration: the TOML file, the legacy environment, the flags; errors
name the key and where it came from; --print-config masks the secrets."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dispatch.hub import cli
from dispatch.hub.config import (
    ConfigError,
    HubConfig,
    PatrolConfig,
    build_config,
    owns_data_dir,
    render_toml,
)
from tests.kit.paths import ROOT


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = cli.main(argv)
    got = capsys.readouterr()
    return rc, got.out, got.err


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "hub.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_defaults_are_the_old_command_line_defaults() -> None:
    c = HubConfig(db_url="sqlite:///x.db")
    assert (c.http.host, c.http.port) == ("127.0.0.1", 8470)
    assert (c.zmq.req, c.zmq.pub) == ("tcp://127.0.0.1:5570", "tcp://127.0.0.1:5571")
    assert (c.yellow_share, c.patrol.every_s, c.demo) == (0.25, 0.0, False)
    assert c.webrtc.forward and c.webrtc.share_encoding


def test_unknown_key_names_the_key_and_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path, 'db_url = "sqlite:///x.db"\nsite_file = "a.toml"\n')
    rc, out, err = run(["--config", str(f), "--print-config"], capsys)
    assert rc == 2 and out == ""
    assert f"{f}: unknown key 'site_file'" in err


def test_unknown_key_in_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "[http]\nprot = 8000\n")
    rc, _, err = run(["--config", str(f), "--print-config"], capsys)
    assert rc == 2
    assert f"{f}: unknown key 'http.prot'" in err


def test_bad_values_name_each_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, '[http]\nport = 70000\n[zmq]\nreq = "localhost:5570"\n')
    rc, _, err = run(["--config", str(f), "--print-config"], capsys)
    assert rc == 2
    assert f"{f}: http.port: Input should be less than or equal to 65535" in err
    assert f"{f}: zmq.req: " in err


def test_a_bad_flag_value_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["--db", "sqlite:///x.db", "--yellow-share", "2", "--print-config"], capsys)
    assert rc == 2
    assert "--yellow-share: yellow_share: Input should be less than 1" in err


def test_not_toml_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "db_url = \n")
    rc, _, err = run(["--config", str(f), "--print-config"], capsys)
    assert rc == 2 and f"{f}: not valid TOML" in err
    missing = tmp_path / "none.toml"
    rc, _, err = run(["--config", str(missing), "--print-config"], capsys)
    assert rc == 2 and f"{missing}: cannot read config file" in err


def test_flags_win_over_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, 'db_url = "sqlite:///a.db"\n[http]\nhost = "0.0.0.0"\nport = 9000\n')
    rc, out, _ = run(["--config", str(f), "--http", "127.0.0.2:0", "--print-config"], capsys)
    assert rc == 0
    data = tomllib.loads(out)
    assert data["http"] == {
        "host": "127.0.0.2",
        "port": 0,
        "header_timeout_s": 10.0,
        "plain_port": 8480,
    }
    assert data["db_url"] == "sqlite:///a.db"


def test_the_legacy_environment_is_read_at_the_edge(tmp_path: Path) -> None:
    args = cli._parser().parse_args(["--db", "sqlite:///x.db"])
    env = {"HALL_WEBRTC_FORWARD": "0", "HALL_PATROL_CONFIG": str(tmp_path / "p.toml")}
    c = cli.load_config(args, env)
    assert c.webrtc.forward is False and c.webrtc.share_encoding is True
    assert c.patrol.settings == tmp_path / "p.toml"
    assert cli.load_config(args, {}).webrtc.forward is True


def test_print_config_masks_the_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--db",
        "postgresql+psycopg://hall:db-secret@db.example/hall",
        "--ice-servers",
        "stun:stun.example:3478,turn:alice:turn-secret@turn.example:3478",
        "--print-config",
    ]
    rc, out, _ = run(argv, capsys)
    assert rc == 0
    assert "db-secret" not in out and "turn-secret" not in out and "alice" not in out
    data = tomllib.loads(out)
    assert data["db_url"] == "postgresql+psycopg://hall:***@db.example/hall"
    assert data["webrtc"]["ice_servers"] == ["stun:stun.example:3478", "turn:***@turn.example:3478"]


def test_printed_config_reads_back_the_same() -> None:
    c = build_config(
        {"db_url": "sqlite:///var/x.db", "site": "s.toml", "webrtc": {"hosts": ["127.0.0.1"]}},
        overrides={("patrol", "every_s"): (5.0, "--patrol-every")},
    )
    again = build_config(tomllib.loads(render_toml(c)))
    assert again == c


def test_patrol_needs_a_site() -> None:
    patrol = PatrolConfig(every_s=30)
    with pytest.raises(ConfigError, match="needs a site"):
        cli.check_config(HubConfig(db_url="sqlite:///x.db", patrol=patrol))
    cli.check_config(HubConfig(db_url="sqlite:///x.db", demo=True, patrol=patrol))


def test_the_example_file_is_valid_and_says_the_defaults() -> None:
    example = ROOT / "resources" / "hub.example.toml"
    c = build_config(tomllib.loads(example.read_text(encoding="utf-8")), source=str(example))
    assert c.model_dump(exclude={"site"}) == HubConfig().model_dump(exclude={"site"})


def test_the_data_folder_and_the_default_database_are_never_the_current_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    state = tmp_path / "state" / "command-hall"
    c = HubConfig()
    assert c.data_dir() == state and c.db_url == f"sqlite:///{state / 'hall.db'}"
    assert c.upload_dir() == state / "uploads" and owns_data_dir(c)
    c = build_config({"hub": {"data_dir": "/var/lib/command-hall"}})
    assert c.db_url == "sqlite:////var/lib/command-hall/hall.db" and owns_data_dir(c)
    c = build_config({"db_url": f"sqlite:///{tmp_path / 'x' / 'hall.db'}"})
    assert c.data_dir() == tmp_path / "x" and not owns_data_dir(c)  # maybe a shared folder
    c = build_config({"db_url": "postgresql+psycopg://h@db/hall"})
    assert c.data_dir() == state
    c = build_config(
        {"db_url": "sqlite:///x/hall.db"},
        overrides={("hub", "data_dir"): ("/srv/hall", "--data-dir")},
    )
    assert c.data_dir() == Path("/srv/hall") and c.db_url == "sqlite:///x/hall.db"
    for shared in ("/", "/var", "/var/lib", "/tmp", str(Path.home())):
        assert not owns_data_dir(build_config({"hub": {"data_dir": shared}})), shared
    assert build_config(tomllib.loads(render_toml(c))) == c
