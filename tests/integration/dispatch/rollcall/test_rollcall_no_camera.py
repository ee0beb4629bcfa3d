"""Duty stations without a camera, in real headless Chromium: a page opened over plain
HTTP by host name (not a secure context: no navigator.mediaDevices) says so in Chinese with
what to do, still answers the roll call receive-only, and the roll call logs that centre
应答（无画面） (`no_camera`, the reason as the note) — reached, not re-called, counted in the
export, and the hall joining the call is seen on the page; a page whose camera is refused,
or that has none, says which and how to fix it; a page that loses the hub says the
connection failed instead of waiting silently."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page

from streams.webrtc.config import restrict_host_addresses
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    SHOTS,
    chromium,
)
from tests.integration.dispatch.rollcall.test_rollcall_browser import open_station
from tests.integration.dispatch.rollcall.test_rollcall_hall import (
    MIN_FRAMES,
    HallPeer,
    in_call,
    page_state,
)
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    LOOPBACK,
    WAIT_S,
    console,
    rollcall_hub,
    until,
    write_site,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

BY_NAME = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP hub.test 127.0.0.1"]
REFUSED = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
NO_DEVICE = [a for a in CHROMIUM_ARGS if a != "--use-fake-device-for-media-stream"]
INSECURE_TEXT = "此页面未通过安全连接（HTTPS）打开，浏览器不允许使用摄像头和麦克风"


async def problem(page: Page) -> tuple[str, str]:
    box = page.locator("#media-problem")
    await box.wait_for(timeout=WAIT_S * 1000)
    return (await box.get_attribute("data-kind") or "", await box.inner_text())


def test_a_station_over_plain_http_says_why_and_is_logged_answered_without_video(
    tmp_path: Path,
) -> None:
    restrict_host_addresses(LOOPBACK)
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 1), tls=False)
    hub.start()
    port = hub.http_url.rsplit(":", 1)[1]

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub, BY_NAME) as browser:
            plain = await c.rollcall.station_link(centre_id="t01")
            secure = await c.rollcall.station_link(centre_id="t01v01")
            page = await open_station(browser, f"http://hub.test:{port}{plain.path}", plain.pin)
            assert await page.evaluate("() => window.isSecureContext") is False
            kind, text = await problem(page)
            assert kind == "insecure" and INSECURE_TEXT in text
            assert "https://" in text and "/ca" in text  # what to do: the link, the CA page
            assert await page.evaluate("() => window.STATION_STATE.noCamera") == "insecure"
            await page.screenshot(path=str(SHOTS / "station_not_secure.png"))
            ok = await open_station(browser, hub.http_url + secure.path, secure.pin)
            await ok.wait_for_function("() => document.getElementById('preview').readyState >= 2")
            assert await ok.locator("#media-problem").count() == 0
            for p in (page, ok):
                await p.evaluate("() => { window.STATION_STATE.autoAnswer = 'answer'; }")
            await c.rollcall.start(ring_s=8.0, talk_s=1.5)
            await page.wait_for_selector("#incall:not([hidden])", timeout=WAIT_S * 1000)
            assert "只接收县综治中心画面" in await page.inner_text("#call-status")
            await page.wait_for_function(  # receive-only, but connected to the hub
                "() => window.STATION_STATE.log.some((l) => l.endsWith('pc connected'))",
                timeout=WAIT_S * 1000,
            )

            async def done() -> bool:
                st = await c.rollcall.status()
                return st.run is not None and st.run.status == "done"

            await until(done, timeout_s=90, what="run done")
            week = await c.rollcall.week()
            got = {(x.centre_id, x.attempt): x for x in week.calls}
            assert {k: v.outcome for k, v in got.items()} == {
                ("t01", 1): "no_camera",
                ("t01v01", 1): "answered",
            }  # reached: no re-call
            nc = got[("t01", 1)]
            assert nc.outcome_zh == "应答（无画面）" and "HTTPS" in nc.note
            assert nc.answered_at is not None and nc.snapshot is None
            assert {r.township: (r.due, r.reached) for r in week.coverage} == {
                "t01": (2, 2),
                "": (2, 2),
            }
            ex = await c.rollcall.export()
            csv_text = Path(ex.files[0]).read_text(encoding="utf-8-sig")
            assert csv_text.count("应答（无画面）") == 1 and csv_text.count("已接通") == 1

    try:
        asyncio.run(asyncio.wait_for(scenario(), 240))
    finally:
        hub.stop()


def test_a_refused_or_missing_camera_is_said_with_its_fix(tmp_path: Path) -> None:
    restrict_host_addresses(LOOPBACK)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 1))
    hub.start()

    async def scenario() -> None:
        async with console(hub) as c:
            for args, cid, kind, fix in (
                (REFUSED, "t01", "denied", "网站设置"),
                (NO_DEVICE, "t01v01", "missing", "插好摄像头"),
            ):
                link = await c.rollcall.station_link(centre_id=cid)
                async with chromium(hub, args) as browser:
                    page = await open_station(browser, hub.http_url + link.path, link.pin)
                    got, text = await problem(page)
                    assert got == kind and fix in text, (got, text)
                    assert await page.evaluate("() => window.isSecureContext") is True
                    await page.screenshot(path=str(SHOTS / f"station_camera_{kind}.png"))

    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        hub.stop()


def test_a_station_without_camera_still_sees_the_county(tmp_path: Path) -> None:
    """Receive-only is a real call: the hall joins it and the page paints its picture."""
    restrict_host_addresses(LOOPBACK)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 0), tls=False)
    hub.start()
    port = hub.http_url.rsplit(":", 1)[1]

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub, BY_NAME) as browser:
            link = await c.rollcall.station_link(centre_id="t01")
            page = await open_station(browser, f"http://hub.test:{port}{link.path}", link.pin)
            assert (await problem(page))[0] == "insecure"
            await c.rollcall.start(ring_s=20.0, talk_s=600.0)
            await page.wait_for_selector("#ringing:not([hidden])", timeout=WAIT_S * 1000)
            await page.click("#answer")
            await until(lambda: in_call(c), what="the receive-only call is up")
            hall = HallPeer(hub, await c.rollcall.watch())
            await hall.client.start()
            try:

                async def page_sees() -> bool:
                    s = await page_state(page)
                    return bool(s["frames"] > MIN_FRAMES and s["present"])

                await until(page_sees, what="hall video on the camera-less page")
                assert hall.video == 0  # nothing to see of the station: it has no camera
            finally:
                await hall.client.stop()
            await c.rollcall.end_call(centre_id="t01")

            async def logged() -> bool:
                return bool((await c.rollcall.week()).calls)

            await until(logged, what="call logged")
            (call,) = (await c.rollcall.week()).calls
            assert call.outcome == "no_camera" and call.duration_s is not None

    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        hub.stop()


def test_a_station_that_cannot_reach_the_hub_says_so(tmp_path: Path) -> None:
    """Never 连接中… forever: with the hub gone the page says the connection failed."""
    restrict_host_addresses(LOOPBACK)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 0))
    hub.start()

    async def scenario() -> None:
        async with console(hub) as c:
            link = await c.rollcall.station_link(centre_id="t01")
        async with chromium(hub) as browser:
            page = await open_station(browser, hub.http_url + link.path, link.pin)
            hub.stop()
            presence = page.locator("#presence.failed")
            await presence.wait_for(timeout=20_000)  # 8 s after the socket closed
            text = await presence.inner_text()
            assert text.startswith("连接失败") and "正在重试" in text, text

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        hub.stop()
