"""The duty station's page in headless Chromium, by host name over HTTPS: a meeting
planned by the console shows on the invited station's page as 会议邀请 with its title,
start time and a countdown that runs; its join button waits for the meeting to open;
the officer's attempt to open it without a media engine is refused; cancelling it takes
the card away. A page of a centre that is not invited shows nothing."""

from __future__ import annotations

import asyncio
import re
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


async def open_station(browser: Browser, url: str, pin: str) -> Page:
    ctx = await browser.new_context(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_function("() => window.MEETING_STATE && window.MEETING_STATE.online")
    return page


def seconds_left(text: str) -> int:
    m = re.fullmatch(r"距开会还有 (?:(\d+) 分 )?(\d+) 秒", text)
    assert m is not None, text
    return int(m.group(1) or 0) * 60 + int(m.group(2))


def test_the_invitation_on_the_station_page(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 2, 1))

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub) as browser:
            pages: dict[str, Page] = {}
            for cid in ("t01v01", "t02"):
                link = await c.rollcall.station_link(centre_id=cid)
                pages[cid] = await open_station(browser, hub.http_url + link.path, link.pin)
            page = pages["t01v01"]
            assert page.url.startswith("https://")
            start = datetime.now(CHINA_TZ) + timedelta(minutes=10)
            title = "十二月综治工作调度会"
            m = await c.meetings.create(title, ["t01v01", "t01"], start, "一、安全生产")
            card = page.locator(".meet-invite")
            await card.wait_for(timeout=WAIT_S * 1000)
            assert await card.locator("h2").inner_text() == "会议邀请"
            assert await card.locator(".meet-invite-title").inner_text() == "十二月综治工作调度会"
            assert await card.locator(".meet-agenda").inner_text() == "一、安全生产"
            first = seconds_left(await card.locator(".meet-countdown").inner_text())
            assert 540 < first <= 600
            join = card.locator("button.meet-join")
            assert await join.is_disabled() and await join.inner_text() == "会议尚未开始"
            await page.wait_for_timeout(2500)
            later = seconds_left(await card.locator(".meet-countdown").inner_text())
            assert 1 <= first - later <= 10  # the countdown runs on the page
            await page.screenshot(path=str(SHOTS / "meetings_station_invite.png"))
            assert await pages["t02"].locator(".meet-invite").count() == 0
            with pytest.raises(HubError, match="未配置视频会议服务"):
                await c.meetings.open(m.id)
            await c.meetings.cancel(m.id)
            await card.wait_for(state="detached", timeout=WAIT_S * 1000)

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        hub.stop()
