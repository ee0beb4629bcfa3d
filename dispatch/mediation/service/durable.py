"""Mediation survives a hub restart: what defines an open session is written as it happens,
and a restarted hub loads the open sessions back.

Written: the session, each participant with its lobby state and PIN failures, each join
and leave, recording on and off with its files, and, every `ALIVE_S`, the hub's last
known alive time. Loaded back (`restore`): the links, PINs and cookies keep working (a
participant's cookie is derived from the link and its PIN hash), admitted participants
are admitted again, and an interval left open by the crash is closed at the session's
last known alive time. Resuming a recording is the service's (a new file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dispatch.events.service import HubService
from dispatch.hub.writer import Tx
from dispatch.mediation import store as ms
from dispatch.mediation.core import (
    ALIVE_S,
    ROLE_LABELS,
    Participant,
    close_crashed,
    participant_order,
)
from dispatch.mediation.service.sessions import MediationSession, Sessions
from streams.webrtc.room import Room

log = logging.getLogger(__name__)


def restore(row: ms.OpenSession, room: Room, now: datetime) -> MediationSession:
    """A session as a restarted hub takes it back from its stored rows."""
    sid = row.row.id
    sess = MediationSession(sid, row.row.event_id, row.row.opened_by, row.row.opened_at, room)
    sess.restored_at = now
    sess.recordings = [Path(x) for x in row.recordings]
    for r in sorted(row.participants, key=lambda r: participant_order(r.id)):
        local = r.id.rsplit("/", 1)[-1]
        p = Participant(
            id=local,
            session_id=sid,
            role=r.role,
            label=r.label or ROLE_LABELS.get(r.role, r.role),
            name=r.name,
            token_hash=r.token_hash,
            pin_hash=r.pin_hash,
            expires_at=r.expires_at or now,
            failures=r.failures,
            admitted=r.admitted or local == "host",
            removed=r.removed,
            session_hash=r.session_hash,
            intervals=close_crashed(r.intervals, row.alive_at),
        )
        sess.participants[p.id] = p
    return sess


def save_job(sess: MediationSession, now: datetime) -> Callable[[Tx], None]:
    """The writer job that stores the session's changing state as it is now."""
    people = [
        (f"{sess.id}/{p.id}", p.failures, p.admitted, p.removed, list(p.intervals))
        for p in sess.participants.values()
    ]
    recording_on = sess.recorder is not None
    files = [str(x) for x in sess.recordings]
    sid = sess.id

    def job(tx: Tx) -> None:
        for pid, failures, admitted, removed, intervals in people:
            ms.save_participant(
                tx.conn,
                pid,
                failures=failures,
                admitted=admitted,
                removed=removed,
                intervals=intervals,
            )
        ms.save_session_state(
            tx.conn, sid, alive_at=now, recording_on=recording_on, recordings=files
        )

    return job


def beat_job(sids: list[str], now: datetime) -> Callable[[Tx], None]:
    def job(tx: Tx) -> None:
        for sid in sids:
            ms.save_session_state(tx.conn, sid, alive_at=now)

    return job


class Durable:
    """Writes the sessions of `sessions` through the events service's single writer."""

    def __init__(self, events: HubService, sessions: Sessions) -> None:
        self._events = events
        self._sessions = sessions
        self._dirty: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._saver: asyncio.Task[None] | None = None

    async def open_rows(self) -> list[ms.OpenSession]:
        """The stored sessions still open (for a restarted hub to take back)."""
        return await asyncio.to_thread(ms.open_sessions, self._events.engine)

    async def save(self, sess: MediationSession) -> None:
        """Write the session's changing state now (one transaction)."""
        if sess.closed_at is not None:
            return
        await self._events.commit(save_job(sess, self._events.clock()))

    def changed(self, sess: MediationSession) -> None:
        """A change made outside a coroutine (presence): written by the saver at once."""
        self._dirty.add(sess.id)
        if self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        """Start writing liveness every `ALIVE_S` (and dirty sessions at once)."""
        if self._saver is not None:
            return
        self._wake = asyncio.Event()
        self._saver = asyncio.create_task(self._keep_alive(), name="mediation-alive")

    async def stop(self) -> None:
        saver, self._saver = self._saver, None
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver

    async def _keep_alive(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), ALIVE_S)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            now = self._events.clock()
            beat = [s.id for s in self._sessions if s.closed_at is None]
            try:
                for sid in dirty:
                    sess = self._sessions.find(sid)
                    if sess is not None:
                        await self.save(sess)
                if beat:
                    await self._events.commit(beat_job(beat, now))
            except Exception:
                log.exception("writing mediation state failed; retrying")
                self._dirty |= dirty
                await asyncio.sleep(1.0)
