"""remote video mediation: mediation_sessions, mediation_participants

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mediation_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("recording_path", sa.Text, nullable=True),
        sa.Column("recording_sha256", sa.String(64), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
    )
    op.create_index("ix_mediation_sessions_event_id", "mediation_sessions", ["event_id"])
    op.create_table(
        "mediation_participants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("pin_hash", sa.String(256), nullable=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("intervals", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_mediation_participants_session_id", "mediation_participants", ["session_id"]
    )


def downgrade() -> None:
    op.drop_table("mediation_participants")
    op.drop_table("mediation_sessions")
