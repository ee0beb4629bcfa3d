"""attachments name the file the hub stored (`blob`), never a client's path

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Old rows kept whatever path a console sent. They get the file name as display `name`;
only feedback photos, which the hub itself wrote to its upload folder under a name it
chose (`ph-<32 hex>.<ext>`), keep a `blob`. Every other old row has none and is never
served. No path is opened here.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PHOTO = re.compile(r"^ph-[0-9a-f]{32}\.(jpg|png|webp)$")


def _base(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def upgrade() -> None:
    op.add_column("attachments", sa.Column("blob", sa.String(80), nullable=True))
    op.add_column("attachments", sa.Column("name", sa.Text, nullable=False, server_default=""))
    t = sa.table(
        "attachments",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("path", sa.Text),
        sa.column("blob", sa.String),
        sa.column("name", sa.Text),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(t.c.id, t.c.kind, t.c.path)).all()
    for r in rows:
        base = _base(r.path)
        blob = base if r.kind == "photo" and _PHOTO.match(base) else None
        conn.execute(sa.update(t).where(t.c.id == r.id).values(blob=blob, name=base[:255]))
    with op.batch_alter_table("attachments") as b:
        b.drop_column("path")


def downgrade() -> None:
    with op.batch_alter_table("attachments") as b:
        b.add_column(sa.Column("path", sa.Text, nullable=False, server_default=""))
    t = sa.table("attachments", sa.column("blob", sa.String), sa.column("path", sa.Text))
    op.execute(sa.update(t).values(path=sa.func.coalesce(t.c.blob, "")))
    with op.batch_alter_table("attachments") as b:
        b.drop_column("name")
        b.drop_column("blob")
