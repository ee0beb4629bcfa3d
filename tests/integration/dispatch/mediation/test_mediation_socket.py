"""The join page's socket on a real hub: typed state pushes, typed refusals (bad JSON, an
unknown type, a party trying the host's controls) that never end the conversation, and
the host's admit reaching the party's page."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
    console_client,
    mediation_args,
    post_event,
)
from tests.kit.hub import StartHub
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    return start_hub(**mediation_args(tmp_path))


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
        assert isinstance(msg, dict)
        if msg["type"] == kind:
            return msg


def test_the_page_socket_speaks_typed_messages(hub: HubProcess) -> None:
    async def body() -> None:
        eid = post_event(hub, "邻里噪音纠纷", "socket-1")
        async with (
            console_client(hub) as con,
            hub_session(hub, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
        ):
            rep = await con.mediation.open_mediation(eid, INVITES[:1], ttl_hours=1)
            link = rep.links[0]
            base = hub.http_url + link.path
            async with http.post(base + "/login", data={"pin": link.pin}) as r:
                assert r.status == 200
            async with (
                http.ws_connect(base + "/ws") as page,
                http.ws_connect(
                    hub.http_url + rep.host_path + "/ws",
                    headers={"Authorization": f"Bearer {rep.host_session}"},
                ) as host,
            ):
                state = await next_of(page, "state")
                assert state["me"]["id"] == link.participant_id and not state["me"]["admitted"]
                assert state["session"] == {"id": rep.session_id, "event_id": eid}
                assert state["epoch"] and not state["recording"] and not state["closed"]
                for bad in ("not json", '{"type": "shout"}', '{"type": "admit"}'):
                    await page.send_str(bad)
                    err = await next_of(page, "error")
                    assert err["code"] == "invalid"
                await page.send_str(json.dumps({"type": "admit", "id": link.participant_id}))
                err = await next_of(page, "error")
                assert err == {
                    "type": "error",
                    "code": "forbidden",
                    "message": "只有主持人可以执行此操作",
                }
                await page.send_str(json.dumps({"type": "media", "audio": False}))
                await host.send_str(json.dumps({"type": "admit", "id": link.participant_id}))
                while True:
                    state = await next_of(page, "state")
                    if state["me"]["admitted"]:
                        break
                (me,) = [p for p in state["participants"] if p["id"] == link.participant_id]
                assert me["online"] and me["audio"] is False and me["video"] is True
                await host.send_str(json.dumps({"type": "remove", "id": "nobody"}))
                err = await next_of(host, "error")
                assert err["code"] == "not_found"

    asyncio.run(asyncio.wait_for(body(), 90))
