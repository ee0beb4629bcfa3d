"""The migrations' head equals the tables the features declare: autogenerate finds nothing.

Every feature declares its tables on the one `dispatch.db.schema.metadata`; a column,
index or table added to a `store` module without a migration (or a migration without the
model) shows here as a difference, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, String, Table

from dispatch.db.schema import TABLE_MODULES, load_all
from dispatch.db.store import Store

pytestmark = pytest.mark.integration


def differences(store: Store) -> list[Any]:
    metadata = load_all()
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs: list[Any] = compare_metadata(ctx, metadata)
    return diffs


def test_every_feature_declares_its_tables_on_the_one_metadata() -> None:
    names = {t.name for t in load_all().sorted_tables}
    # one table of each module that declares tables
    assert {"events", "tasks", "mediation_sessions", "camera_checks", "reveal_audit"} <= names
    assert "leader_positions" in names
    assert {"meetings", "meeting_log"} <= names
    assert "ptz_holds" in names
    assert len(TABLE_MODULES) == 9
    assert any(n.startswith("rollcall") for n in names), names


def test_the_migrations_head_has_exactly_the_declared_schema(migrated_store: Store) -> None:
    assert differences(migrated_store) == []


def test_a_table_without_a_migration_is_found(migrated_store: Store) -> None:
    metadata = load_all()
    extra = Table("not_migrated", metadata, Column("id", Integer, primary_key=True))
    try:
        extra.append_column(Column("name", String(10)))
        found = differences(migrated_store)
        assert [d[0] for d in found] == ["add_table"]
        assert found[0][1].name == "not_migrated"
    finally:
        metadata.remove(extra)
