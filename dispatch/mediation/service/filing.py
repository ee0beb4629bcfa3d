"""Opening and closing a session on the event: the invited participants and their links,
and what is filed (the session's rows and a line on the event's timeline) each time.

The timeline lines go through the events service's public API (`append_timeline` inside
a `commit`), so consoles see them as a change of the event like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from dispatch.domain.model import AuditEntry, Event
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.hub.writer import Tx
from dispatch.links.core import hash_pin, new_pin, new_token, token_hash
from dispatch.mediation import store as ms
from dispatch.mediation.core import ROLE_LABELS, Participant, role_labels
from dispatch.mediation.messages import MediationInvite
from dispatch.mediation.service.sessions import MediationSession


class Link(NamedTuple):
    """An invited participant's link as handed to the console once (never stored)."""

    participant: Participant
    token: str
    pin: str


@dataclass(frozen=True)
class HostLink:
    token: str
    session: str  # the console's bearer session on the host link


@dataclass(frozen=True)
class Closing:
    """What a close files: the outcome, the notes, the recordings with their SHA-256."""

    outcome: str
    notes: str
    duration_s: float
    files: list[tuple[Path, str]]


def audit_line(ev: Event, by: Session, now: datetime, action: str, note: str) -> AuditEntry:
    """A timeline entry of the mediation on `ev` (the event's state does not change)."""
    return AuditEntry(
        event_id=ev.id,
        at=now,
        operator=by.operator,
        role=by.role,
        workstation=by.workstation,
        action=action,
        from_state=ev.state,
        to_state=ev.state,
        note=note,
    )


def host_of(sid: str, by: Session, expires_at: datetime) -> tuple[Participant, HostLink]:
    """The console's participant: admitted from the start, no PIN, a bearer session."""
    link = HostLink(new_token(), new_token())
    host = Participant(
        id="host",
        session_id=sid,
        role="host",
        label=ROLE_LABELS["host"],
        name=by.operator,
        token_hash=token_hash(link.token),
        pin_hash=None,
        expires_at=expires_at,
        admitted=True,
        session_hash=token_hash(link.session),
    )
    return host, link


async def invite(sid: str, invites: Sequence[MediationInvite], expires_at: datetime) -> list[Link]:
    """A participant with a fresh link token and 6-digit PIN for each invitation."""
    links = []
    for i, (inv, label) in enumerate(zip(invites, role_labels(invites), strict=True)):
        token, pin = new_token(), new_pin()
        p = Participant(
            id=f"p{i + 1}",
            session_id=sid,
            role=inv.role,
            label=label,
            name=inv.name,
            token_hash=token_hash(token),
            pin_hash=await asyncio.to_thread(hash_pin, pin),
            expires_at=expires_at,
        )
        links.append(Link(p, token, pin))
    return links


def open_job(events: HubService, sess: MediationSession, audit: AuditEntry) -> Callable[[Tx], int]:
    """The session, its participants and the 'opened' line, in one transaction."""
    sid, now = sess.id, sess.opened_at
    people = list(sess.participants.values())

    def job(tx: Tx) -> int:
        ms.add_session(tx.conn, sid, sess.event_id, sess.opened_by, now)
        for p in people:
            ms.add_participant(
                tx.conn,
                pid=f"{sid}/{p.id}",
                session_id=sid,
                role=p.role,
                name=p.name,
                token_hash=p.token_hash,
                pin_hash=p.pin_hash,
                expires_at=p.expires_at,
                label=p.label,
                admitted=p.admitted,
                session_hash=p.session_hash,
            )
        ms.save_session_state(tx.conn, sid, alive_at=now)
        return events.append_timeline(tx, events.event_in(tx, sess.event_id), [audit], now)

    return job


def close_job(
    events: HubService, sess: MediationSession, closing: Closing, audit: AuditEntry
) -> Callable[[Tx], int]:
    """The participants' final state, the outcome and the 'closed' line, in one transaction."""
    assert sess.closed_at is not None
    sid, now = sess.id, sess.closed_at
    rec, sha = closing.files[-1] if closing.files else (None, None)

    def job(tx: Tx) -> int:
        for p in sess.participants.values():
            ms.save_participant(
                tx.conn,
                f"{sid}/{p.id}",
                failures=p.failures,
                admitted=p.admitted,
                removed=p.removed,
                intervals=p.intervals,
            )
        ms.save_session_state(
            tx.conn, sid, alive_at=now, recordings=[str(r) for r, _ in closing.files]
        )
        ms.close_session(
            tx.conn,
            sid,
            at=now,
            outcome=closing.outcome,
            notes=closing.notes,
            duration_s=closing.duration_s,
            recording_path=str(rec) if rec is not None else None,
            recording_sha256=sha,
        )
        return events.append_timeline(tx, events.event_in(tx, sess.event_id), [audit], now)

    return job
