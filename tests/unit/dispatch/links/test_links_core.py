"""Personal links (`dispatch.links.core`): tokens, PINs, the lockout rule, link states
and the stateless cookie, with known values so a change of any of them (which would
lock out every issued link) fails here."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

from dispatch.links.core import (
    MAX_PIN_FAILURES,
    PIN_ITERATIONS,
    LinkState,
    LoginResult,
    hash_pin,
    is_locked,
    link_state,
    matches_hash,
    new_pin,
    new_token,
    pin_failure,
    sign_cookie,
    token_hash,
    verify_cookie,
    verify_pin,
)

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_tokens_are_long_url_safe_and_distinct() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)


def test_pins_are_six_digits_with_leading_zeros_kept() -> None:
    pins = [new_pin() for _ in range(2000)]
    assert all(re.fullmatch(r"\d{6}", p) for p in pins)
    assert any(p.startswith("0") for p in pins)  # 1 in 10: 2000 draws all miss ~never
    assert len(set(pins)) > 1900


def test_token_hash_is_sha256_hex_and_matches_in_constant_time() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert matches_hash("abc", token_hash("abc"))
    assert not matches_hash("abd", token_hash("abc"))


def test_pin_hash_round_trip_salted_and_self_describing() -> None:
    stored = hash_pin("012345")
    algo, iters, salt, key = stored.split("$")
    assert (algo, int(iters), len(bytes.fromhex(salt))) == ("pbkdf2", PIN_ITERATIONS, 16)
    assert verify_pin("012345", stored)
    assert not verify_pin("012346", stored) and not verify_pin("12345", stored)
    assert hash_pin("012345") != stored  # a new salt each time
    salt_b = bytes(range(16))
    want = hashlib.pbkdf2_hmac("sha256", b"012345", salt_b, PIN_ITERATIONS).hex()
    assert hash_pin("012345", salt_b) == f"pbkdf2${PIN_ITERATIONS}${salt_b.hex()}${want}"
    assert len(key) == 64


def test_verify_pin_reads_the_iterations_of_the_stored_string() -> None:
    salt = b"\x01" * 16
    older = f"pbkdf2$1000${salt.hex()}${hashlib.pbkdf2_hmac('sha256', b'9', salt, 1000).hex()}"
    assert verify_pin("9", older) and not verify_pin("8", older)


def test_malformed_stored_pins_never_match() -> None:
    for bad in ("", "pbkdf2", "pbkdf2$x$00$00", "pbkdf2$10$zz$00", "a$b$c$d$e"):
        assert not verify_pin("123456", bad), bad


def test_lockout_rule_counts_down_to_locked() -> None:
    seen = [(f.failures, f.left, f.locked) for f in map(pin_failure, range(1, 7))]
    assert seen == [
        (1, 4, False),
        (2, 3, False),
        (3, 2, False),
        (4, 1, False),
        (5, 0, True),
        (6, 0, True),
    ]
    assert MAX_PIN_FAILURES == 5
    assert not is_locked(4) and is_locked(5)


def test_link_state_expired_before_locked_before_ok() -> None:
    later, earlier = NOW + timedelta(seconds=1), NOW - timedelta(seconds=1)
    assert link_state(later, 0, NOW) is LinkState.OK
    assert link_state(later, 4, NOW) is LinkState.OK
    assert link_state(later, 5, NOW) is LinkState.LOCKED
    assert link_state(NOW, 0, NOW) is LinkState.EXPIRED  # the expiry instant is past
    assert link_state(earlier, 5, NOW) is LinkState.EXPIRED
    assert LinkState.LOCKED == "locked"  # the pages' refusal keys


def test_cookie_is_stateless_and_bound_to_link_and_pin() -> None:
    a = sign_cookie("tok-1", "pbkdf2$a")
    assert a == hmac.new(b"pbkdf2$a", b"tok-1", hashlib.sha256).hexdigest()
    assert a == sign_cookie("tok-1", "pbkdf2$a") and len(a) == 64
    assert a != sign_cookie("tok-2", "pbkdf2$a")
    assert a != sign_cookie("tok-1", "pbkdf2$b")
    assert verify_cookie(a, "tok-1", "pbkdf2$a")
    assert not verify_cookie(a, "tok-2", "pbkdf2$a")
    assert not verify_cookie(a, "tok-1", "pbkdf2$b")
    assert not verify_cookie(None, "tok-1", "pbkdf2$a")
    assert not verify_cookie("", "tok-1", "pbkdf2$a")
    assert not verify_cookie(a, "tok-1", None)


def test_login_results() -> None:
    assert LoginResult.granted("s1") == LoginResult(True, "ok", session="s1")
    assert LoginResult.refused("expired") == LoginResult(False, "expired")
    assert LoginResult.wrong(pin_failure(1)) == LoginResult(False, "wrong", remaining=4)
    assert LoginResult.wrong(pin_failure(5)) == LoginResult(False, "locked", remaining=0)
