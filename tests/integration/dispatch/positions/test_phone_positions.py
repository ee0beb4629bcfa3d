"""A grid leader's position, end to end with real parts: the phone page in headless
Chromium with a fake geolocation, opened over HTTPS by host name (a secure context, as
on a real phone), a real `hall-hub` process, and a real console client (`HubClient`)
feeding the map's model. Consent off → nothing reaches the hub; on → the console's map
has the position; withdrawn → gone, at the hub too. Garbage coordinates are refused
with a clear reason."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from console.map.leaders import leader_marks
from console.map.model import MapModel, world
from dispatch.client.connection import HubClient
from dispatch.domain.site import demo_site_path, load_site
from dispatch.hub.process import HubProcess
from dispatch.positions.messages import LeaderPosition
from tests.integration.dispatch.tasks.test_hub_phone import post_event
from tests.kit.hub import StartHub, client_keys, free_port
from tests.kit.paths import ROOT
from tests.kit.tls import HUB_HOST, chromium_args_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_S = 15.0
HERE = {"longitude": 112.5425, "latitude": 37.8741, "accuracy": 12.0}  # in grid v01g1


class Console:
    """A logged-in console client whose map model follows the shared positions."""

    def __init__(self, hub: HubProcess) -> None:
        self.model = MapModel(load_site(demo_site_path()))
        self.heard: list[list[LeaderPosition]] = []
        self.client = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="test-console",
            on_change=lambda ch: None,
            on_connection=lambda st: None,
        )
        self.client.positions.listen(self._heard)

    def _heard(self, positions: list[LeaderPosition], max_age_s: float) -> None:
        self.heard.append(positions)
        self.model.set_leaders(leader_marks(positions, datetime.now(UTC), max_age_s))

    async def until(self, cond: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not cond():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), WAIT_S)


@asynccontextmanager
async def console(hub: HubProcess) -> AsyncIterator[Console]:
    c = Console(hub)
    await c.client.start()
    try:
        await c.client.login("duty", "duty123")
        await c.client.positions.fetch()  # the console's initial sync
        yield c
    finally:
        await c.client.stop()


@asynccontextmanager
async def chromium(hub: HubProcess) -> AsyncIterator[Browser]:
    args = CHROMIUM_ARGS + chromium_args_for(hub, host=HUB_HOST)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=args, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        geolocation=HERE,
        permissions=["geolocation"],
    )


async def log_in(page: Page, url: str, pin: str) -> None:
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#conn.ok", timeout=WAIT_S * 1000)


async def share_text(page: Page, words: str) -> None:
    await page.wait_for_function(
        "w => document.getElementById('share-msg').textContent.includes(w)",
        arg=words,
        timeout=WAIT_S * 1000,
    )


def run(body: Callable[[], Any]) -> None:
    async def go() -> None:
        await asyncio.wait_for(body(), 150)

    asyncio.run(go())


@pytest.fixture
def named_hub(start_hub: StartHub) -> HubProcess:
    port = free_port()
    return start_hub(demo=True, http_port=port, public_url=f"https://{HUB_HOST}:{port}")


def test_consent_off_on_withdrawn(named_hub: HubProcess) -> None:
    hub = named_hub
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def body() -> None:
        async with console(hub) as con, chromium(hub) as browser:
            link = await con.client.tasks.issue_phone_link("p00")
            url = f"{hub.public_url}{link.path}"
            assert url.startswith(f"https://{HUB_HOST}:")
            ctx = await phone(browser)
            page = await ctx.new_page()
            await log_in(page, url, link.pin)
            assert await page.evaluate("window.isSecureContext")
            # off by default: nothing is sent, the hub keeps nothing
            assert not await page.is_checked("#share-pos")
            assert "共享我的位置（仅用于指挥调度）" in await page.inner_text(".share")
            await asyncio.sleep(1.5)
            assert (await page.evaluate("window.__hallShare"))["sent"] == 0
            assert (await con.client.positions.fetch()).positions == []
            assert con.model.leaders == {}

            # on: the console's map has the position (published, not polled)
            fetched = len(con.heard)
            await page.check("#share-pos")
            await con.until(lambda: "p00" in con.model.leaders)
            assert len(con.heard) > fetched
            mark = con.model.leaders["p00"]
            assert mark.name == "张建国" and not mark.faded
            want = world(HERE["longitude"], HERE["latitude"])
            assert abs(mark.at[0] - want[0]) < 0.01 and abs(mark.at[1] - want[1]) < 0.01
            await share_text(page, "已共享位置")
            rep = await con.client.positions.fetch()
            (kept,) = rep.positions
            assert kept.person_id == "p00" and kept.consent and kept.accuracy_m == 12.0
            assert rep.max_age_s == 7200.0
            assert "13000000000" not in rep.model_dump_json()  # never a phone number
            await page.screenshot(path=str(SHOTS / "phone_share_position.png"))

            # a task action sends a fresh position too (besides at most one a minute)
            sent = (await page.evaluate("window.__hallShare"))["sent"]
            eid = post_event(hub, "楼道堆放杂物", "pos-1")
            task = await con.client.tasks.dispatch_event(eid)
            await page.wait_for_selector(f'section.task[data-task-id="{task.id}"]', timeout=15_000)
            await page.click(f'section.task[data-task-id="{task.id}"] button.act-accept')
            await page.wait_for_function(
                "n => window.__hallShare.sent > n", arg=sent, timeout=WAIT_S * 1000
            )

            # remembered on this phone only
            await page.reload()
            await page.wait_for_selector("#conn.ok", timeout=WAIT_S * 1000)
            assert await page.is_checked("#share-pos")
            other = await phone(browser)
            second = await other.new_page()
            await log_in(second, url, link.pin)
            assert not await second.is_checked("#share-pos")
            await other.close()

            # garbage from the page is refused, with a clear reason; the position stays
            await page.evaluate(
                "window.HallPhone.send({type: 'position', lon: 500, lat: 37.8, accuracy_m: 5})"
            )
            await share_text(page, "经度 500 不在 -180 到 180 之间")
            await page.evaluate(
                "window.HallPhone.send({type: 'position', lon: 112.5, lat: 37.8, accuracy_m: -3})"
            )
            await share_text(page, "精度 -3 米不在 0 到 50000 米之间")
            refusals = (await page.evaluate("window.__hallShare"))["replies"].count("refused")
            assert refusals == 2
            assert [p.lon for p in (await con.client.positions.fetch()).positions] == [
                HERE["longitude"]
            ]

            # withdrawn: gone from the map and from the hub
            await page.uncheck("#share-pos")
            await con.until(lambda: con.model.leaders == {})
            await share_text(page, "已通知中心删除")
            assert (await con.client.positions.fetch()).positions == []
            await page.reload()
            await page.wait_for_selector("#conn.ok", timeout=WAIT_S * 1000)
            assert not await page.is_checked("#share-pos")
            await asyncio.sleep(1.0)
            assert (await con.client.positions.fetch()).positions == []
            await ctx.close()

    run(body)
