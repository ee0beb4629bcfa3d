"""PTZ holds (`ptz_holds`)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

One row per held PTZ camera (who, role, workstation, since, until), so that a hold
survives a hub restart until it expires; the row goes at release or takeover's replace.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ptz_holds",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("workstation", sa.String(64), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("until", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ptz_holds")
