"""PostgreSQL stopped and started under intake (issue 16, part 2): a real `hall-hub` on a
PostgreSQL cluster of the test's own (`pg_cluster`, never the suite's shared one) while a
thread posts events without pause. While the database is down intake answers 503 saying
the database is unreachable, the console's client and `/api/v1/health` say
`db_unreachable`; when it is back the hub says ok by itself and takes events again; every
event acknowledged (201) before, during and after is stored and reached the console, whose
view caught up with no change missing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState
from dispatch.hub.process import HubProcess
from tests.integration.dispatch.hub.test_backup_restore import list_events
from tests.integration.dispatch.hub.test_disk_full import health, post
from tests.kit.hub import StartHub, client_keys
from tests.kit.pgcluster import PgCluster

pytestmark = [pytest.mark.integration]

WAIT_S = 30.0


class Intake(threading.Thread):
    """Posts events until stopped: acknowledged ids, 503 bodies, anything else."""

    def __init__(self, hub: HubProcess) -> None:
        super().__init__(daemon=True)
        self.hub = hub
        self.acked: list[str] = []
        self.refused: list[dict[str, Any]] = []
        self.other: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                status, body, _ = post(self.hub, f"pg-{n}")
            except Exception as exc:  # a hub that hangs up is a failure of the test
                self.other.append(repr(exc))
                continue
            if status == 201:
                self.acked.append(body["id"])
            elif status == 503:
                self.refused.append(body)
                time.sleep(0.05)
            else:
                self.other.append(f"{status} {body}")


async def until(pred: Callable[[], bool], what: str) -> None:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > WAIT_S:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        await asyncio.sleep(0.05)


def test_postgres_stopped_and_started_under_intake(
    pg_cluster: PgCluster, start_hub: StartHub
) -> None:
    hub = start_hub(pg_cluster.url, demo=True)
    states: list[ConnectionState] = []
    intake = Intake(hub)

    async def body() -> list[str]:
        c = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="test-console",
            on_change=lambda ch: None,
            on_connection=states.append,
        )
        await c.start()
        try:
            await c.login("duty", "duty123")
            intake.start()
            await until(lambda: len(intake.acked) >= 20, "intake running")
            await asyncio.to_thread(pg_cluster.stop, "fast")
            await until(lambda: bool(intake.refused), "intake refused")
            assert "database is unreachable" in intake.refused[0]["errors"][0]["message"]
            await until(lambda: states[-1].hub_storage == "db_unreachable", "console told")
            status, h = health(hub)
            assert status == 503 and h["storage"] == "db_unreachable", h
            down = len(intake.acked)
            await asyncio.sleep(1.0)
            assert len(intake.acked) == down  # nothing acknowledged while it is down
            await asyncio.to_thread(pg_cluster.start)
            await until(lambda: states[-1].hub_storage == "ok", "console sees ok")
            await until(lambda: len(intake.acked) >= down + 20, "intake again")
            assert health(hub)[0] == 200
            intake.stop.set()
            await asyncio.to_thread(intake.join, 30)
            await until(lambda: set(intake.acked) <= set(c.events.view()), "console caught up")
            return list(c.events.view())
        finally:
            intake.stop.set()
            await c.stop()

    seen = asyncio.run(asyncio.wait_for(body(), 150))
    assert not intake.other, intake.other[:3]
    stored = {e["id"] for e in list_events(hub)}
    assert set(intake.acked) <= stored, set(intake.acked) - stored
    assert set(intake.acked) <= set(seen)
    assert "db_unreachable is over" in hub.stderr_text()
