"""Alembic environment: runs on the connection handed in by dispatch.db.migrations.upgrade."""

from __future__ import annotations

from alembic import context

from dispatch.db.schema import load_all

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by a stray `alembic` CLI call
    raise RuntimeError("run migrations through dispatch.db.migrations.upgrade(conn)")

context.configure(connection=connection, target_metadata=load_all(), render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
