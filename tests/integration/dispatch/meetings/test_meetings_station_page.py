"""The duty station's page in headless Chromium, by host name over HTTPS, on a hub WITHOUT
a meetings engine: the page carries no meetings script and opens no meeting socket (the
roll call's own socket is up), a meeting planned by the console shows nothing on it, and
the officer's attempt to open the meeting is refused with the reason. The invitation card
(会议邀请, its countdown, the join button that waits for the opening) is tested on a hub
with its engine: `test_meetings_janus.py`."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.wire import HubError
from tests.integration.dispatch.mediation.test_mediation_support import SHOTS, chromium
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    WAIT_S,
    console,
    rollcall_hub,
    write_site,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


async def open_station(browser: Browser, url: str, pin: str) -> tuple[Page, list[str]]:
    """The page logged in with its PIN, its roll-call socket up; the URLs of the
    WebSockets it opened."""
    ctx = await browser.new_context(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    page = await ctx.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.locator("#presence.online").wait_for(timeout=WAIT_S * 1000)
    return page, sockets


def test_no_meeting_socket_without_an_engine(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 2, 1))

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub) as browser:
            link = await c.rollcall.station_link(centre_id="t01v01")
            page, sockets = await open_station(browser, hub.http_url + link.path, link.pin)
            assert page.url.startswith("https://")
            start = datetime.now(CHINA_TZ) + timedelta(minutes=10)
            m = await c.meetings.create("十二月综治工作调度会", ["t01v01", "t01"], start, "一")
            await page.wait_for_timeout(2000)
            assert await page.evaluate("() => window.MEETING_STATE === undefined")
            assert await page.evaluate("() => window.JanusRoom === undefined")
            assert await page.locator(".meet-invite").count() == 0
            assert sockets and not [u for u in sockets if u.endswith("/meet/ws")], sockets
            with pytest.raises(HubError, match="未配置视频会议服务"):
                await c.meetings.open(m.id)
            await c.meetings.cancel(m.id)

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        hub.stop()
