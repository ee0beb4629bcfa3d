"""Hub fixtures: real `hall-hub` processes on temporary SQLite files, and the databases.

- `start_hub`: a factory; `start_hub(**HubProcess keywords)` starts a hub (on
  `tmp_path/hall.db` unless `db_url` is given, data folder `tmp_path`) and stops it after
  the test. `start_hub(clock_offset_file=tmp_path / "clock")` runs it on a test wall
  clock (`dispatch.hub.clock`): `hub.set_clock_offset(7200)` moves it 2 hours on, and
  an event in its routing hour turns red within a second.
- `hub`: a started hub with the demo operators (duty/duty123, leader/leader123,
  admin/admin123) and the demo API key `HUB_API_KEY` seeded.
- `fixed_ports()`: HTTP and zmq addresses chosen now, so that a hub restarted after a kill
  is found at the same addresses; `free_port()`: one free loopback TCP port.
- `client_keys(hub)`: the key file content of the console workstation every
  `HubProcess` enrols, for `HubClient(keys=client_keys(hub), ...)`; `curve_client(sock,
  keys)` makes a raw zmq socket a CURVE client with such keys.
- `pg_url`: the throwaway PostgreSQL of scripts/test.sh (`HALL_TEST_PG_URL`). Without it
  the PostgreSQL tests FAIL with a message saying how to get one; they never skip.
- `migrated_store`: an opened (migrated) Store, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from sqlalchemy import create_engine, text

from dispatch.client.keys import ConsoleKeys
from dispatch.db.store import Store
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess

HUB_API_KEY = DEMO_API_KEY

StartHub = Callable[..., HubProcess]


def free_port() -> int:
    """A TCP port free on loopback now (the usual small race is accepted in tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fixed_ports() -> dict[str, Any]:
    """`HubProcess` keywords putting HTTP and both zmq sockets on ports chosen now."""
    return {
        "http_port": free_port(),
        "zmq_req": f"tcp://127.0.0.1:{free_port()}",
        "zmq_pub": f"tcp://127.0.0.1:{free_port()}",
    }


def client_keys(hub: HubProcess) -> ConsoleKeys:
    """The enrolled test console's keys (CURVE key pair and the hub's public key)."""
    return hub.console_keys


def curve_client(sock: zmq.Socket[Any], keys: ConsoleKeys) -> None:
    """Make a raw DEALER/SUB a CURVE client of the hub with `keys` (before connect)."""
    sock.setsockopt(zmq.CURVE_SERVERKEY, keys.hub_public_key.encode("ascii"))
    sock.setsockopt(zmq.CURVE_PUBLICKEY, keys.public_key.encode("ascii"))
    sock.setsockopt(zmq.CURVE_SECRETKEY, keys.secret_key.encode("ascii"))


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[StartHub]:
    started: list[HubProcess] = []

    def start(db_url: str | None = None, *, timeout_s: float = 60, **kw: Any) -> HubProcess:
        kw.setdefault("data_dir", tmp_path)  # also for PostgreSQL: never the user's folder
        proc = HubProcess(db_url or f"sqlite:///{tmp_path / 'hall.db'}", **kw)
        started.append(proc)
        proc.start(timeout_s=timeout_s)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture
def hub(start_hub: StartHub) -> HubProcess:
    return start_hub(demo=True)


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
