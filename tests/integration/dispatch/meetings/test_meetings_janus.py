"""A meeting end to end on the real Janus: a `hall-hub` in the hub's network namespace
runs its own Janus (`[janus] run = true`); the county console (its namespace: zmq and the
Janus API over the county LAN) plans the meeting; three townships open their duty-station
pages in headless Chromium from the phone's namespace by host name over HTTPS and see the
invitation (会议邀请: title, agenda, a countdown that runs on the page, the join button
waiting for the opening); the console opens the meeting and joins the room as the
convenor with an aiortc peer; the townships join with one click. The floor given to one
township reaches every page (who speaks, who is muted) and the others see its picture;
given to another, the pages switch their floor picture on the same subscription (Janus's
switch); the console shares a PDF page and the pages show it large (its pixels read
back); a raised hand reaches the console; the console receives the townships' pictures;
the meeting's record says who joined and who spoke."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc.mediastreams import MediaStreamTrack
from playwright.async_api import Browser, Page, async_playwright

from dispatch.client.connection import HubClient
from dispatch.meetings.messages import TicketInfo
from streams.webrtc.config import SyntheticCamera, ToneSource
from streams.webrtc.janus_peer import JanusPeer
from streams.webrtc.share_track import LatestFrameTrack
from tests.integration.dispatch.mediation.test_mediation_support import CHROMIUM_ARGS
from tests.integration.dispatch.rollcall.test_rollcall_support import write_site
from tests.kit.janus import hub_janus_toml
from tests.kit.netns import HUB_LAN, HUB_NAME, HUB_PUBLIC, Netns, NsLoop
from tests.kit.netns_hub import NsHub, logged_in_console

pytestmark = [pytest.mark.integration, pytest.mark.browser]
TOWNS = ("t01", "t02", "t03")
WAIT_MS = 60_000
STATE_JS = """() => JSON.stringify(
  Object.assign({}, window.MEETING_STATE, {log: window.MEETING_STATE.log.slice(-12)}))"""


async def station(browser: Browser, url: str, pin: str) -> Page:
    ctx = await browser.new_context(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_function("() => window.MEETING_STATE && window.MEETING_STATE.online")
    return page


async def until(page: Page, expr: str, wait_ms: int = WAIT_MS) -> None:
    """Wait for `expr` on the page; on a timeout the page's meeting state is the message."""
    try:
        await page.wait_for_function(f"() => {expr}", timeout=wait_ms)
    except Exception:
        got = await page.evaluate(STATE_JS)
        raise AssertionError(f"{expr}: {got}") from None


def lan(_url: str) -> str:
    """Janus's API as the county LAN reaches it: its plain-HTTP API on the hub's LAN
    address (`api_ip = "0.0.0.0"`), as a console in the centre's own network would."""
    return f"http://{HUB_LAN}:8088/janus"


def test_a_meeting_on_janus(netns: Netns, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site.toml", 3, 0)
    cfg = hub_janus_toml(tmp_path / "hub.toml")
    hub = NsHub(
        netns,
        f"sqlite:///{tmp_path / 'hall.db'}",
        site=site,
        data_dir=tmp_path,
        extra_args=["--config", str(cfg)],
    )
    county = NsLoop(netns, "county")
    frames: dict[str, int] = {}
    state: dict[str, object] = {}
    tasks: set[asyncio.Task[object]] = set()
    tracks: list[MediaStreamTrack] = []
    try:
        hub.start(timeout_s=120)
        county.start()
        client = county.run(console_login(hub))
        mid = county.run(plan_meeting(client))

        async def open_and_join() -> JanusPeer:
            ticket = await open_meeting(client, mid)
            peer = await convenor(ticket, hub, frames, tasks, tracks)
            state["peer"] = peer
            return peer

        asyncio.run(
            asyncio.wait_for(
                townships(netns, hub, tmp_path, client, county, mid, state, open_and_join), 420
            )
        )
        record = county.run(client.meetings.get(mid))
    finally:
        county.run(settle(tasks))
        if "peer" in state:
            county.run(state["peer"].leave())  # type: ignore[attr-defined]
        county.run(quiet(tracks))
        if "client" in locals():
            county.run(client.stop())
        county.stop()
        hub.stop()
    assert set(record.meeting.joined) == set(TOWNS)
    assert record.meeting.speakers == ["t02", "t03"]
    assert state["hands"] == ["t01"]
    assert sum(frames.get(t, 0) for t in TOWNS) > 0, frames


async def settle(tasks: set[asyncio.Task[object]]) -> None:
    """The convenor's subscriptions end before its peer leaves (none left pending)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def quiet(tracks: list[MediaStreamTrack]) -> None:
    """The convenor's sources stop and what was still winding down ends on its loop."""
    for track in tracks:
        track.stop()
    await asyncio.sleep(1.0)


async def console_login(hub: NsHub) -> HubClient:
    c = await logged_in_console(hub)
    await c.meetings.fetch()
    return c


TITLE = "全县综治视频调度会"


async def plan_meeting(c: HubClient) -> str:
    start = datetime.now(UTC) + timedelta(minutes=10)
    m = await c.meetings.create(TITLE, list(TOWNS), start, "一、部署")
    return m.id


async def open_meeting(c: HubClient, mid: str) -> TicketInfo:
    await c.meetings.open(mid)
    rep = await c.meetings.join(mid)
    return rep.ticket


def seconds_left(text: str) -> int:
    m = re.fullmatch(r"距开会还有 (?:(\d+) 分 )?(\d+) 秒", text)
    assert m is not None, text
    return int(m.group(1) or 0) * 60 + int(m.group(2))


async def invitation(page: Page) -> None:
    """The invitation before the meeting opens: title, agenda, a running countdown, and
    the join button waiting."""
    card = page.locator(".meet-invite")
    await card.wait_for(timeout=WAIT_MS)
    assert await card.locator("h2").inner_text() == "会议邀请"
    assert await card.locator(".meet-invite-title").inner_text() == TITLE
    assert await card.locator(".meet-agenda").inner_text() == "一、部署"
    first = seconds_left(await card.locator(".meet-countdown").inner_text())
    assert 480 < first <= 600, first
    join = card.locator("button.meet-join")
    assert await join.is_disabled() and await join.inner_text() == "会议尚未开始"
    await page.wait_for_timeout(2500)
    later = seconds_left(await card.locator(".meet-countdown").inner_text())
    assert 1 <= first - later <= 30, (first, later)  # the countdown runs on the page


QUADRANTS = ((220, 40, 40), (40, 180, 60), (40, 60, 220), (230, 210, 40))  # TL TR BL BR


def quadrant_pdf(path: Path) -> Path:
    """A one-page PDF in four coloured quadrants (matplotlib, as the reports)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    for (x, y), rgb in zip(((0, 1), (1, 1), (0, 0), (1, 0)), QUADRANTS, strict=True):
        ax.add_patch(Rectangle((x, y), 1, 1, color=tuple(c / 255 for c in rgb)))
    fig.savefig(path, format="pdf")
    return path


PIXELS_JS = """() => {
  const v = document.getElementById("meet-share-video");
  const c = document.createElement("canvas");
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext("2d");
  g.drawImage(v, 0, 0);
  const at = (fx, fy) => Array.from(
    g.getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data.slice(0, 3));
  return [c.width, [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)]];
}"""


async def share_pdf_page(county: NsLoop, peer: JanusPeer, tmp: Path) -> LatestFrameTrack:
    """The console's share of a PDF page (rendered as the console does) into the room."""
    from console.meetings.share import render_pdf_page

    track = LatestFrameTrack()
    track.put(render_pdf_page(quadrant_pdf(tmp / "page.pdf"), 1))
    await asyncio.wrap_future(county.submit(peer.start_share(track)))
    return track


async def convenor(
    t: TicketInfo,
    hub: NsHub,
    frames: dict[str, int],
    tasks: set[asyncio.Task[object]],
    tracks: list[MediaStreamTrack],
) -> JanusPeer:
    peer = JanusPeer(
        lan(t.janus_url),
        room=t.room,
        pin=t.pin,
        token=t.token,
        display=t.display,
    )

    def got(feed: int, _f: av.VideoFrame) -> None:
        who = peer.publishers.get(feed, "?")
        frames[who] = frames.get(who, 0) + 1

    peer.on_video = got
    await peer.join()
    video, audio = SyntheticCamera("县综治中心", 320, 240), ToneSource()
    tracks.extend([video, audio])
    await peer.publish(video=video, audio=audio)
    pc = peer._pub_pc
    for _ in range(1200):
        if pc is not None and pc.connectionState == "connected":
            break
        await asyncio.sleep(0.1)
    assert pc is not None and pc.connectionState == "connected", "the convenor never published"

    followed: set[int] = set()

    def follow(feeds: dict[int, str]) -> None:
        # each feed once: subscribing a feed again makes a new connection and leaves the
        # old one connecting or running until the loop closes ("Task was destroyed")
        for feed in set(feeds) - followed:
            followed.add(feed)
            tasks.add(asyncio.get_running_loop().create_task(peer.subscribe(feed, 0)))

    peer.on_publishers = follow
    return peer


async def townships(
    netns: Netns,
    hub: NsHub,
    tmp: Path,
    c: HubClient,
    county: NsLoop,
    mid: str,
    state: dict[str, object],
    open_and_join: Callable[[], Coroutine[Any, Any, JanusPeer]],
) -> None:
    folder = tmp / "chromium"
    folder.mkdir()
    args = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"]
    args += [
        f"--host-resolver-rules=MAP {HUB_NAME} {HUB_PUBLIC}",
        f"--ignore-certificate-errors-spki-list={hub.ca_spki_b64()}",
    ]
    exe = str(netns.chromium_wrapper("phone", folder))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=exe, args=args, headless=True)
        try:
            pages: dict[str, Page] = {}
            for town in TOWNS:
                link = await asyncio.wrap_future(
                    county.submit(c.rollcall.station_link(centre_id=town))
                )
                pages[town] = await station(browser, hub.page_url(link.path), link.pin)
            await invitation(pages["t01"])
            peer = await asyncio.wrap_future(county.submit(open_and_join()))
            for page in pages.values():
                join = page.locator(".meet-invite button.meet-join")
                await join.wait_for(timeout=WAIT_MS)
                await page.wait_for_function(
                    "() => !document.querySelector('.meet-join').disabled", timeout=WAIT_MS
                )
                await join.click()
            for page in pages.values():
                await until(page, "window.MEETING_STATE.roomJoined")
                await until(page, "window.MEETING_STATE.hallFrames > 0")
            await asyncio.wrap_future(county.submit(c.meetings.floor(mid, "t02")))
            for town, page in pages.items():
                await until(page, "window.MEETING_STATE.floor === 't02'")
                muted = await page.evaluate("() => window.MEETING_STATE.muted")
                assert muted == (town != "t02"), (town, muted)
            # a new subscription's first picture: slow on a loaded machine (its ICE, a key frame)
            await until(pages["t01"], "window.MEETING_STATE.floorFrames > 0", 2 * WAIT_MS)
            await pages["t01"].screenshot(path=str(tmp / "t01.png"))
            # the floor to another township: the pages switch their floor subscription
            await asyncio.wrap_future(county.submit(c.meetings.floor(mid, "t03")))
            for page in pages.values():
                await until(page, "window.MEETING_STATE.floor === 't03'")
            t01 = pages["t01"]
            await until(t01, "window.MEETING_STATE.floorSwitches === 2")
            on = "window.MEETING_STATE.feeds[window.MEETING_STATE.floorFeed] === 't03'"
            await until(t01, on)
            switched_at = await t01.evaluate("() => window.MEETING_STATE.floorFrames")
            # after the switch Janus sends t03's packets only on that connection
            await until(t01, f"window.MEETING_STATE.floorFrames > {switched_at + 15}")
            logged = await pages["t01"].evaluate("() => window.MEETING_STATE.log.join('\\n')")
            assert "floor → t03" in logged, logged
            # the console shares a PDF page: every page shows it large
            track = await share_pdf_page(county, peer, tmp)
            await until(pages["t01"], "window.MEETING_STATE.sharing", 2 * WAIT_MS)
            await until(pages["t01"], "window.MEETING_STATE.shareFrames > 5", 2 * WAIT_MS)
            width, got = await pages["t01"].evaluate(PIXELS_JS)
            assert width == track.latest().shape[1], width  # type: ignore[union-attr]
            for rgb, want in zip(got, QUADRANTS, strict=True):
                near = all(abs(a - b) < 60 for a, b in zip(rgb, want, strict=True))
                assert near, (got, QUADRANTS)
            await pages["t01"].screenshot(path=str(tmp / "t01-share.png"))
            await asyncio.wrap_future(county.submit(peer.stop_share()))
            await until(pages["t01"], "!window.MEETING_STATE.sharing")
            await pages["t01"].click("#meet-hand")  # t03 has the floor: its button is off
            for _ in range(300):
                view = c.meetings.view()
                if view[mid].hands:
                    break
                await asyncio.sleep(0.1)
            state["hands"] = list(c.meetings.view()[mid].hands)
        finally:
            await browser.close()
