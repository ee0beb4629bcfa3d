"""durable mediation sessions: lobby state, liveness and recordings written as they happen

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # the hub's last known alive time for an open session (heartbeat and every write)
    op.add_column("mediation_sessions", sa.Column("alive_at", TS, nullable=True))
    op.add_column(
        "mediation_sessions",
        sa.Column("recording_on", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # JSON list of the session's recording files, oldest first
    op.add_column(
        "mediation_sessions",
        sa.Column("recordings", sa.Text, nullable=False, server_default="[]"),
    )
    op.add_column("mediation_participants", sa.Column("label", sa.String(32), nullable=True))
    op.add_column(
        "mediation_participants",
        sa.Column("admitted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "mediation_participants",
        sa.Column("removed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # the console's bearer session (hash): the host has no PIN to derive a cookie from
    op.add_column("mediation_participants", sa.Column("session_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mediation_participants") as b:
        b.drop_column("session_hash")
        b.drop_column("removed")
        b.drop_column("admitted")
        b.drop_column("label")
    with op.batch_alter_table("mediation_sessions") as b:
        b.drop_column("recordings")
        b.drop_column("recording_on")
        b.drop_column("alive_at")
