"""dispatch tasks: tasks, task_history, push_outbox, attachments, phone_links, phone_sessions

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_tasks_event", "tasks", ["event_id"])
    op.create_index("ix_tasks_assignee_open", "tasks", ["assignee", "is_open"])
    op.create_index("ix_tasks_open", "tasks", ["is_open"])
    op.create_table(
        "task_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_task_history_task", "task_history", ["task_id", "id"])
    op.create_index("ix_task_history_event", "task_history", ["event_id", "id"])
    op.create_table(
        "push_outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("acked_at", TS, nullable=True),
        sa.UniqueConstraint("task_id", "person_id", name="uq_push_outbox_task_person"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_push_outbox_pending", "push_outbox", ["person_id", "acked_at"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_attachments_event", "attachments", ["event_id"])
    op.create_table(
        "phone_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("pin_hash", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_phone_links_person", "phone_links", ["person_id"])
    op.create_table(
        "phone_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("link_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "phone_sessions",
        "phone_links",
        "attachments",
        "push_outbox",
        "task_history",
        "tasks",
    ):
        op.drop_table(name)
