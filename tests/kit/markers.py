"""Markers that follow from where a test lives and what it uses, so that `-m` selects
truthfully: every test under an `integration/` folder is `integration`; every test that
reaches the throwaway PostgreSQL (`pg_url`, or a fixture's `"postgresql"` case)
is `postgres`; and `browser`, `xvfb` and `postgres` tests are `integration` as well."""

from __future__ import annotations

import pytest

INTEGRATION = pytest.mark.integration
POSTGRES = pytest.mark.postgres
REAL_PARTS = ("browser", "xvfb", "postgres")  # markers that imply `integration`


def uses_postgres(item: pytest.Item) -> bool:
    if "pg_url" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return any(isinstance(v, str) and v == "postgresql" for v in params)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        parts = item.path.relative_to(root).parts if item.path.is_relative_to(root) else ()
        if uses_postgres(item) and item.get_closest_marker("postgres") is None:
            item.add_marker(POSTGRES)
        real = "integration" in parts[:-1] or any(item.get_closest_marker(m) for m in REAL_PARTS)
        if real and item.get_closest_marker("integration") is None:
            item.add_marker(INTEGRATION)
