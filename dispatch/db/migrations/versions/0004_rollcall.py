"""weekly video roll call: rollcall_runs, rollcall_log (调度日志), exemptions, stations, schedule

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rollcall_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch", sa.Integer, nullable=False),
        sa.Column("ring_s", sa.Float, nullable=False),
        sa.Column("talk_s", sa.Float, nullable=False),
        sa.Column("due", sa.Text, nullable=False),
        sa.Column("exempt", sa.Text, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
    )
    op.create_index("ix_rollcall_runs_week", "rollcall_runs", ["week"])
    op.create_table(
        "rollcall_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("centre_name", sa.String(64), nullable=False),
        sa.Column("township", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("rang_at", TS, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("ended_at", TS, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("run_id", "centre_id", "attempt", name="uq_rollcall_log_call"),
    )
    op.create_index("ix_rollcall_log_week", "rollcall_log", ["week"])
    op.create_table(
        "rollcall_exemptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "rollcall_stations",
        sa.Column("centre_id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("pin_hash", sa.String(256), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
    )
    op.create_table(
        "rollcall_schedule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("at", sa.String(5), nullable=False),
        sa.Column("ring_s", sa.Float, nullable=False),
        sa.Column("batch", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("last_week", sa.Date, nullable=True),
    )


def downgrade() -> None:
    for t in (
        "rollcall_schedule",
        "rollcall_stations",
        "rollcall_exemptions",
        "rollcall_log",
        "rollcall_runs",
    ):
        op.drop_table(t)
