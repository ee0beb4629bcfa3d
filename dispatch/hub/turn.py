"""Time-limited TURN credentials (coturn's shared-secret scheme, `use-auth-secret` +
`static-auth-secret`), and the hub's ICE source that hands them out.

The user name is `"<expiry-unix>:<name>"` and the password
`base64(HMAC-SHA1(secret, user name))`; coturn recomputes the password from its copy of
the secret and refuses (401) a user name whose expiry has passed, so no per-user state
is kept anywhere. The clock is passed in: the functions are pure.

`TurnMinter` is the hub's `IceSource` (`streams.webrtc.config`): for a person or peer
name it gives the configured static servers (`[webrtc] ice_servers`) plus the `[turn]`
URLs with credentials minted now, valid `ttl_s`, and the `relay_only` policy. Pages get
it in their page config (and again from their `ice` route before each connection), the
console in its LoginReply / the mediation and roll-call replies (refreshed with an
`IceRequest` before expiry), and the hub's own aiortc peers for each new connection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dispatch.domain.ice import IceInfo, IceServerInfo
from dispatch.hub.clock import system_utc
from streams.webrtc.config import IcePlan, IceServer

NAME_MAX = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def safe_name(name: str) -> str:
    """The name as it may appear after the expiry: ASCII letters, digits and `._@-`
    (no ':', coturn's separator; anything else becomes "_"), at most NAME_MAX
    characters ("-" when empty). Callers pass ids, not people's names: coturn logs it."""
    cleaned = _UNSAFE.sub("_", name).strip("_")[:NAME_MAX]
    return cleaned or "-"


def console_ice_name(workstation: str) -> str:
    """The name in the TURN credentials of a console workstation's media."""
    return f"console-{workstation}"


def turn_username(expiry_unix: int, name: str) -> str:
    return f"{expiry_unix}:{safe_name(name)}"


def turn_password(secret: str, username: str) -> str:
    """base64(HMAC-SHA1(secret, username)), as coturn computes it."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class TurnCredential:
    username: str
    password: str
    expires_at: datetime


def mint(secret: str, name: str, now: datetime, ttl_s: int) -> TurnCredential:
    """Credentials for `name` valid from `now` for `ttl_s` seconds."""
    expires = now.astimezone(UTC) + timedelta(seconds=ttl_s)
    user = turn_username(int(expires.timestamp()), name)
    return TurnCredential(user, turn_password(secret, user), expires)


def expiry_of(username: str) -> datetime | None:
    """The expiry written in a user name of this scheme (None: not one)."""
    head, sep, _ = username.partition(":")
    if not sep or not head.isdigit():
        return None
    return datetime.fromtimestamp(int(head), UTC)


class TurnMinter:
    """The hub's ICE source: static servers + the TURN URLs with fresh credentials.

    `secret` is a callable so the hub can read `secret_file` in `start()` (nothing is
    read here); with no URLs or no secret it gives the static servers only."""

    def __init__(
        self,
        urls: Sequence[str],
        secret: Callable[[], str | None],
        *,
        ttl_s: int,
        static: Sequence[IceServer] = (),
        relay_only: bool = False,
        clock: Callable[[], datetime] = system_utc,
    ) -> None:
        self.urls = tuple(urls)
        self._secret = secret
        self.ttl_s = ttl_s
        self.static = tuple(static)
        self.relay_only = relay_only
        self._clock = clock

    def __call__(self, name: str) -> IcePlan:
        return self.plan(name)

    def plan(self, name: str) -> IcePlan:
        secret = self._secret()
        if not self.urls or not secret:
            return IcePlan(self.static, self.relay_only)
        cred = mint(secret, name, self._clock(), self.ttl_s)
        # first: aiortc uses only the first TURN server it is given
        turn = IceServer(self.urls, cred.username, cred.password)
        return IcePlan((turn, *self.static), self.relay_only, cred.expires_at)


def ice_info(plan: IcePlan) -> IceInfo:
    """The plan as the wire model handed to a console."""
    return IceInfo(
        servers=[
            IceServerInfo(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in plan.servers
        ],
        relay_only=plan.relay_only,
        expires_at=plan.expires_at,
    )


def plan_of(info: IceInfo) -> IcePlan:
    """The wire model back as a plan (the console's aiortc peers)."""
    return IcePlan(
        tuple(IceServer(tuple(s.urls), s.username, s.credential) for s in info.servers),
        info.relay_only,
        info.expires_at,
    )
