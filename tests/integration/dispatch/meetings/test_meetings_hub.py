"""Meetings through a real `hall-hub` process (SQLite file) and its zmq API: a meeting
planned by the console is published with its seq to the console's facade and pushed to
an invited duty station's meeting socket (the station's own link, PIN and cookie, over
HTTPS), not to a station that is not invited; bad requests get typed errors and lose
nothing; without a media engine the meeting cannot be opened (the reason says so) but
can be cancelled, which withdraws the invitation; a socket without the cookie gets 401.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.wire import HubError
from dispatch.hub.tls import NEEDS_CLEANUP_CLOSED
from dispatch.meetings.messages import MeetingInfo
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    console,
    rollcall_hub,
    until,
    write_site,
)

pytestmark = pytest.mark.integration


class MeetPage:
    """A station's meeting socket without a browser: its pushes in `messages`."""

    def __init__(self, base: str, path: str, pin: str, ssl: Any) -> None:
        self.base, self.path, self.pin, self.ssl = base, path, pin, ssl
        self.messages: list[dict[str, Any]] = []
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        conn = aiohttp.TCPConnector(ssl=self.ssl, enable_cleanup_closed=NEEDS_CLEANUP_CLOSED)
        self._http = aiohttp.ClientSession(connector=conn)
        url = self.base + self.path
        async with self._http.post(
            url + "/login", data={"pin": self.pin}, allow_redirects=False
        ) as r:
            assert r.status == 303, await r.text()
            cookie = r.cookies["hall_s"].value
        self._ws = await self._http.ws_connect(
            url + "/meet/ws", headers={"Authorization": f"Bearer {cookie}"}
        )
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(msg.data))

    async def send(self, **m: Any) -> None:
        assert self._ws is not None
        await self._ws.send_str(json.dumps(m))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()


def test_meetings_over_the_hub(tmp_path: Path) -> None:
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 2, 2))

    async def scenario() -> None:
        async with console(hub) as c:
            seen: list[dict[str, MeetingInfo]] = []
            c.meetings.listen(seen.append)
            await c.meetings.fetch()
            centres = (await c.meetings.centres()).centres
            assert [x.id for x in centres][:3] == ["t01", "t01v01", "t01v02"]
            pages = {}
            for cid in ("t01v01", "t02"):
                link = await c.rollcall.station_link(centre_id=cid)
                p = MeetPage(hub.http_url, link.path, link.pin, hub.ssl_context())
                await p.start()
                pages[cid] = p
            try:
                await body(c, pages, seen)
            finally:
                for p in pages.values():
                    await p.stop()
            # no cookie: refused
            conn = aiohttp.TCPConnector(ssl=hub.ssl_context())
            url = hub.http_url + link.path + "/meet/ws"
            async with aiohttp.ClientSession(connector=conn) as http, http.get(url) as r:
                assert r.status == 401

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        hub.stop()


async def body(c: Any, pages: dict[str, MeetPage], seen: list[dict[str, MeetingInfo]]) -> None:
    start = datetime.now(CHINA_TZ) + timedelta(minutes=30)
    for bad, code in (({"invited": ["t09"]}, "未知的中心"), ({"title": " "}, "名称不能为空")):
        kw: dict[str, Any] = {"title": "周例会", "invited": ["t01v01"], "start_at": start}
        kw.update(bad)
        with pytest.raises(HubError, match=code):
            await c.meetings.create(**kw)
    assert (await c.meetings.fetch()).meetings == []
    m = await c.meetings.create("周例会", ["t01v01", "t01"], start, agenda="一、安全生产")
    await until(lambda: m.id in c.meetings.view(), what="the published change")
    assert c.meetings.view()[m.id].status == "planned"
    p = pages["t01v01"]
    await until(lambda: p.of("invite"), what="the invitation on the station's socket")
    inv = p.of("invite")[-1]
    assert inv["title"] == "周例会" and not inv["open"] and 1700 < inv["left_s"] <= 1800
    assert inv["names"] == {"t01v01": "第1镇1村", "t01": "第1镇"}
    assert pages["t02"].of("invite") == []  # not invited
    await p.send(type="join", meeting_id=m.id)
    await until(lambda: p.of("refused"), what="the refused join")
    assert "待召开" in p.of("refused")[-1]["message"]
    with pytest.raises(HubError, match="未配置视频会议服务"):
        await c.meetings.open(m.id)
    await c.meetings.cancel(m.id)
    await until(lambda: p.of("gone"), what="the withdrawn invitation")
    assert p.of("gone")[-1] == {"type": "gone", "meeting_id": m.id, "reason": "cancelled"}
    got = await c.meetings.get(m.id)
    assert got.meeting.status == "cancelled" and got.meeting.absent == ["t01v01", "t01"]
    await until(lambda: seen and seen[-1][m.id].status == "cancelled", what="the facade")
