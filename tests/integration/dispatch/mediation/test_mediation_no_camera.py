"""The mediation join page without a usable camera, in real headless Chromium: opened over
plain HTTP by host name it says at once, in Chinese, that the page is not on HTTPS and what
to do (no JavaScript exception alert, no empty device check to click through); with the
camera refused it says so with the fix, and nothing is ever shown in an alert box."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page

from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    INVITES,
    SHOTS,
    WAIT_S,
    chromium,
    console_client,
    mediation_args,
    post_event,
)
from tests.kit.hub import StartHub

pytestmark = [pytest.mark.integration, pytest.mark.browser]

BY_NAME = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP hub.test 127.0.0.1"]
REFUSED = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    """Pages over plain HTTP (`--tls off`): by host name not a secure context, on
    127.0.0.1 one (Chromium's rule for loopback)."""
    args = mediation_args(tmp_path)
    return start_hub(**{**args, "extra_args": [*args["extra_args"], "--tls", "off"]})


async def join(browser: Browser, url: str, pin: str, alerts: list[str]) -> Page:
    ctx = await browser.new_context(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    page = await ctx.new_page()

    async def dialog(d: Dialog) -> None:
        alerts.append(d.message)
        await d.dismiss()

    page.on("dialog", dialog)
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#enter", timeout=WAIT_S * 1000)
    return page


async def problem(page: Page) -> tuple[str, str]:
    box = page.locator("#media-problem")
    await box.wait_for(timeout=WAIT_S * 1000)
    return (await box.get_attribute("data-kind") or "", await box.inner_text())


def test_the_join_page_says_what_is_wrong_with_the_camera_and_what_to_do(
    hub: HubProcess,
) -> None:
    port = hub.http_url.rsplit(":", 1)[1]
    alerts: list[str] = []

    async def body() -> None:
        eid = post_event(hub, "邻里噪音纠纷", "med-no-camera-1")
        async with console_client(hub) as con:
            rep = await con.mediation.open_mediation(eid, INVITES[2:4])
            plain, refused = rep.links
            async with chromium(hub, BY_NAME) as browser:
                page = await join(browser, f"http://hub.test:{port}{plain.path}", plain.pin, alerts)
                kind, text = await problem(page)
                assert kind == "insecure"
                assert "此页面未通过安全连接（HTTPS）打开，浏览器不允许使用摄像头和麦克风" in text
                assert "https://" in text and "/ca" in text
                assert await page.is_disabled("#enter")
                await page.screenshot(path=str(SHOTS / "mediation_not_secure.png"))
            async with chromium(hub, REFUSED) as browser:
                page = await join(browser, hub.http_url + refused.path, refused.pin, alerts)
                kind, text = await problem(page)
                assert kind == "denied" and "网站设置" in text
                await page.click("#enter")  # tries again, says it again, no alert
                await page.wait_for_function("() => !document.getElementById('enter').disabled")
                kind, _ = await problem(page)
                assert kind == "denied"
                assert await page.is_visible("#setup")
        assert alerts == []

    asyncio.run(asyncio.wait_for(body(), 180))
