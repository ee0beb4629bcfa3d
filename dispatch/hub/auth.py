"""Operators' passwords and sessions.

Passwords are hashed with scrypt (memory-hard, in the standard library) with a
per-user random salt; the stored string names its parameters, so they can be raised
later without breaking old hashes. Checks compare in constant time and also spend a
full hash on unknown operators, so timing does not tell which names exist.
Sessions are random tokens held in memory by the hub: after a hub restart, clients
log in again with the credentials they kept.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from dispatch.domain.model import Role

SCRYPT_N = 2**14  # 16 MiB with r=8: ~50 ms per hash on this machine
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32
_PREFIX = "scrypt"

OPERATOR_ROLES = (Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN)
# who may see a reporter's full phone or ID number (an audited request with a reason);
# duty officers see them masked and ask their supervisor
REVEAL_ROLES = (Role.SUPERVISOR, Role.ADMIN)

# The demo's operators (printed by the demo only; never used outside --demo and tests).
DEMO_OPERATORS: tuple[tuple[str, Role, str], ...] = (
    ("duty", Role.DUTY_OFFICER, "duty123"),
    ("leader", Role.SUPERVISOR, "leader123"),
    ("admin", Role.ADMIN, "admin123"),
)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN)
    return f"{_PREFIX}${n}${r}${p}${_b64(salt)}${_b64(dk)}"


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a real password, used to keep timing uniform")


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the stored hash; malformed hashes never match."""
    try:
        prefix, n_s, r_s, p_s, salt_s, dk_s = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, want = base64.b64decode(salt_s), base64.b64decode(dk_s)
    except ValueError:
        return False
    if prefix != _PREFIX or n < 2 or n > 2**20 or r < 1 or r > 32 or p < 1 or p > 16:
        return False
    got = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(want), maxmem=2**26
    )
    return hmac.compare_digest(got, want)


def check_login(password: str, stored: str | None) -> bool:
    """Verify against `stored`, or burn the same time on a dummy hash when it is None."""
    if stored is None:
        verify_password(password, _dummy_hash())
        return False
    return verify_password(password, stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return "hk_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Session:
    token: str
    operator: str
    role: Role
    workstation: str


class Sessions:
    """Tokens of logged-in operators (in memory, per hub instance)."""

    def __init__(self) -> None:
        self._by_token: dict[str, Session] = {}

    def open(self, operator: str, role: Role, workstation: str) -> Session:
        s = Session(new_token(), operator, role, workstation)
        self._by_token[s.token] = s
        return s

    def get(self, token: str) -> Session | None:
        # dict lookup by the token itself: the token is the secret and the key
        return self._by_token.get(token)

    def close(self, token: str) -> None:
        self._by_token.pop(token, None)

    def __len__(self) -> int:
        return len(self._by_token)
