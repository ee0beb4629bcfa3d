"""Hole 4 of issue 12: the lockout of personal links is atomic. 39 wrong PINs are fired
at once at a real hub over HTTP, and the right PIN 50 ms later while they are still in
flight: the phone link and the station link must both refuse it (locked), answer at
most `MAX_PIN_FAILURES - 1` "wrong" pages, and stay locked, the lock audited once in
the security log; on SQLite and on PostgreSQL (a database of its own, dropped after)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dispatch.client.connection import HubClient
from dispatch.db.store import Store
from dispatch.domain.security import SECURITY_LOG
from dispatch.hub.process import HubProcess
from dispatch.links.core import MAX_PIN_FAILURES
from tests.kit.hub import client_keys
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]

WRONG = 39


async def _links(hub: HubProcess) -> list[tuple[str, str]]:
    """(URL, PIN) of a grid leader's phone link and of a duty station's link."""
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="hall-1",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
        request_timeout_s=60,
    )
    await c.start()
    try:
        await c.login("duty", "duty123")
        phone = await c.tasks.issue_phone_link("p00")
        station = await c.rollcall.station_link(centre_id="v01")
    finally:
        await c.stop()
    return [(hub.http_url + phone.path, phone.pin), (hub.http_url + station.path, station.pin)]


async def _post(http: aiohttp.ClientSession, url: str, pin: str, delay_s: float) -> int:
    await asyncio.sleep(delay_s)
    async with http.post(url + "/login", data={"pin": pin}, allow_redirects=False) as r:
        await r.read()
        return r.status


async def _race(hub: HubProcess, url: str, pin: str) -> None:
    wrong = [f"{(int(pin) + 1 + i) % 1_000_000:06d}" for i in range(WRONG)]
    async with hub_session(hub) as http:
        tries = [_post(http, url, w, 0) for w in wrong] + [_post(http, url, pin, 0.05)]
        statuses = await asyncio.gather(*tries)
        *wrong_statuses, right = statuses
        assert right == 423, statuses  # locked: the right PIN is refused once locked
        assert wrong_statuses.count(401) <= MAX_PIN_FAILURES - 1, statuses
        assert set(wrong_statuses) <= {401, 423}, statuses
        # still locked afterwards, for the right PIN too
        assert await _post(http, url, pin, 0) == 423
        async with http.get(url) as r:
            assert r.status == 423


def _race_both(hub: HubProcess) -> None:
    async def go() -> None:
        for url, pin in await _links(hub):
            await _race(hub, url, pin)

    try:
        asyncio.run(go())
    finally:
        hub.stop()
    # each lock is audited once, naming the link and the client
    store = Store(hub.db_url)
    store.open()
    try:
        rows = [(a.action, a.operator, a.workstation) for a in store.timeline(SECURITY_LOG)]
    finally:
        store.close()
    assert rows == [
        ("link_locked", "m:p00", "127.0.0.1"),
        ("link_locked", "s:v01", "127.0.0.1"),
    ], rows


def unthrottled(tmp: Path, db_url: str) -> HubProcess:
    """A demo hub whose per-client PIN throttle lets all 40 tries through (this test is
    about each link's own lockout; the throttle is `test_guessing`'s)."""
    cfg = tmp / "hub.toml"
    cfg.write_text("[guard]\npin_free_per_client = 1000\npin_block_per_client = 2000\n")
    return HubProcess(db_url, demo=True, extra_args=["--config", str(cfg)])


def test_concurrent_guesses_cannot_pass_the_lock_on_sqlite(tmp_path: Path) -> None:
    hub = unthrottled(tmp_path, f"sqlite:///{tmp_path / 'hall.db'}")
    hub.start(timeout_s=60)
    _race_both(hub)


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own (dropped after)."""
    name = f"pinrace_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.postgres
def test_concurrent_guesses_cannot_pass_the_lock_on_postgresql(pg_db: str, tmp_path: Path) -> None:
    hub = unthrottled(tmp_path, pg_db)
    hub.start(timeout_s=60)
    _race_both(hub)
