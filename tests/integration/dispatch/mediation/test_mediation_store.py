"""The durable state of an open mediation session (migration 0006), written and read back
on SQLite and PostgreSQL: what a restarted hub loads (`open_sessions`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from dispatch.db.store import Store
from dispatch.domain.calendar import CHINA_TZ
from dispatch.mediation import store as ms

pytestmark = pytest.mark.integration

OPENED = datetime(2026, 11, 22, 9, 30, tzinfo=CHINA_TZ)


def test_open_session_state_is_written_as_it_happens_and_loaded_back(
    migrated_store: Store,
) -> None:
    db = migrated_store
    cols = {c["name"] for c in inspect(db.engine).get_columns("mediation_participants")}
    assert {"label", "admitted", "removed", "session_hash"} <= cols
    cols = {c["name"] for c in inspect(db.engine).get_columns("mediation_sessions")}
    assert {"alive_at", "recording_on", "recordings"} <= cols

    expires = OPENED + timedelta(hours=24)
    with db.transaction() as conn:
        ms.add_session(conn, "M1", "E-1", "duty", OPENED)
        ms.add_participant(
            conn,
            pid="M1/host",
            session_id="M1",
            role="host",
            name="duty",
            token_hash="th-host",
            pin_hash=None,
            expires_at=expires,
            label="指挥中心",
            admitted=True,
            session_hash="sh-host",
        )
        ms.add_participant(
            conn,
            pid="M1/p1",
            session_id="M1",
            role="party",
            name="张三",
            token_hash="th-p1",
            pin_hash="pbkdf2$x",
            expires_at=expires,
            label="当事人A",
        )
    joined = OPENED + timedelta(minutes=1)
    left = OPENED + timedelta(minutes=5)
    back = OPENED + timedelta(minutes=6)
    alive = OPENED + timedelta(minutes=7)
    with db.transaction() as conn:  # admitted, joined, left, came back; 2 wrong PINs
        ms.save_participant(
            conn, "M1/p1", failures=2, admitted=True, removed=False,
            intervals=[(joined, left), (back, None)],
        )  # fmt: skip
        ms.save_session_state(
            conn, "M1", alive_at=alive, recording_on=True, recordings=["/r/M1-1.mp4"]
        )

    (got,) = ms.open_sessions(db.engine)
    assert got.row.id == "M1" and got.row.event_id == "E-1"
    # the same instants as written, whatever the zone (SQLite keeps no offset)
    assert got.row.opened_at == OPENED and got.alive_at == alive
    assert got.recording_on and got.recordings == ["/r/M1-1.mp4"]
    people = {p.id: p for p in got.participants}
    host, p1 = people["M1/host"], people["M1/p1"]
    assert host.admitted and host.session_hash == "sh-host" and host.pin_hash is None
    assert host.label == "指挥中心" and host.intervals == []
    assert p1.expires_at == expires and p1.expires_at.utcoffset() is not None
    assert (p1.role, p1.name, p1.label, p1.token_hash, p1.pin_hash) == (
        "party", "张三", "当事人A", "th-p1", "pbkdf2$x",
    )  # fmt: skip
    assert p1.failures == 2 and p1.admitted and not p1.removed
    assert p1.intervals == [(joined, left), (back, None)]

    # the heartbeat alone moves the alive time and keeps the rest
    later = alive + timedelta(seconds=5)
    with db.transaction() as conn:
        ms.save_session_state(conn, "M1", alive_at=later)
    (got,) = ms.open_sessions(db.engine)
    assert got.alive_at == later.astimezone(UTC) and got.recording_on

    # closed: no longer loaded, recording off, the filing kept
    with db.transaction() as conn:
        ms.close_session(
            conn, "M1", at=later, outcome="agreement", notes="", duration_s=450.0,
            recording_path="/r/M1-1.mp4", recording_sha256="ab" * 32,
        )  # fmt: skip
        ms.save_session_state(conn, "M1", alive_at=later + timedelta(minutes=1))
    assert ms.open_sessions(db.engine) == []
    row = ms.session(db.engine, "M1")
    assert row is not None and row.closed_at == later and row.outcome == "agreement"
