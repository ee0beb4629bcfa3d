"""The hub's disk fills up under intake (issue 16, part 2): a real `hall-hub` with its
data folder (SQLite, WAL) on an 8 MB tmpfs the test mounts and then fills. Intake answers
503 with `Retry-After` and a message saying the disk is full; every event acknowledged
(201) before, during and after is there, also after a restart; a console's client gets
the state in the heartbeat (`ConnectionState.hub_storage`), `/api/v1/health` says 503;
when the filler is deleted the hub says ok again by itself (no write needed) and takes
events again."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from tests.integration.dispatch.hub.test_backup_restore import list_events
from tests.kit.disk import SmallDisk, fill
from tests.kit.hub import StartHub, client_keys

pytestmark = [pytest.mark.integration]

WAIT_S = 20.0


def post(hub: HubProcess, ref: str) -> tuple[int, dict[str, Any], str | None]:
    """(status, body, Retry-After) of one intake."""
    body = {
        "source": "grid_report",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "urgent",
        "title": "磁盘测试",
        "description": "描述" * 200,
        "place": {"township": "t01", "village": "v01", "grid": "v01g1"},
    }
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30, context=hub.ssl_context()) as resp:
            return resp.status, json.loads(resp.read()), None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get("Retry-After")


def health(hub: HubProcess) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(f"{hub.http_url}/api/v1/health")
    try:
        with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def until(pred: Callable[[], bool], what: str) -> float:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > WAIT_S:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - t0


def test_a_full_disk_refuses_intake_clearly_loses_nothing_and_recovers(
    small_disk: SmallDisk, start_hub: StartHub
) -> None:
    disk = small_disk(8)
    hub = start_hub(f"sqlite:///{disk / 'hall.db'}", demo=True, data_dir=disk)
    states: list[ConnectionState] = []
    acked: list[str] = []
    refused: list[tuple[dict[str, Any], str | None]] = []

    async def body() -> None:
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
            for i in range(20):
                status, ev, _ = post(hub, f"before-{i}")
                assert status == 201
                acked.append(ev["id"])
            filler = fill(disk)
            t0, n = time.monotonic(), 0
            while not refused and time.monotonic() - t0 < 40:
                n += 1
                status, got, retry = post(hub, f"full-{n}")
                if status == 201:
                    acked.append(got["id"])  # still room in the WAL: durable all the same
                else:
                    assert status == 503, got
                    refused.append((got, retry))
            assert refused, f"the disk never refused ({n} posts)"
            got, retry = refused[0]
            assert "disk is full" in got["errors"][0]["message"], got
            assert "磁盘" in got["errors"][0]["message"] or "存储" in got["errors"][0]["message"]
            assert retry is not None and int(retry) >= 1
            await until(lambda: states[-1].hub_storage == "disk_full", "console sees disk_full")
            status, h = health(hub)
            assert status == 503 and h["storage"] == "disk_full" and h["since"], h
            assert len(list_events(hub)) >= len(acked) - 0  # reads still work
            await asyncio.sleep(2)  # it stays refused while full (the probe sees no room)
            assert health(hub)[1]["storage"] == "disk_full"

            filler.unlink()  # the administrator makes room; nothing is posted meanwhile
            took = await until(lambda: states[-1].hub_storage == "ok", "console sees ok")
            assert took < 10, took
            assert health(hub)[0] == 200
            status, ev, _ = post(hub, "after-1")
            assert status == 201, ev
            acked.append(ev["id"])
            assert states[-1].status.value == "connected"
        finally:
            await c.stop()

    asyncio.run(asyncio.wait_for(body(), 180))
    assert hub.pid is not None  # it never crashed
    ids = {e["id"] for e in list_events(hub)}
    assert set(acked) <= ids, set(acked) - ids
    hub.stop()
    hub.start(timeout_s=60)  # durable: after a restart every acknowledged event is there
    ids = {e["id"] for e in list_events(hub)}
    assert set(acked) <= ids, set(acked) - ids
    assert "Traceback" not in hub.last_stderr or "disk is full" in hub.last_stderr
