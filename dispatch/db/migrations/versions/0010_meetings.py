"""video meetings (`meetings`, `meeting_log`)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

One row per meeting (plan, status, lock, floor, minutes, recording and its SHA-256) and
the append-only log of what happened in it (join, leave, floor, hand, mute, kick, lock).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("convenor", sa.String(64), nullable=False),
        sa.Column("invited", sa.Text, nullable=False),
        sa.Column("start_at", TS, nullable=False),
        sa.Column("agenda", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", TS, nullable=True),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("floor", sa.String(64), nullable=True),
        sa.Column("minutes", sa.Text, nullable=False),
        sa.Column("recording", sa.String(255), nullable=True),
        sa.Column("recording_sha256", sa.String(64), nullable=True),
    )
    op.create_index("ix_meetings_start_at", "meetings", ["start_at"])
    op.create_table(
        "meeting_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("meeting_id", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("centre", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_meeting_log_meeting", "meeting_log", ["meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_meeting_log_meeting", "meeting_log")
    op.drop_table("meeting_log")
    op.drop_index("ix_meetings_start_at", "meetings")
    op.drop_table("meetings")
