"""camera health patrol: camera_checks, camera_fault_events

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "camera_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("faults", sa.Text, nullable=False),  # JSON: fault -> score (detected)
        sa.Column("scores", sa.Text, nullable=False),  # JSON: fault -> score (all judged)
        sa.Column("snapshot", sa.Text, nullable=False),  # this sample's picture ("" if none)
        sa.Column("last_good", sa.Text, nullable=False),  # the camera's last healthy picture
        sa.Column("seconds", sa.Float, nullable=False),
    )
    op.create_index("ix_camera_checks_camera_at", "camera_checks", ["camera", "at"])
    op.create_index("ix_camera_checks_at", "camera_checks", ["at"])
    op.create_table(
        "camera_fault_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("bad_since", TS, nullable=False),
        sa.Column("recovered_at", TS, nullable=True),
    )
    op.create_index("ix_camera_fault_events_camera", "camera_fault_events", ["camera"])


def downgrade() -> None:
    op.drop_table("camera_fault_events")
    op.drop_table("camera_checks")
