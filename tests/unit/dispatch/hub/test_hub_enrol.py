"""The enrolment book, the hub's key pair, the ZAP verdicts and the CURVE config rules
(pure or on tmp files; the real sockets are in tests/integration/dispatch/hub/test_hub_curve.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import zmq
from zmq.utils import z85

from dispatch.client.handshake import NEEDS_KEYS, NOT_ENROLLED, WRONG_HUB, refusal_text
from dispatch.client.keys import (
    KeyFileError,
    default_keys_path,
    read_console_keys,
    write_console_keys,
)
from dispatch.hub.config import ConfigError, build_config, is_loopback_endpoint
from dispatch.hub.enrol import EnrolError, EnrolmentBook, describe, enrol, read_book, revoke
from dispatch.hub.keys import HubKeyError, load_or_create_hub_keys, new_keypair
from dispatch.hub.zap import zap_reply


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hub_keys_are_made_once_and_kept_private(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    first = load_or_create_hub_keys(keys_dir)
    assert load_or_create_hub_keys(keys_dir) == first
    assert mode(keys_dir / "hub.key") == 0o600 and mode(keys_dir) == 0o700
    (keys_dir / "hub.key").chmod(0o644)
    with pytest.raises(HubKeyError, match="readable by others"):
        load_or_create_hub_keys(keys_dir)


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "x" * 65, "a b", "名\n"])
def test_names_that_are_not_plain_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(EnrolError, match="bad workstation name"):
        enrol(tmp_path, name)


def test_enrol_revoke_and_the_book_as_the_hub_sees_it(tmp_path: Path) -> None:
    book = EnrolmentBook(tmp_path)
    assert book.changed() == set() and book.allowed == {}
    a = enrol(tmp_path, "席位1", req_endpoint="tcp://10.0.0.5:5570")
    b = enrol(tmp_path, "hall-2")
    assert a.hub_public_key == b.hub_public_key and a.req_endpoint == "tcp://10.0.0.5:5570"
    with pytest.raises(EnrolError, match="already enrolled"):
        enrol(tmp_path, "hall-2")
    assert book.changed() == set()
    assert book.allowed == {a.public_key: "席位1", b.public_key: "hall-2"}
    assert book.changed() is None  # unchanged file: not reread
    revoke(tmp_path, "hall-2")
    assert book.changed() == {b.public_key}
    assert book.allowed == {a.public_key: "席位1"}
    with pytest.raises(EnrolError, match="not enrolled"):
        revoke(tmp_path, "hall-2")
    again = enrol(tmp_path, "hall-2")  # enrolled again: a new key pair
    assert again.public_key != b.public_key
    lines = describe(read_book(tmp_path))
    assert [ln.split("\t")[0] for ln in lines] == ["席位1", "hall-2", "hall-2"]
    assert "revoked" in lines[1] and "revoked" not in lines[2]
    assert mode(tmp_path / "consoles.json") == 0o600


def test_console_key_file_round_trip_is_0600(tmp_path: Path) -> None:
    keys = enrol(tmp_path / "keys", "ws1")
    path = tmp_path / "home" / "hall" / "console.key"
    write_console_keys(path, keys)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert read_console_keys(path) == keys
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        read_console_keys(path)
    assert default_keys_path({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/hall/console.key")


def zap_request(public: str, mechanism: bytes = b"CURVE") -> list[bytes]:
    creds = [z85.decode(public)] if mechanism == b"CURVE" else []
    return [b"id", b"", b"1.0", b"7", b"hall", b"127.0.0.1", b"", mechanism, *creds]


def test_zap_allows_only_enrolled_curve_keys() -> None:
    public, _ = new_keypair()
    other, _ = new_keypair()
    ok = zap_reply(zap_request(public), {public: "ws1"})
    assert ok == [b"id", b"", b"1.0", b"7", b"200", b"OK", b"ws1", b""]
    assert zap_reply(zap_request(other), {public: "ws1"})[4] == b"400"
    assert zap_reply(zap_request(public, b"NULL"), {public: "ws1"})[4] == b"400"
    assert zap_reply([b"id", b"", b"2.0", b"7"], {})[4] == b"500"


def test_handshake_events_say_what_is_wrong() -> None:
    assert refusal_text(zmq.EVENT_HANDSHAKE_FAILED_AUTH, True) == NOT_ENROLLED
    assert refusal_text(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, False) == NEEDS_KEYS
    assert refusal_text(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, True) == WRONG_HUB
    assert refusal_text(zmq.EVENT_HANDSHAKE_SUCCEEDED, True) is None


def test_plain_zmq_only_on_loopback() -> None:
    assert build_config({}).zmq.curve
    plain = {"zmq": {"curve": False, "req": "tcp://127.0.0.1:1", "pub": "ipc:///tmp/p"}}
    assert not build_config(plain).zmq.curve
    with pytest.raises(ConfigError, match="curve = false only on loopback"):
        build_config({"zmq": {"curve": False, "req": "tcp://0.0.0.0:5570"}})
    assert is_loopback_endpoint("tcp://[::1]:5") and is_loopback_endpoint("tcp://localhost:5")
    assert not is_loopback_endpoint("tcp://hub.example:5570")
    config = build_config({}, overrides={("db_url",): ("sqlite:////srv/hall/h.db", "--db")})
    assert config.keys_dir() == Path("/srv/hall/keys")  # in the data folder by default
