"""Helpers shared by the cross-network tests and `tests/bench/remote.py` (no tests here).

`Rig`: coturn on the public address, a real hub in the hub's namespace (pages on
`hub.test`, zmq on the county LAN) pointed at it with `[turn]` (it mints credentials
for its pages, the console and its own peers), and the
duty officer's console client on an asyncio loop inside the county LAN namespace.
`chromium_in(netns, role, …)`: headless Chromium started inside a namespace (fake camera
and microphone, `hub.test` mapped to the hub's public address). `station_call(…)`: one
duty-station call as a person makes it (open the page, PIN, answer the ring) with the
console's hall joining from the county LAN in a process of its own (`hall_process`,
`tests.kit.hall_peer`: as the console is one, not next to Playwright); it returns the
page's selected candidate pair, the timings and the frame rate of each stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import av
import zmq
import zmq.asyncio
from playwright.async_api import Browser, Page, async_playwright

from dispatch.client.connection import HubClient
from dispatch.domain.wire import encode
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.messages import LoginRequest
from dispatch.hub.turn import plan_of
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera, ToneSource, restrict_host_addresses
from tests.integration.dispatch.mediation.test_mediation_support import CHROMIUM_ARGS
from tests.integration.dispatch.rollcall.test_rollcall_support import write_site
from tests.kit.hall_peer import COMMAND, HallJoin, HallPeer
from tests.kit.hub import client_keys
from tests.kit.netns import Netns, NsLoop, Role, call_in
from tests.kit.netns_hub import LOOPBACK, NsHub, resolver_rule
from tests.kit.netns_turn import NsTurn
from tests.kit.tls import chromium_args_for

T = TypeVar("T")
WAIT_S = 45.0
SETTLE_S = 1.0  # after the first hall frame, before the frame rates are measured
FPS_WINDOW_S = 3.0
# Chromium's fake camera makes 20 frames a second unless told (a phone or webcam makes
# 25-30): at 20 the station's direction could never show the ≥ 20 fps target
FAKE_CAMERA = "--use-fake-device-for-media-stream=fps=25"

# getStats of a page's peer connection: the selected pair (transport's
# selectedCandidatePairId, else the nominated succeeded pair) with both candidates
SELECTED_PAIR_JS = """(pc) => pc.getStats().then((st) => {
  const by = {}; st.forEach((r) => { by[r.id] = r; });
  let pair = null;
  st.forEach((r) => { if (r.type === "transport" && r.selectedCandidatePairId)
    pair = by[r.selectedCandidatePairId]; });
  if (!pair) st.forEach((r) => { if (r.type === "candidate-pair" && r.nominated
    && r.state === "succeeded") pair = r; });
  if (!pair) return null;
  const l = by[pair.localCandidateId] || {}, r = by[pair.remoteCandidateId] || {};
  return { local: l.candidateType, remote: r.candidateType, local_address: l.address,
    remote_address: r.address, sent: pair.bytesSent, received: pair.bytesReceived };
})"""

# one snapshot of the page's video counters, for the frame rate of each stage: hall
# frames received, decoded and painted in the page, station frames encoded and sent
VIDEO_COUNTS_JS = """() => { const S = window.STATION_STATE;
  const out = { t: performance.now(), painted: S.hallFrames, received: 0, decoded: 0,
    dropped: 0, lost: 0, nacks: 0, plis: 0, encoded: 0, sent: 0, limit: "" };
  if (!S.pc) return Promise.resolve(out);
  return S.pc.getStats().then((st) => { st.forEach((r) => {
    if (r.kind !== "video") return;
    if (r.type === "inbound-rtp") { out.received += r.framesReceived || 0;
      out.decoded += r.framesDecoded || 0; out.dropped += r.framesDropped || 0;
      out.lost += r.packetsLost || 0; out.nacks += r.nackCount || 0;
      out.plis += r.pliCount || 0; }
    if (r.type === "outbound-rtp") { out.encoded += r.framesEncoded || 0;
      out.sent += r.framesSent || 0; out.limit = r.qualityLimitationReason || ""; }
  }); return out; });
}"""


class Rig:
    """coturn, the hub and the console across the namespaces (`start`/`stop` safe twice).

    With `netns=None` the same on loopback without TURN (hub and console here, media on
    127.0.0.1 as in the other WebRTC tests): the benchmark's baseline."""

    def __init__(
        self,
        netns: Netns | None,
        folder: Path,
        centres: int = 1,
        hub_args: Sequence[str] = (),
        *,
        plain: bool = False,
    ) -> None:
        self.netns = netns
        self.folder = folder
        self.turn = NsTurn(netns, folder / "turn") if netns is not None else None
        folder.mkdir(parents=True, exist_ok=True)
        site = write_site(folder / "site.toml", 1, centres - 1)
        self.hub_args = list(hub_args)
        self.plain = plain  # pages over plain HTTP (not a secure context)
        self.hub = NsHub(netns, f"sqlite:///{folder / 'hall.db'}", site=site, tls=not plain)
        self.county = NsLoop(netns, "county")
        self.keep_hosts = None if netns is not None else [LOOPBACK]
        self.client: HubClient | None = None

    def start(self) -> None:
        if self.client is not None:
            return
        # peers gather what their namespace has; on loopback only 127.0.0.1
        restrict_host_addresses(self.keep_hosts)
        try:
            args = list(self.hub_args)
            if self.turn is not None:
                self.turn.start()
                conf = self.folder / "hub.toml"
                conf.write_text(self.turn.hub_toml(), encoding="utf-8")
                args += ["--config", str(conf)]
            else:
                args += ["--webrtc-host", LOOPBACK]
            self.hub.extra_args += args
            self.hub.start(timeout_s=90)
            self.county.start()
            self.client = self.county.run(self._login())
        except BaseException:
            self.stop()
            raise

    async def _login(self) -> HubClient:
        c = HubClient(
            self.hub.req_endpoint,
            self.hub.pub_endpoint,
            keys=client_keys(self.hub),
            workstation="hall-1",
            on_change=lambda ch: None,
            on_connection=lambda st: None,
            request_timeout_s=30,
        )
        await c.start()
        await c.login("duty", "duty123")
        return c

    def stop(self) -> None:
        client, self.client = self.client, None
        if client is not None and self.county.loop is not None:
            with contextlib.suppress(Exception):
                self.county.run(client.stop(), timeout=30)
        self.county.stop()
        self.hub.stop()
        if self.turn is not None:
            self.turn.stop()

    def page_args(self) -> list[str]:
        """Chromium arguments for the pages: the hub's own CA trusted (by its SPKI); none
        for a plain-HTTP rig."""
        return [] if self.plain else chromium_args_for(self.hub)

    def hub_ssl(self) -> ssl.SSLContext | None:
        """The TLS context trusting the hub's own CA (None for a plain-HTTP rig)."""
        return None if self.plain else self.hub.ssl_context()

    async def console(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT_S) -> T:
        """Run `coro` on the console's loop (county LAN) and await its result here."""
        return await asyncio.wait_for(asyncio.wrap_future(self.county.submit(coro)), timeout)

    @property
    def c(self) -> HubClient:
        assert self.client is not None, "Rig is not started"
        return self.client


@asynccontextmanager
async def chromium_in(
    netns: Netns | None, role: Role, folder: Path, extra: Sequence[str] = ()
) -> AsyncIterator[Browser]:
    """Headless Chromium running inside the namespace `role` (None: here, on loopback,
    with `hub.test` mapped to 127.0.0.1 and loopback candidates allowed); its fake
    camera makes 25 frames a second (`FAKE_CAMERA`)."""
    folder.mkdir(parents=True, exist_ok=True)
    if netns is not None:
        exe = str(netns.chromium_wrapper(role, folder))
        # as a real browser: no loopback candidates (a loopback TURN allocation would
        # hold ICE gathering open until the page's timeout)
        args = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"]
        args.append(resolver_rule())
    else:
        exe, args = "/usr/bin/chromium", [*CHROMIUM_ARGS, resolver_rule(LOOPBACK)]
    args = [FAKE_CAMERA if a == "--use-fake-device-for-media-stream" else a for a in args]
    args += extra
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=exe, args=args, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Hall:
    """The console's peer in a call (on the county loop): counts the station's frames."""

    video: int = 0
    audio: int = 0
    star: StarClient | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def on_video(self, _mid: str, _frame: av.VideoFrame) -> None:
        self.video += 1

    def on_audio(self, _mid: str, _frame: av.AudioFrame) -> None:
        self.audio += 1


async def hall_joins(rig: Rig, centre_id: str) -> Hall:
    """On the county loop: the hall joins the answered call (watch → StarClient)."""
    hall = Hall()
    rep = await rig.c.rollcall.watch(centre_id=centre_id)
    hall.star = StarClient(
        rig.hub.lan_url(rep.path),
        rep.session,
        video=SyntheticCamera("HALL 县综治中心", 320, 240),
        audio=ToneSource(),
        config=plan_of(rep.ice).configuration(),  # as the console: minted TURN credentials
        slots=1,
        keep_hosts=rig.keep_hosts,
        on_video=hall.on_video,
        on_audio=hall.on_audio,
        on_message=hall.messages.append,
        ssl_context=rig.hub_ssl(),
    )
    await hall.star.start()
    return hall


def hall_process(rig: Rig) -> HallPeer:
    """The hall's peer in a process of its own on the county LAN (`tests.kit.hall_peer`),
    as the console is one: not started yet."""
    cmd = COMMAND if rig.netns is None else rig.netns.exec_args("county", *COMMAND)
    return HallPeer(cmd)


async def hall_join(rig: Rig, hall: HallPeer, centre_id: str) -> None:
    """The hall process joins the answered call (watch → its StarClient)."""
    rep = await rig.console(rig.c.rollcall.watch(centre_id=centre_id))
    ca = "" if rig.plain else str(rig.hub.ca_cert_path)
    url = rig.hub.lan_url(rep.path)
    await hall.join(
        HallJoin(url=url, session=rep.session, ice=rep.ice, ca=ca, keep_hosts=rig.keep_hosts)
    )


async def in_call(rig: Rig, centre_id: str) -> bool:
    st = await rig.c.rollcall.status()
    return st.run is not None and centre_id in st.run.in_call


async def open_station(
    browser: Browser, url: str, pin: str, marks: dict[str, float] | None = None
) -> Page:
    """Open the page, type the PIN, wait until the station is online (`marks["pin_form"]`:
    ms until the PIN form had loaded, when `marks` is given)."""
    t0 = time.monotonic()
    ctx = await browser.new_context(viewport={"width": 900, "height": 700}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    if marks is not None:
        marks["pin_form"] = (time.monotonic() - t0) * 1000
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#presence.online", timeout=WAIT_S * 1000)
    return page


async def selected_pair(page: Page) -> dict[str, Any] | None:
    got = await page.evaluate(
        f"() => window.STATION_STATE.pc ? ({SELECTED_PAIR_JS})(window.STATION_STATE.pc) : null"
    )
    return got if isinstance(got, dict) else None


async def page_fps(page: Page, seconds: float = 2.0) -> float:
    """Hall frames painted in the page per second, over `seconds`."""
    n0 = int(await page.evaluate("() => window.STATION_STATE.hallFrames"))
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    n1 = int(await page.evaluate("() => window.STATION_STATE.hallFrames"))
    return (n1 - n0) / (time.monotonic() - t0)


async def video_counts(page: Page) -> dict[str, Any]:
    got = await page.evaluate(VIDEO_COUNTS_JS)
    return got if isinstance(got, dict) else {}


def stage_rates(
    c0: dict[str, Any], c1: dict[str, Any], made: int, decoded_at_hall: int, seconds: float
) -> dict[str, float]:
    """Frames per second at each stage over one window: the hall camera made, the page
    received, decoded and painted (hall → page); the page encoded and sent, the hall
    decoded (page → hall). `made` and `decoded_at_hall` are counts over `seconds`."""
    span_s = (float(c1["t"]) - float(c0["t"])) / 1000 or seconds
    rates = {
        f"page_{k}": round((float(c1[k]) - float(c0[k])) / span_s, 1)
        for k in (
            "received",
            "decoded",
            "dropped",
            "lost",
            "nacks",
            "plis",
            "painted",
            "encoded",
            "sent",
        )
    }
    rates["hall_camera"] = round(made / seconds, 1)
    rates["hall_decoded"] = round(decoded_at_hall / seconds, 1)
    return rates


@dataclass
class CallResult:
    connect_ms: float  # page opened → first hall frame painted in it
    pair: dict[str, Any]  # the page's selected candidate pair
    page_fps: float  # hall frames decoded per second in the page (its getStats)
    hall_fps: float  # station frames received per second at the hall
    page: Page
    marks: dict[str, float] = field(default_factory=dict)  # ms since the page was opened
    https: bool = False  # the page came over TLS (hub's CA trusted) and is a secure context
    stages: dict[str, float] = field(default_factory=dict)  # fps of each stage (stage_rates)
    limit: str = ""  # the page's qualityLimitationReason for its camera at the end


async def station_call(rig: Rig, browser: Browser, centre_id: str) -> CallResult:
    """One call: page opened by host name, PIN, auto-answer, the hall joins; measured."""
    restrict_host_addresses(rig.keep_hosts)  # this rig's (process-wide; calls never overlap)
    link = await rig.console(rig.c.rollcall.station_link(centre_id=centre_id))
    hall = hall_process(rig)
    await hall.start()  # the console is running before the call
    try:
        return await _call(rig, browser, centre_id, link.path, link.pin, hall)
    finally:
        await hall.stop()


async def _call(
    rig: Rig, browser: Browser, centre_id: str, path: str, pin: str, hall: HallPeer
) -> CallResult:
    t0 = time.monotonic()
    marks: dict[str, float] = {}
    page = await open_station(browser, rig.hub.page_url(path), pin, marks)
    marks["online"] = (time.monotonic() - t0) * 1000
    https = await page.evaluate("() => location.protocol === 'https:' && window.isSecureContext")
    await page.evaluate("() => { window.STATION_STATE.autoAnswer = 'answer'; }")
    await rig.console(rig.c.rollcall.start(ring_s=30.0, talk_s=600.0, batch=1))
    marks["started"] = (time.monotonic() - t0) * 1000
    for mark, cond in (("rung", "rings > 0"), ("answered", "calls > 0")):
        await page.wait_for_function(
            f"() => window.STATION_STATE.{cond}", polling="raf", timeout=WAIT_S * 1000
        )
        marks[mark] = (time.monotonic() - t0) * 1000
    deadline = time.monotonic() + WAIT_S
    while not await rig.console(in_call(rig, centre_id)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{centre_id} not in call: {await page_log(page)}")
        await asyncio.sleep(0.05)
    marks["in_call"] = (time.monotonic() - t0) * 1000
    await hall_join(rig, hall, centre_id)
    marks["hall_joined"] = (time.monotonic() - t0) * 1000
    await page.wait_for_function(
        "() => window.STATION_STATE.hallFrames > 0", polling="raf", timeout=WAIT_S * 1000
    )
    connect_ms = (time.monotonic() - t0) * 1000
    await asyncio.sleep(SETTLE_S)  # rates in the steady call, not the first second
    c0, h0, t1 = await video_counts(page), await hall.counts(), time.monotonic()
    await asyncio.sleep(FPS_WINDOW_S)
    c1, h1 = await video_counts(page), await hall.counts()
    stages = stage_rates(c0, c1, h1.made - h0.made, h1.video - h0.video, time.monotonic() - t1)
    # the page's rate is the frames its decoder hands to the screen: headless Chromium
    # paints ~20 a second whatever comes (a 25 fps canvas too), a real screen each one
    fps, hall_fps = stages["page_decoded"], stages["hall_decoded"]
    pair = await selected_pair(page)
    assert pair is not None, await page_log(page)
    await rig.console(rig.c.rollcall.end_call(centre_id=centre_id))
    return CallResult(
        connect_ms, pair, fps, hall_fps, page, marks, https is True, stages, str(c1["limit"])
    )


async def page_log(page: Page) -> list[str]:
    got = await page.evaluate("() => window.STATION_STATE.log")
    return [str(x) for x in got] if isinstance(got, list) else []


def post_event(rig: Rig, title: str, ref: str = "remote-1") -> str:
    """An intake report, posted from the county LAN (an outside system's API call)."""
    body = {
        "source": "grid_report",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "routine",
        "title": title,
        "place": {"township": "t01", "village": "v01", "grid": "v01g1", "address": "东街12号"},
    }
    req = urllib.request.Request(
        rig.hub.lan_url("/api/v1/events"),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )

    def send() -> str:
        with urllib.request.urlopen(req, timeout=10, context=rig.hub_ssl()) as resp:
            return str(json.loads(resp.read())["id"])

    assert rig.netns is not None
    return call_in(rig.netns.name("county"), send)


async def unenrolled_probe(req: str, pub: str, wait_s: float = 3.0) -> dict[str, int]:
    """A console that is not enrolled (plain zmq, no keys) asks the hub to log in and
    listens to its publish socket for `wait_s`: what it got from each socket."""
    ctx = zmq.asyncio.Context()
    sub = ctx.socket(zmq.SUB)
    dealer = ctx.socket(zmq.DEALER)
    got = {"replies": 0, "published": 0}
    try:
        for s in (sub, dealer):
            s.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(pub)
        dealer.connect(req)
        login = LoginRequest(rid="probe", operator="duty", password="duty123", workstation="x")
        await dealer.send(encode(login), zmq.NOBLOCK)
        poller = zmq.asyncio.Poller()
        poller.register(sub, zmq.POLLIN)
        poller.register(dealer, zmq.POLLIN)
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            for sock, _ in await poller.poll(timeout=left * 1000):
                await sock.recv()
                got["replies" if sock is dealer else "published"] += 1
    finally:
        sub.close(linger=0)
        dealer.close(linger=0)
        ctx.term()
    return got
