"""Helpers shared by the mediation tests and `tests/bench/webrtc.py` (no tests here):
a hub process with WebRTC kept on 127.0.0.1, an event, a logged-in console, the console's
aiortc peer, and headless Chromium participants that log in with their PIN."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from dispatch.client.connection import HubClient
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from dispatch.mediation.messages import MediationInvite, MediationReply
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera, ToneSource, restrict_host_addresses
from tests.kit import async_wait_until
from tests.kit import hub as kit_hub
from tests.kit.hub import client_keys
from tests.kit.paths import ROOT
from tests.kit.tls import HUB_HOST, chromium_args_for

LOOPBACK = ["127.0.0.1"]
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
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
# several fake cameras and microphones (a device switch mid-call). Chromium's fake
# cameras are fake_device_0 (I420), fake_device_1 (Y16, a depth format that its WebRTC
# encoder never sends: checked, 0 frames encoded) and fake_device_2 (MJPEG): 3, so that
# there is a second camera that can actually be sent.
FAKE_DEVICES = "--use-fake-device-for-media-stream=device-count=3"
WAIT_S = 30.0


def mediation_args(tmp: Path, *, fixed_ports: bool = False) -> dict[str, Any]:
    """`HubProcess` keywords of the mediation hub; `fixed_ports`: HTTP and zmq on ports
    chosen now, so that the same `HubProcess` restarted after a kill is found at the same
    addresses."""
    ports = kit_hub.fixed_ports() if fixed_ports else {}
    return {
        "demo": True,
        "extra_args": ["--webrtc-host", "127.0.0.1", "--recordings", str(tmp / "recordings")],
        **ports,
    }


def mediation_hub(tmp: Path, *, fixed_ports: bool = False) -> HubProcess:
    """The mediation hub, not started (the tests use the kit's `start_hub` instead)."""
    return HubProcess(
        f"sqlite:///{tmp / 'hall.db'}", **mediation_args(tmp, fixed_ports=fixed_ports)
    )


def post_event(hub: HubProcess, title: str, ref: str) -> str:
    body = {
        "source": "grid_report",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "routine",
        "title": title,
        "place": {"township": "t01", "village": "v01", "grid": "v01g1", "address": "东街12号"},
    }
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        return str(json.loads(resp.read())["id"])


@asynccontextmanager
async def console_client(hub: HubProcess) -> AsyncIterator[HubClient]:
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="hall-1",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )
    await c.start()
    try:
        await c.login("duty", "duty123")
        yield c
    finally:
        await c.stop()


INVITES = [
    MediationInvite(role="court", name="王法官"),
    MediationInvite(role="notary", name="李公证员"),
    MediationInvite(role="party", name="张三"),
    MediationInvite(role="party", name="李四"),
]


class ConsolePeer:
    """The console's aiortc peer (synthetic hall camera and tone), counting frames per
    participant and keeping the last state push."""

    def __init__(self, hub: HubProcess, rep: MediationReply, size: tuple[int, int] = (640, 480)):
        restrict_host_addresses(LOOPBACK)
        self.state: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.client = StarClient(
            hub.http_url + rep.host_path,
            rep.host_session,
            video=SyntheticCamera("HALL county centre", *size),
            audio=ToneSource(),
            keep_hosts=LOOPBACK,
            on_message=self._on_message,
            ssl_context=hub.ssl_context(),
        )

    def _on_message(self, m: dict[str, Any]) -> None:
        self.messages.append(m)
        if m.get("type") == "state":
            self.state = m

    def frames_by_peer(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.state.get("slots", []):
            if s["peer"] and s["video_mid"] is not None:
                out[s["peer"]["id"]] = self.client.frames.get(s["video_mid"], 0)
        return out

    async def admit(self, pid: str) -> None:
        await self.client.send({"type": "admit", "id": pid})


async def until(pred: Callable[[], Awaitable[bool] | bool], timeout_s: float = WAIT_S) -> None:
    """The kit's `async_wait_until` with this suite's default wait."""
    await async_wait_until(pred, timeout_s, interval=0.1)


@asynccontextmanager
async def chromium(hub: HubProcess, args: list[str] | None = None) -> AsyncIterator[Browser]:
    """Headless Chromium trusting `hub`'s CA (and mapping `hub.test` to 127.0.0.1)."""
    flags = (args or CHROMIUM_ARGS) + chromium_args_for(hub, host=HUB_HOST)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=flags, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_participant(browser: Browser, url: str, pin: str) -> Page:
    ctx = await browser.new_context(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#enter", timeout=WAIT_S * 1000)
    await page.wait_for_function("() => document.getElementById('preview').readyState >= 2")
    await page.click("#enter")
    await page.wait_for_selector("#lobby:not([hidden])", timeout=WAIT_S * 1000)
    return page


async def page_frames(page: Page) -> dict[str, int]:
    got = await page.evaluate("() => window.HALL.frames")
    return {str(k): int(v) for k, v in got.items()}
