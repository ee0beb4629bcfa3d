"""The hall's side of a roll call (issue 6): who may join a call's room as the third peer
`hall`, and what the console's presence socket is told.

The console asks the hub for a watch (zmq `rollcall_watch`): it gets the call's
hall path `/rollcall/hall/{call_id}` and a session token for that call. With it the
console's `StarClient` posts its SDP offer and opens the presence socket, the same
signalling it speaks for mediation. One grant per call: a new watch replaces the token
(the old one is refused with 403), and the grant dies with the call (an offer for an
ended call is refused with 409, for a call the hub never had with 404).

`HallDesk` keeps the grants, the sockets of each call and the calls that ended lately.
Pure apart from the pushes it is handed; the clock is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.rollcall.messages import HallEnded, HallOut

Push = Callable[[HallOut], None]
HALL_PEER = "hall"
HALL_NAME = "县综治中心"
MIN_TTL = timedelta(minutes=15)
ENDED_KEPT = 512  # ended calls remembered (for 409 instead of 404)

END_REASONS_ZH = {
    "done": "通话时间已到",
    "officer": "值班员已结束通话",
    "station_left": "值班点已离开",
    "fault": "技术故障",
    "stopped": "中枢停止",
}


class HallError(Exception):
    """A refused hall request: HTTP status, a short code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Grant:
    call_id: str
    token_hash: str
    expires: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_grant(
    grant: Grant | None,
    ended_reason: str | None,
    live: bool,
    token: str | None,
    now: datetime,
) -> None:
    """Raise HallError unless `token` opens the live call's hall (pure)."""
    if not live:
        if ended_reason is not None:
            text = END_REASONS_ZH.get(ended_reason, ended_reason)
            raise HallError(409, "call_ended", f"通话已结束（{text}）/ the call has ended")
        raise HallError(404, "no_call", "没有该点名通话 / no such roll call")
    if not token:
        raise HallError(401, "auth", "缺少画面会话令牌 / hall session token missing")
    if grant is None or not hmac.compare_digest(grant.token_hash, _hash(token)):
        raise HallError(
            403, "forbidden", "画面会话令牌无效或已被新的接入取代 / hall token not valid"
        )
    if grant.expires <= now:
        raise HallError(403, "expired", "画面会话令牌已过期，请重新接入 / hall token expired")


class HallDesk:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._grants: dict[str, Grant] = {}
        self._sockets: dict[str, list[Push]] = {}
        self._ended: OrderedDict[str, str] = OrderedDict()

    def grant(self, call_id: str, ttl: timedelta) -> str:
        """A new token for the call's hall (replacing the previous one)."""
        token = secrets.token_urlsafe(24)
        exp = self.clock() + max(ttl, MIN_TTL)
        self._grants[call_id] = Grant(call_id, _hash(token), exp)
        return token

    def check(self, call_id: str, token: str | None, *, live: bool) -> None:
        check_grant(self._grants.get(call_id), self._ended.get(call_id), live, token, self.clock())

    # -- the console's presence sockets ----------------------------------------------------
    def connected(self, call_id: str, push: Push) -> None:
        self._sockets.setdefault(call_id, []).append(push)

    def disconnected(self, call_id: str, push: Push) -> None:
        lst = self._sockets.get(call_id, [])
        if push in lst:
            lst.remove(push)
        if not lst:
            self._sockets.pop(call_id, None)

    def sockets(self, call_id: str) -> int:
        return len(self._sockets.get(call_id, []))

    def push(self, call_id: str, msg: HallOut) -> None:
        for p in list(self._sockets.get(call_id, [])):
            p(msg)

    def ended(self, call_id: str, reason: str) -> None:
        """The call is over: tell the hall's sockets, drop the grant, remember the call."""
        text = END_REASONS_ZH.get(reason, reason)
        self.push(call_id, HallEnded(call_id=call_id, reason=reason, text=text))
        self._grants.pop(call_id, None)
        self._ended[call_id] = reason
        while len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)
