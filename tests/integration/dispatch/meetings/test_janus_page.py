"""janus-room.js in headless Chromium against the real Janus: the page is opened by host
name over HTTPS from the phone's namespace (a secure context as in a deployment), talks to
Janus's HTTPS API, publishes its camera with three simulcast layers and receives the
county console's aiortc peer; the console receives the page's low layer and, after
switching, its high layer (a larger picture). A wrong PIN is refused on the page. Janus
killed mid-room: the page rejoins by itself and decodes the console again within 10 s."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import av
import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright

from dispatch.meetings.media import RoomTicket
from streams.webrtc.config import SyntheticCamera, ToneSource
from streams.webrtc.janus_peer import JanusPeer
from tests.integration.dispatch.mediation.test_mediation_support import CHROMIUM_ARGS
from tests.kit.janus import JanusCerts, JanusServer, make_certs, start_janus
from tests.kit.netns import HUB_NAME, HUB_PUBLIC, Netns, NsLoop
from tests.kit.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.browser]

JS = ROOT / "resources" / "web" / "common" / "janus-room.js"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>janus-room</title>
<script src="/janus-room.js"></script></head><body><video id="v" autoplay muted></video>
</body></html>"""
PAGE_PORT = 8443

PUBLISH_JS = """async (t) => {
  const stream = await navigator.mediaDevices.getUserMedia(
    {audio: true, video: {width: 960, height: 540, frameRate: 25}});
  const room = await JanusRoom.joinRoom(t);
  window.room = room;
  await room.publish(stream, {simulcast: true});
  return room.feed;
}"""
SUBSCRIBE_JS = """async (feed) => {
  const media = await window.room.subscribe(feed, {substream: 2});
  document.getElementById("v").srcObject = media;
  return true;
}"""
DECODED_JS = """async (feed) => {
  const sub = window.room.subs.get(feed);
  if (!sub || !sub.pc) return 0;
  let n = 0;
  (await sub.pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded || 0;
  });
  return n;
}"""
REJOINED_JS = """async () => {
  const room = window.room;
  if (room.rejoins < 1) return 0;
  for (const sub of room.subs.values()) {
    if (sub.display !== "县中心" || !sub.pc) continue;
    let n = 0;
    (await sub.pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded || 0;
    });
    return n;
  }
  return 0;
}"""
STATE_JS = """() => ({rejoins: window.room.rejoins, feed: window.room.feed,
  publishers: [...window.room.publishers], subs: [...window.room.subs.keys()]})"""
WRONG_PIN_JS = """async (t) => {
  try { await JanusRoom.joinRoom(t); return "joined"; } catch (e) { return e.code; }
}"""


@pytest.fixture
def https_janus(netns: Netns, tmp_path: Path) -> Iterator[tuple[JanusServer, JanusCerts]]:
    certs = make_certs(tmp_path / "tls")
    server = start_janus(netns, tmp_path / "janus", cert=(certs.cert, certs.key))
    try:
        yield server, certs
    finally:
        server.hub_loop.stop()  # first: an engine left running would start Janus again
        server.process.stop_blocking()


async def index(_request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def script(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(JS)


async def serve_page(certs: JanusCerts) -> web.AppRunner:
    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/janus-room.js", script)
    runner = web.AppRunner(app)
    await runner.setup()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs.cert, certs.key)
    await web.TCPSite(runner, HUB_PUBLIC, PAGE_PORT, ssl_context=ctx).start()
    return runner


@asynccontextmanager
async def page_in_phone(netns: Netns, folder: Path, spki: str) -> AsyncIterator[Page]:
    folder.mkdir(parents=True, exist_ok=True)
    exe = str(netns.chromium_wrapper("phone", folder))
    args = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"]
    args += [
        f"--host-resolver-rules=MAP {HUB_NAME} {HUB_PUBLIC}",
        f"--ignore-certificate-errors-spki-list={spki}",
        "--use-fake-device-for-media-stream=fps=25",
    ]
    args = [a for a in args if a != "--use-fake-device-for-media-stream"]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=exe, args=args, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(f"https://{HUB_NAME}:{PAGE_PORT}/")
            yield page
        finally:
            await browser.close()


class Widths:
    def __init__(self) -> None:
        self.seen: list[tuple[float, int]] = []

    def __call__(self, _feed: int, frame: av.VideoFrame) -> None:
        self.seen.append((time.monotonic(), frame.width))

    def steady(self) -> int:
        """The width of the last 5 frames when they agree (else 0)."""
        last = {w for _, w in self.seen[-5:]}
        return last.pop() if len(last) == 1 else 0

    def since(self, t: float) -> list[int]:
        return [w for at, w in self.seen if at > t]


def test_page_publishes_simulcast_and_receives(
    https_janus: tuple[JanusServer, JanusCerts], netns: Netns, tmp_path: Path
) -> None:
    janus, certs = https_janus
    hub = janus.hub_loop
    engine = janus.engine(public_url=janus.https_url(HUB_NAME))
    county_loop = NsLoop(netns, "county")
    county_loop.start()
    runner: web.AppRunner | None = None
    console: JanusPeer | None = None
    try:
        hub.run(engine.start())
        runner = hub.run(serve_page(certs))
        ticket: RoomTicket = hub.run(
            engine.open_room("m2", title="节前部署会", max_publishers=4, record_dir=None)
        )
        page_token = hub.run(engine.admit("m2", "town-page"))
        console = JanusPeer(
            janus.lan_url,
            room=ticket.room,
            pin=ticket.pin,
            token=hub.run(engine.admit("m2", "county")),
            display="县中心",
        )
        widths = Widths()
        console.on_video = widths
        county_loop.run(console.join())
        county_loop.run(
            console.publish(video=SyntheticCamera("县中心", 320, 240, 15), audio=ToneSource())
        )

        async def in_page() -> tuple[int, int, int, object, float]:
            async with page_in_phone(netns, tmp_path / "chromium", certs.spki_b64) as page:
                t = {**ticket.browser(), "token": page_token, "display": "城关镇"}
                bad = await page.evaluate(WRONG_PIN_JS, {**t, "pin": "bad-pin"})
                feed = await page.evaluate(PUBLISH_JS, t)
                await page.evaluate(SUBSCRIBE_JS, console.feed)
                low = await asyncio.wrap_future(county_loop.submit(console.subscribe(feed, 0)))
                assert low.feed == feed
                decoded = 0
                for _ in range(200):
                    decoded = await page.evaluate(DECODED_JS, console.feed)
                    if decoded > 20 and 0 < widths.steady() < 400:
                        break
                    await asyncio.sleep(0.1)
                low_w = widths.steady()  # Janus starts on any layer, then switches to 0
                switched = time.monotonic()
                await asyncio.wrap_future(county_loop.submit(console.set_substream(feed, 2)))
                for _ in range(200):
                    if any(w > low_w for w in widths.since(switched)):
                        break
                    await asyncio.sleep(0.1)
                high_w = max(widths.since(switched) or [0])
                back_s = await restart_and_wait(page)
                return decoded, low_w, high_w, bad, back_s

        async def restart_and_wait(page: Page) -> float:
            """Janus killed: the engine starts it again and remakes the room; the page
            rejoins, publishes again and follows the console to its new feed."""
            janus.process.kill()
            killed = time.monotonic()
            while time.monotonic() - killed < 10:
                if await page.evaluate(REJOINED_JS) > 10:
                    return time.monotonic() - killed
                await asyncio.sleep(0.1)
            raise AssertionError(
                f"the page is not back within 10 s: {await page.evaluate(STATE_JS)}"
            )

        decoded, low_w, high_w, bad, back_s = asyncio.run(in_page())
        assert back_s < 10
        assert bad == 433
        assert decoded > 20, "the page decodes the console's picture"
        assert 0 < low_w < high_w, f"low layer {low_w} px, high layer {high_w} px"
    finally:
        if console is not None:
            county_loop.run(console.leave())
        county_loop.stop()
        if runner is not None:
            hub.run(runner.cleanup())
        hub.run(engine.stop())
