"""grid leaders' last shared positions (`leader_positions`)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

One row per person who shares their position from the phone page (with consent); the
row goes when they withdraw it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leader_positions",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("accuracy_m", sa.Float, nullable=False),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leader_positions")
