"""The hub's side of the shared positions with real parts and no browser: a phone's
WebSocket (aiohttp, logged in with the link's PIN), a real `hall-hub` on SQLite, real
console clients. A client that missed changes (a gap in the positions' seq) fetches the
list again; the positions outlive a hub restart (they are in the store) until withdrawn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dispatch.client.connection import HubClient
from dispatch.hub.process import HubProcess
from tests.kit.hub import client_keys, fixed_ports
from tests.kit.tls import hub_session
from tests.kit.wait import async_wait_until

pytestmark = pytest.mark.integration


def client(hub: HubProcess) -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="test-console",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )


@asynccontextmanager
async def phone(hub: HubProcess, path: str, pin: str) -> AsyncIterator[Any]:
    """A logged-in phone page's socket (after its hello)."""
    origin = hub.http_url.rstrip("/")
    async with hub_session(hub, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(
            origin + path + "/login", data={"pin": pin}, allow_redirects=False
        ) as r:
            assert r.status == 303
        async with http.ws_connect(origin + path + "/ws", headers={"Origin": origin}) as ws:
            hello = json.loads((await ws.receive(timeout=10)).data)
            assert hello["type"] == "hello"
            yield ws


async def say(ws: Any, msg: dict[str, Any]) -> dict[str, Any]:
    await ws.send_str(json.dumps(msg))
    while True:
        got: dict[str, Any] = json.loads((await ws.receive(timeout=10)).data)
        if got["type"] in ("position_shared", "error"):
            return got


def test_gap_refetch_and_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    ports = fixed_ports()
    hub = HubProcess(db, demo=True, data_dir=tmp_path, **ports)
    hub.start(timeout_s=60)

    async def go() -> None:
        con = client(hub)
        await con.start()
        try:
            await con.login("duty", "duty123")
            await con.positions.fetch()
            a = await con.tasks.issue_phone_link("p00")
            b = await con.tasks.issue_phone_link("p01")
            async with phone(hub, a.path, a.pin) as ws:
                got = await say(
                    ws, {"type": "position", "lon": 112.5425, "lat": 37.8741, "accuracy_m": 8}
                )
                assert got["shared"] is True
                bad = await say(
                    ws, {"type": "position", "lon": 112.54, "lat": -91, "accuracy_m": 8}
                )
                assert bad == {
                    "type": "error",
                    "code": "position",
                    "message": "位置无效：纬度 -91 不在 -90 到 90 之间",
                }
            await async_wait_until(lambda: "p00" in con.positions.view(), 10)
            # a missed change: the next one does not follow, so the list is fetched again
            con.positions.seq -= 3
            before = con.positions.seq
            async with phone(hub, b.path, b.pin) as ws:
                got = await say(
                    ws, {"type": "position", "lon": 112.553, "lat": 37.874, "accuracy_m": 20}
                )
                assert got["shared"] is True
            await async_wait_until(lambda: set(con.positions.view()) == {"p00", "p01"}, 10)
            assert con.positions.seq > before + 3  # the fetched list's seq, not +1
        finally:
            await con.stop()
        hub.kill()
        hub2 = HubProcess(db, demo=True, data_dir=tmp_path, **ports)
        await asyncio.to_thread(hub2.start, 60)
        try:
            con2 = client(hub2)
            await con2.start()
            try:
                await con2.login("duty", "duty123")
                rep = await con2.positions.fetch()
                assert {(p.person_id, p.name, p.lon) for p in rep.positions} == {
                    ("p00", "张建国", 112.5425),
                    ("p01", "王秀英", 112.553),
                }
                async with phone(hub2, a.path, a.pin) as ws:
                    assert (await say(ws, {"type": "position_off"}))["shared"] is False
                await async_wait_until(lambda: set(con2.positions.view()) == {"p01"}, 10)
                assert [p.person_id for p in (await con2.positions.fetch()).positions] == ["p01"]
            finally:
                await con2.stop()
        finally:
            hub2.stop()

    try:
        asyncio.run(asyncio.wait_for(go(), 180))
    finally:
        hub.stop()
