"""pytest fixtures for the hub: a real `hall-hub` process on a temporary SQLite file.

- `hub`: a started `HubProcess` with the demo operators (duty/duty123, leader/leader123,
  admin/admin123) and the demo API key `HUB_API_KEY` seeded.
- `pg_url`: the throwaway PostgreSQL of scripts/test.sh (`HALL_TEST_PG_URL`). Without it
  the PostgreSQL tests FAIL with a message saying how to get one; they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dispatch.db.store import Store
from dispatch.hub.app import DEMO_API_KEY
from dispatch.hub.process import HubProcess

HUB_API_KEY = DEMO_API_KEY


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(f"sqlite:///{tmp_path / 'hall.db'}", demo=True)
    proc.start(timeout_s=60)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("HALL_TEST_PG_URL")
    if not url:
        pytest.fail(
            "HALL_TEST_PG_URL is not set: run the tests through scripts/test.sh, or start a "
            'throwaway PostgreSQL with: eval "$(bash scripts/pg.sh start)"'
        )
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An opened (migrated) Store on a fresh SQLite file, and on an emptied PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hall.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        eng = create_engine(url)
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        eng.dispose()
    s = Store(url)
    s.open()
    try:
        yield s
    finally:
        s.close()
