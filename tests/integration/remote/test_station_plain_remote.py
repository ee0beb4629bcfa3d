"""A village duty station that opens its page over plain HTTP by host name (not a secure
context: the browser gives it no camera): the page says so in Chinese with what to do,
still answers the roll call receive-only through the TURN relay and sees the hall, and
the roll call logs the centre 应答（无画面） (`no_camera`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.remote.test_remote_support import (
    WAIT_S,
    Rig,
    chromium_in,
    hall_joins,
    in_call,
    open_station,
    selected_pair,
)
from tests.kit import async_wait_until
from tests.kit.netns import TURN, Netns

pytestmark = [pytest.mark.integration, pytest.mark.browser]

INSECURE_TEXT = "此页面未通过安全连接（HTTPS）打开，浏览器不允许使用摄像头和麦克风"


def test_village_station_over_plain_http_is_counted_no_camera(netns: Netns, tmp_path: Path) -> None:
    rig = Rig(netns, tmp_path, plain=True)
    rig.start()

    async def scenario() -> None:
        link = await rig.console(rig.c.rollcall.station_link(centre_id="t01"))
        url = rig.hub.page_url(link.path)
        assert url.startswith("http://hub.test:")
        async with chromium_in(netns, "village", tmp_path / "chromium") as browser:
            page = await open_station(browser, url, link.pin)
            assert await page.evaluate("() => window.isSecureContext") is False
            box = page.locator("#media-problem")
            await box.wait_for(timeout=WAIT_S * 1000)
            assert await box.get_attribute("data-kind") == "insecure"
            text = await box.inner_text()
            assert INSECURE_TEXT in text and "https://" in text and "/ca" in text
            await page.evaluate("() => { window.STATION_STATE.autoAnswer = 'answer'; }")
            await rig.console(rig.c.rollcall.start(ring_s=20.0, talk_s=600.0, batch=1))
            await page.wait_for_selector("#incall:not([hidden])", timeout=WAIT_S * 1000)
            assert "只接收县综治中心画面" in await page.inner_text("#call-status")
            await async_wait_until(lambda: rig.console(in_call(rig, "t01")), WAIT_S)
            hall = await rig.console(hall_joins(rig, "t01"))
            try:
                await page.wait_for_function(
                    "() => window.STATION_STATE.hallFrames > 10", timeout=WAIT_S * 1000
                )
                pair = await selected_pair(page)
                assert pair is not None and pair["local_address"] == TURN, pair
                assert pair["received"] > 0, pair
                assert hall.video == 0  # nothing to send: receive-only
            finally:
                if hall.star is not None:
                    await rig.console(hall.star.stop())
            await rig.console(rig.c.rollcall.end_call(centre_id="t01"))

            async def done() -> bool:
                st = await rig.c.rollcall.status()
                return st.run is not None and st.run.status == "done"

            await async_wait_until(lambda: rig.console(done()), 60, what="run done")
            week = await rig.console(rig.c.rollcall.week())
            assert [(x.centre_id, x.outcome) for x in week.calls] == [("t01", "no_camera")]
            assert week.calls[0].outcome_zh == "应答（无画面）"

    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        rig.stop()
