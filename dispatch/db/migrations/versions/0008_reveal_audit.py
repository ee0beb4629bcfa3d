"""who asked to see a reporter's full number (`reveal_audit`); stored changes masked

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

The `changes` rows are what clients get when they catch up; from now on they carry the
reporter's phone and ID numbers masked, like every published change. Older rows are
masked here (the `events` rows keep the whole numbers).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from dispatch.domain.model import mask_id_number, mask_phone

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 2000


def _masked(payload: str) -> str | None:
    """The payload with the reporter's numbers masked; None if nothing changes."""
    try:
        body: Any = json.loads(payload)
        reporter = body["event"]["reporter"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(reporter, dict):
        return None
    phone, idn = str(reporter.get("phone") or ""), str(reporter.get("id_number") or "")
    shown_phone, shown_id = mask_phone(phone), mask_id_number(idn)
    if (phone, idn) == (shown_phone, shown_id):
        return None
    reporter["phone"], reporter["id_number"] = shown_phone, shown_id
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def upgrade() -> None:
    op.create_table(
        "reveal_audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("workstation", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reveal_audit_event", "reveal_audit", ["event_id"])
    changes = sa.table("changes", sa.column("seq", sa.BigInteger), sa.column("payload", sa.Text))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(changes.c.seq, changes.c.payload)
            .where(changes.c.seq > last)
            .order_by(changes.c.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for seq, payload in rows:
            shown = _masked(payload)
            if shown is not None:
                conn.execute(sa.update(changes).where(changes.c.seq == seq).values(payload=shown))
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_reveal_audit_event", table_name="reveal_audit")
    op.drop_table("reveal_audit")
