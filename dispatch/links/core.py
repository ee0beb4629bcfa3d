"""The pure rules of personal links (no I/O; see the package doc).

- A **link** is a long random token in a URL (`new_token`, 192 bits); the store keeps
  only its SHA-256 (`token_hash`), so a leaked database does not open any link.
- A **PIN** is 6 random digits (`new_pin`), shown once, stored as salted
  PBKDF2-SHA256 (`hash_pin`, `verify_pin`; the stored string names its iterations).
- The **lockout**: `MAX_PIN_FAILURES` wrong PINs lock the link until it is issued
  again; that lock is what makes a 6-digit PIN acceptable. `pin_failure(count)` says
  what the count of failures *after* this one means. The caller counts the attempt
  BEFORE checking its PIN, in one atomic step of its store (a conditional
  `UPDATE … SET failures = failures + 1 … WHERE failures < MAX RETURNING failures`, or
  an in-memory increment with no await in between), and a right PIN then clears it:
  concurrent guesses cannot all pass a lock none of them has written yet.
- The **state** of a found link (`link_state`): expired before locked before ok.
- The **cookie** of a logged-in page is stateless (`sign_cookie`): an HMAC of the link
  token keyed by the link's PIN hash, so a restarted hub recomputes it and a new PIN
  invalidates it; checked in constant time (`verify_cookie`). Server-side sessions
  (the phone page's, the console's host session) are random tokens compared by hash
  (`matches_hash`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_PIN_FAILURES = 5
PIN_ITERATIONS = 20_000  # PBKDF2-SHA256 (~10 ms); links also lock after MAX_PIN_FAILURES
PIN_DIGITS = 6
TOKEN_BYTES = 24  # token_urlsafe: 32 characters, 192 bits


class LinkState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    LOCKED = "locked"


def new_token() -> str:
    """A link or session token (URL-safe, 192 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_pin() -> str:
    """A PIN of `PIN_DIGITS` random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def token_hash(token: str) -> str:
    """Links and session tokens are long random strings: SHA-256 is the lookup hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches_hash(token: str, stored_hash: str) -> bool:
    """Whether `token` is the one whose `token_hash` is stored (constant time)."""
    return hmac.compare_digest(token_hash(token), stored_hash)


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """`pbkdf2$<iterations>$<salt hex>$<key hex>` (a new random salt unless given)."""
    salt = salt if salt is not None else os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"pbkdf2${PIN_ITERATIONS}${salt.hex()}${dk.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether `pin` hashes to `stored` (constant-time compare; a malformed stored
    string is a mismatch)."""
    try:
        _, iters, salt, want = stored.split("$")
        dk = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iters))
    except ValueError:
        return False
    return hmac.compare_digest(dk.hex(), want)


def is_locked(failures: int) -> bool:
    return failures >= MAX_PIN_FAILURES


def link_state(expires_at: datetime, failures: int, now: datetime) -> LinkState:
    """The state of a link that exists (an unknown one is `LinkState.UNKNOWN`)."""
    if expires_at <= now:
        return LinkState.EXPIRED
    if is_locked(failures):
        return LinkState.LOCKED
    return LinkState.OK


@dataclass(frozen=True)
class PinFailure:
    """What a wrong PIN means: the count to keep, the attempts left, locked or not."""

    failures: int
    left: int

    @property
    def locked(self) -> bool:
        return self.left == 0


def pin_failure(failures: int) -> PinFailure:
    """The lockout rule for a link that has now seen `failures` wrong PINs (this one
    included)."""
    return PinFailure(failures, max(0, MAX_PIN_FAILURES - failures))


@dataclass(frozen=True)
class LoginResult:
    """The answer of a link page's login: granted with the `session` to set as its
    cookie, or refused with the `reason` (a `LinkState` value, `wrong` with the
    attempts `remaining`, or a feature's own, e.g. mediation's `closed`)."""

    ok: bool
    reason: str
    session: str = ""
    remaining: int = 0

    @classmethod
    def granted(cls, session: str) -> LoginResult:
        return cls(True, LinkState.OK.value, session=session)

    @classmethod
    def refused(cls, reason: str) -> LoginResult:
        return cls(False, reason)

    @classmethod
    def wrong(cls, failure: PinFailure) -> LoginResult:
        """A wrong PIN: `wrong` with the attempts left, or `locked` by this one."""
        reason = LinkState.LOCKED.value if failure.locked else "wrong"
        return cls(False, reason, remaining=failure.left)


def sign_cookie(token: str, pin_hash: str) -> str:
    """The stateless cookie of a link: HMAC-SHA256(key = PIN hash, message = token)."""
    return hmac.new(pin_hash.encode(), token.encode(), hashlib.sha256).hexdigest()


def verify_cookie(cookie: str | None, token: str, pin_hash: str | None) -> bool:
    """Whether `cookie` is the link's cookie (constant time; none or no PIN: no)."""
    if not cookie or pin_hash is None:
        return False
    return hmac.compare_digest(cookie, sign_cookie(token, pin_hash))
