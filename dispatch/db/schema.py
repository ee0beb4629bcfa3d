"""The one `MetaData` of the hub's store: every feature's tables join it.

Each feature declares its tables in its own `store` module on this object, so that
Alembic (`dispatch.db.migrations`) sees the whole schema, and a test
(`tests/integration/dispatch/db/test_migrations_models.py`) checks that the migrations' head equals
the tables declared here (autogenerate finds no difference).
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

metadata = MetaData()

# the modules that declare tables on `metadata`, imported by `load_all()`
TABLE_MODULES = (
    "dispatch.db.store",
    "dispatch.events.store",
    "dispatch.tasks.store",
    "dispatch.mediation.store",
    "dispatch.rollcall.store",
    "dispatch.patrol.store",
    "dispatch.positions.store",
    "dispatch.meetings.store",
    "dispatch.ptz.store",
)


def load_all() -> MetaData:
    """Import every module that declares tables, and return the complete `metadata`."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return metadata
