"""Markers that follow from where a test lives and what it uses, so that `-m` selects
truthfully: every test under an `integration/` folder is `integration`, and every test
that reaches the throwaway PostgreSQL (`pg_url`, or the `postgresql` case of
`migrated_store`) is `postgres` as well."""

from __future__ import annotations

import pytest

INTEGRATION = pytest.mark.integration
POSTGRES = pytest.mark.postgres


def uses_postgres(item: pytest.Item) -> bool:
    if "pg_url" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("migrated_store") == "postgresql"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        parts = item.path.relative_to(root).parts if item.path.is_relative_to(root) else ()
        if "integration" in parts[:-1] and item.get_closest_marker("integration") is None:
            item.add_marker(INTEGRATION)
        if uses_postgres(item):
            if item.get_closest_marker("postgres") is None:
                item.add_marker(POSTGRES)
            if item.get_closest_marker("integration") is None:
                item.add_marker(INTEGRATION)
