"""Duty stations: their personal links with a PIN, and their presence.

A station logs in once with its link and PIN (`issue_link`, `login`; the rules are
`dispatch.links.core`'s); the cookie is an HMAC of the link token keyed by the PIN hash,
so a page left open survives a hub restart and a re-issued link invalidates it. A
station is online while its page's WebSocket is open (`connected` / `disconnected`);
`push` sends a message to every open page of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from dispatch.db.store import append_audit
from dispatch.domain.security import CLIENT, security_entry
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.links.core import (
    MAX_PIN_FAILURES,
    LinkState,
    hash_pin,
    link_state,
    new_pin,
    new_token,
    pin_failure,
    sign_cookie,
    token_hash,
    verify_cookie,
    verify_pin,
)
from dispatch.rollcall import store as rs
from dispatch.rollcall.messages import StationHello, StationOut
from dispatch.rollcall.service.state import Board, Db

Push = Callable[[StationOut], None]


class StationAuthError(Exception):
    def __init__(
        self, kind: Literal["unknown", "expired", "locked", "pin"], left: int = 0, centre: str = ""
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.left = left
        self.centre = centre  # of a wrong PIN: the link's centre (the page names it)


class Stations:
    def __init__(self, board: Board, db: Db, *, clock: Callable[[], datetime]) -> None:
        self.board = board
        self.db = db
        self.clock = clock
        self._pages: dict[str, list[Push]] = {}

    # -- links ------------------------------------------------------------------------------
    async def issue_link(self, centre_id: str, ttl: timedelta) -> tuple[str, str, datetime]:
        if centre_id not in self.board.centres:
            raise HubError(ErrorCode.NOT_FOUND, f"未知的中心 {centre_id!r} / unknown centre")
        token = new_token()
        pin = new_pin()
        exp = self.clock() + ttl
        pin_h = await asyncio.to_thread(hash_pin, pin)
        await self.db.write(
            lambda conn: rs.save_station(conn, centre_id, token_hash(token), pin_h, exp)
        )
        return token, pin, exp

    async def demo_links(self, http_url: str, ttl: timedelta = timedelta(days=30)) -> list[str]:
        """A link + PIN for every centre that has none yet (the `--demo` hub prints them);
        links already issued are kept, so pages left open survive a restart."""
        have = await self.db.read(rs.station_ids)
        out = []
        for c in self.board.roster:
            if c.id in have:
                continue
            token, pin, _ = await self.issue_link(c.id, ttl)
            out.append(f"  {c.township_name} {c.name}（{c.id}）: {http_url}/s/{token}  PIN {pin}")
        return out

    async def station(self, token: str) -> tuple[str, str]:
        """(centre id, PIN hash) of a valid link; raises StationAuthError."""
        row = await self.db.read(lambda eng: rs.station_by_token(eng, token_hash(token)))
        if row is None:
            raise StationAuthError("unknown")
        centre, pin_h, exp, failures = row
        state = link_state(exp, failures, self.clock())
        if state is LinkState.EXPIRED:
            raise StationAuthError("expired")
        if state is LinkState.LOCKED:
            raise StationAuthError("locked")
        return centre, pin_h

    async def login(self, token: str, pin: str) -> tuple[str, str]:
        """(centre id, cookie) for the right PIN; raises StationAuthError. The attempt
        is counted in the store (one conditional UPDATE) before the PIN is checked, so
        concurrent guesses cannot slip past the lock; a right PIN clears the count."""
        centre, pin_h = await self.station(token)
        th = token_hash(token)
        count = await self.db.write(
            lambda conn: rs.take_station_attempt(conn, th, MAX_PIN_FAILURES)
        )
        if count is None:
            raise StationAuthError("locked")
        if not await asyncio.to_thread(verify_pin, pin, pin_h):
            wrong = pin_failure(count)
            if wrong.locked:  # audited in the security log, with the client's address
                entry = security_entry(self.clock(), "link", f"s:{centre}", CLIENT.get())
                await self.db.write(lambda conn: append_audit(conn, [entry]))
                raise StationAuthError("locked")
            raise StationAuthError("pin", wrong.left, centre)
        await self.db.write(lambda conn: rs.set_station_failures(conn, centre, 0))
        return centre, sign_cookie(token, pin_h)

    async def authorised(self, token: str, cookie: str | None) -> str | None:
        """The centre id when the cookie (or bearer) belongs to this valid link."""
        if not cookie:
            return None
        try:
            centre, pin_h = await self.station(token)
        except StationAuthError:
            return None
        return centre if verify_cookie(cookie, token, pin_h) else None

    # -- presence ---------------------------------------------------------------------------
    def online(self, centre_id: str) -> bool:
        return bool(self._pages.get(centre_id))

    def connected(self, centre_id: str, push: Push) -> None:
        """A page opened its socket: it is greeted with `hello`."""
        self._pages.setdefault(centre_id, []).append(push)
        push(StationHello(centre=centre_id, name=self.board.centre_name(centre_id)))

    def disconnected(self, centre_id: str, push: Push) -> bool:
        """A page closed its socket; True when the station has no page open any more."""
        lst = self._pages.get(centre_id, [])
        if push in lst:
            lst.remove(push)
        if lst:
            return False
        self._pages.pop(centre_id, None)
        return True

    def push(self, centre_id: str, msg: StationOut) -> None:
        for push in list(self._pages.get(centre_id, [])):
            push(msg)
