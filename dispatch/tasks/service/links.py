"""Personal phone links of the grid leaders: a link token with a PIN, lockout after
`MAX_PIN_FAILURES` wrong PINs, and the session cookie a right PIN opens (a random
session token kept, hashed, in the store). The rules are `dispatch.links.core`'s.

Each attempt is counted in the store before its PIN is checked (`take_link_attempt`,
one conditional UPDATE): concurrent guesses cannot all pass a lock they read before
it was reached; a right PIN clears the count."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from dispatch.db.store import append_audit
from dispatch.domain.security import CLIENT, security_entry
from dispatch.events.service import HubService
from dispatch.hub.writer import Tx
from dispatch.links.core import (
    MAX_PIN_FAILURES,
    LinkState,
    LoginResult,
    hash_pin,
    link_state,
    new_pin,
    new_token,
    pin_failure,
    token_hash,
    verify_pin,
)
from dispatch.tasks import store as st
from dispatch.tasks.service.people import People
from dispatch.tasks.service.recorder import TaskRecorder


class PhoneLinks:
    """Issues links, checks PINs and sessions; sessions are cached after the first look."""

    def __init__(
        self, hub: HubService, recorder: TaskRecorder, people: People, session_ttl: timedelta
    ) -> None:
        self.hub = hub
        self.recorder = recorder
        self.people = people
        self.session_ttl = session_ttl
        self._sessions: dict[str, tuple[str, str, datetime]] = {}

    async def issue(self, person_id: str, ttl: timedelta) -> tuple[str, str, datetime]:
        """(token, PIN, expires at) of a new personal link for a person of the site."""
        self.people.person(person_id)
        token = new_token()
        pin = new_pin()
        h = await asyncio.to_thread(hash_pin, pin)
        now = self.hub.clock()
        exp = now + ttl
        await self.recorder.commit(
            lambda tx: st.put_phone_link(tx.conn, token_hash(token), person_id, h, now, exp)
        )
        return token, pin, exp

    async def status(self, token: str) -> tuple[str, st.PhoneLink | None]:
        """('ok' | 'unknown' | 'expired' | 'locked', the link)."""
        link = await asyncio.to_thread(st.phone_link, self.hub.store.engine, token_hash(token))
        if link is None or link.revoked or link.person_id not in self.people:
            return "unknown", link
        return link_state(link.expires_at, link.failures, self.hub.clock()).value, link

    async def login(self, token: str, pin: str) -> LoginResult:
        status, link = await self.status(token)
        if status != "ok" or link is None:
            return LoginResult.refused(status)
        lh = token_hash(token)
        # the attempt is counted (atomically, in the store) before the PIN is checked
        count = await self.recorder.commit(
            lambda tx: st.take_link_attempt(tx.conn, lh, MAX_PIN_FAILURES)
        )
        if count is None:
            return LoginResult.refused(LinkState.LOCKED.value)
        if not await asyncio.to_thread(verify_pin, pin, link.pin_hash):
            wrong = pin_failure(count)
            if wrong.locked:  # audited in the security log, with the client's address
                entry = security_entry(
                    self.hub.clock(), "link", f"m:{link.person_id}", CLIENT.get()
                )
                await self.recorder.commit(lambda tx: append_audit(tx.conn, [entry]))
            return LoginResult.wrong(wrong)
        session = new_token()
        sh = token_hash(session)
        now = self.hub.clock()
        exp = min(now + self.session_ttl, link.expires_at)

        def job(tx: Tx) -> None:
            st.set_link_failures(tx.conn, lh, 0)
            st.put_phone_session(tx.conn, sh, lh, link.person_id, now, exp)

        await self.recorder.commit(job)
        self._sessions[sh] = (lh, link.person_id, exp)
        return LoginResult.granted(session)

    async def session_person(self, token: str, session: str | None) -> str | None:
        """The person of a phone session cookie, if it is valid for this link."""
        if not session:
            return None
        sh = token_hash(session)
        got = self._sessions.get(sh)
        if got is None:
            got = await asyncio.to_thread(st.phone_session, self.hub.store.engine, sh)
            if got is None:
                return None
            self._sessions[sh] = got
        lh, person, exp = got
        if lh != token_hash(token) or exp <= self.hub.clock():
            return None
        return person
