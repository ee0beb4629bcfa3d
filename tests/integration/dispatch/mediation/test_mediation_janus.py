"""A mediation of 7 parties lands on Janus (issue 13, item 6), end to end with real parts:
a `hall-hub` in the hub's namespace runs its own Janus (`[janus] run = true`,
`[mediation] engine = "auto"`); the console opens the session over zmq and joins as the
mediator's peer (`JanusStar`: the hub's signalling, media on Janus) from the county LAN;
two parties open their join links in headless Chromium from the phone's namespace by
host name over HTTPS, four more are aiortc peers there sending a pre-encoded VP8 loop in
three layers (so that encoding does not fill the machine) and counting complete frames.

Checked: the reply says Janus; a wrong PIN is refused by the link, and by Janus; in the
lobby nobody has a ticket; once admitted every party receives every other one (7 × 6
streams); a removed party's token is refused by Janus; the recording (Janus's recorder,
`finish_recording`) decodes with picture and sound and its SHA-256 is the filed one."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import pytest
from playwright.async_api import Browser, Page, async_playwright

from dispatch.hub.demo import DEMO_API_KEY
from dispatch.mediation.messages import MediationInvite, MediationLink, MediationReply
from streams.webrtc.config import SyntheticCamera, ToneSource
from streams.webrtc.janus_api import JanusError
from streams.webrtc.janus_peer import JanusPeer
from streams.webrtc.janus_star import PREFIX, JanusStar
from streams.webrtc.simulcast import SimulcastVideo, encode_layers
from tests.integration.dispatch.mediation.test_mediation_support import CHROMIUM_ARGS
from tests.kit.janus import hub_janus_toml
from tests.kit.netns import HUB_LAN, HUB_NAME, HUB_PUBLIC, Netns, NsLoop
from tests.kit.netns_hub import NsHub, logged_in_console

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.usefixtures("aioice_default_hosts"),  # Janus needs the veth addresses
]
WAIT_S = 150.0
INVITES = [MediationInvite(role="mediator", name="调解员张")] + [
    MediationInvite(role="party", name=f"当事人{i}") for i in range(1, 6)
]  # + the console: 7 parties
BROWSERS = 2  # links[0:2] in Chromium, the other four aiortc


def on_lan(_url: str) -> str:
    """Janus's plain-HTTP API on the hub's LAN address, as the county console reaches it."""
    return f"http://{HUB_LAN}:8088/janus"


def on_public(url: str) -> str:
    """The ticket's Janus URL (https://hub.test:8089/janus) by the hub's public address."""
    return url.replace(HUB_NAME, HUB_PUBLIC)


class Party:
    """An aiortc party in the phone's namespace: its PIN login, then `JanusStar`."""

    def __init__(self, hub: NsHub, link: MediationLink, video: SimulcastVideo) -> None:
        self.link = link
        self.base = f"https://{HUB_PUBLIC}:{hub.http_port_fixed}{link.path}"
        self.ctx = hub.ssl_context()
        self.video = video
        self.states: list[dict[str, Any]] = []
        self.star: JanusStar | None = None

    async def login(self, pin: str) -> tuple[int, str | None]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                self.base + "/login", data={"pin": pin}, ssl=self.ctx, allow_redirects=False
            ) as r,
        ):
            cookie = r.cookies.get("hall_v")
            return r.status, cookie.value if cookie is not None else None

    async def start(self) -> None:
        status, cookie = await self.login(self.link.pin)
        assert status == 303 and cookie, status
        self.star = JanusStar(
            self.base,
            cookie,
            video=self.video,
            audio=None,
            on_message=self.states.append,
            ssl_context=self.ctx,
            janus_url=on_public,
            janus_ssl=self.ctx,
            substream=0,
            count_only=True,
            ticket_wait_s=WAIT_S,
        )
        await self.star.start()  # returns once admitted and publishing

    def sees(self, ids: list[str]) -> bool:
        return self.star is not None and seen(self.star.frames, ids, self.link.participant_id)

    def what(self) -> str:
        return f"{self.link.participant_id}: {self.star.frames if self.star else None}"


def test_seven_parties_on_janus(netns: Netns, tmp_path: Path) -> None:
    cfg = hub_janus_toml(tmp_path / "hub.toml", '[mediation]\nengine = "auto"\n')
    hub = NsHub(
        netns,
        f"sqlite:///{tmp_path / 'hall.db'}",
        data_dir=tmp_path,
        extra_args=["--config", str(cfg)],
    )
    county, phone = NsLoop(netns, "county"), NsLoop(netns, "phone")
    host: JanusStar | None = None
    host_states: list[dict[str, Any]] = []  # the hub's pushes to the console
    parties: list[Party] = []
    try:
        hub.start(timeout_s=120)
        county.start()
        phone.start()
        client = county.run(logged_in_console(hub))
        eid = county.run(post_event(hub))
        rep = county.run(client.mediation.open_mediation(eid, INVITES))
        assert rep.engine == "janus" and len(rep.links) == 6
        host = console_peer(hub, rep, host_states)
        county.run(host.start(), timeout=WAIT_S)
        assert county.run(janus_refuses(host, pin="wrong")) == 433
        layers = encode_layers(frames=25)
        parties = [Party(hub, link, SimulcastVideo(layers)) for link in rep.links[BROWSERS:]]
        wrong = "000000" if parties[0].link.pin != "000000" else "111111"
        assert phone.run(parties[0].login(wrong))[0] == 401
        starts = [phone.submit(p.start()) for p in parties]
        room = in_the_room(netns, hub, tmp_path, rep, (host, host_states), county, parties)
        asyncio.run(asyncio.wait_for(room, 600))
        for s in starts:
            s.result(1)
        gone = parties[-1]
        removed_token = gone.star.ticket["token"] if gone.star and gone.star.ticket else ""
        county.run(host.send({"type": "remove", "id": gone.link.participant_id}))
        assert county.run(janus_refuses(host, token=removed_token, wait_s=20)) == 433
        closed = county.run(
            client.mediation.close_mediation(rep.session_id, "agreement", notes="各方同意调解方案"),
            timeout=300,
        )
    finally:
        for p in parties:
            if p.star is not None:
                phone.run(p.star.stop())
        if host is not None:
            county.run(host.stop())
        county.run(asyncio.sleep(1.0))  # what the stopped sources still wind down ends
        phone.run(asyncio.sleep(1.0))
        if "client" in locals():
            county.run(client.stop())
        phone.stop()
        county.stop()
        hub.stop()
    check_recording(closed, tmp_path / "hall.db", rep.session_id, hub.last_stderr[-3000:])


def console_peer(hub: NsHub, rep: MediationReply, states: list[dict[str, Any]]) -> JanusStar:
    return JanusStar(
        hub.lan_url(rep.host_path),
        rep.host_session,
        video=SyntheticCamera("调解中心", 320, 240),
        audio=ToneSource(),
        on_message=states.append,
        ssl_context=hub.ssl_context(),
        janus_url=on_lan,
        substream=0,
        count_only=True,
        ticket_wait_s=WAIT_S,
    )


async def post_event(hub: NsHub) -> str:
    body = {
        "source": "grid_report",
        "source_ref": "med-janus-7",
        "category": "neighbours",
        "priority": "routine",
        "title": "七户村民土地流转纠纷",
        "place": {"township": "t01", "village": "v01", "grid": "v01g1", "address": "东街12号"},
    }
    headers = {"X-Api-Key": DEMO_API_KEY}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            hub.lan_url("/api/v1/events"), json=body, headers=headers, ssl=hub.ssl_context()
        ) as r,
    ):
        assert r.status in (200, 201), await r.text()
        return str((await r.json())["id"])


async def janus_refuses(
    host: JanusStar, *, pin: str | None = None, token: str | None = None, wait_s: float = 0
) -> int:
    """Janus's error code when joining the host's room with another PIN or token (0 if it
    let us in); retried up to `wait_s` while Janus still lets us in."""
    t = host.ticket
    assert t is not None
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        peer = JanusPeer(
            on_lan(""),
            room=int(t["room"]),
            pin=pin or str(t["pin"]),
            token=token if token is not None else str(t["token"]),
            display="intruder",
        )
        try:
            await peer.join()
            code = 0
        except JanusError as e:
            code = e.code
        finally:
            await peer.leave()
        if code or asyncio.get_running_loop().time() > deadline:
            return code
        await asyncio.sleep(1)


async def in_the_room(
    netns: Netns,
    hub: NsHub,
    tmp: Path,
    rep: MediationReply,
    console: tuple[JanusStar, list[dict[str, Any]]],
    county: NsLoop,
    parties: list[Party],
) -> None:
    host, states = console

    def on_county(coro: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        return asyncio.wrap_future(county.submit(coro))

    folder = tmp / "chromium"
    folder.mkdir()
    args = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"]
    args += [
        f"--host-resolver-rules=MAP {HUB_NAME} {HUB_PUBLIC}",
        f"--ignore-certificate-errors-spki-list={hub.ca_spki_b64()}",
    ]
    exe = str(netns.chromium_wrapper("phone", folder))
    ids = ["host", *(link.participant_id for link in rep.links)]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=exe, args=args, headless=True)
        try:
            pages = [
                await lobby(browser, hub.page_url(link.path), link.pin)
                for link in rep.links[:BROWSERS]
            ]
            # the lobby: everyone online, nobody but the console has a ticket
            await until(lambda: online(states) == 7, "all 7 online")
            for page in pages:
                assert await page.evaluate("() => window.HALL.state.janus") is None
            for p in parties:
                await until(partial(bool, p.states), "a state in the lobby")
                assert p.states[-1]["janus"] is None and not p.states[-1]["me"]["admitted"]
            for pid in ids[1:]:
                await on_county(host.send({"type": "admit", "id": pid}))
            # every party receives every other one
            await until(partial(seen, host.frames, ids, "host"), lambda: f"host {host.frames}")
            for p in parties:
                await until(partial(p.sees, ids), partial(p.what))
            for page, link in zip(pages, rep.links, strict=False):
                others = [i for i in ids if i != link.participant_id]
                expr = " && ".join(f"(window.HALL.frames[{i!r}] || 0) > 10" for i in others)
                try:
                    await page.wait_for_function(f"() => {expr}", timeout=WAIT_S * 1000)
                except Exception:
                    got = await page.evaluate("() => [window.HALL.frames, window.HALL.log]")
                    raise AssertionError(f"{link.participant_id}: {got}") from None
            await pages[0].screenshot(path=str(tmp / "mediation_janus.png"))
            await on_county(host.send({"type": "record", "on": True}))
            await until(lambda: any(m.get("recording") for m in states[-3:]), "recording on")
            await asyncio.sleep(8)
        finally:
            await browser.close()


async def lobby(browser: Browser, url: str, pin: str) -> Page:
    ctx = await browser.new_context(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#enter", timeout=WAIT_S * 1000)
    await page.wait_for_function("() => document.getElementById('preview').readyState >= 2")
    await page.click("#enter")
    await page.wait_for_selector("#lobby:not([hidden])", timeout=WAIT_S * 1000)
    await page.wait_for_function("() => window.HALL.state !== null", timeout=WAIT_S * 1000)
    return page


def online(states: list[dict[str, Any]]) -> int:
    last: dict[str, Any] = next((m for m in reversed(states) if m.get("type") == "state"), {})
    return sum(1 for p in last.get("participants", []) if p.get("online"))


def seen(frames: dict[str, int], ids: list[str], me: str) -> bool:
    return all(frames.get(PREFIX + i, 0) > 10 for i in ids if i != me)


async def until(
    cond: Callable[[], bool], what: str | Callable[[], str], wait_s: float = WAIT_S
) -> None:
    for _ in range(int(wait_s * 5)):
        if cond():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {wait_s:.0f} s: {what if isinstance(what, str) else what()}")


def check_recording(closed: MediationReply, db: Path, sid: str, hub_log: str) -> None:
    assert closed.recording is not None, f"no recording filed; the hub said: {hub_log}"
    mp4 = Path(closed.recording)
    sha = hashlib.sha256(mp4.read_bytes()).hexdigest()
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT recording_path, recording_sha256 FROM mediation_sessions WHERE id = ?", (sid,)
        ).fetchone()
    assert row == (str(mp4), sha)
    with av.open(str(mp4)) as c:
        assert c.streams.video and c.streams.audio, "picture and sound"
        pictures = sum(1 for _ in c.decode(video=0))
    with av.open(str(mp4)) as c:
        sound = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
    assert pictures >= 25, pictures
    assert sound.size > 48_000 and float(np.abs(sound).max()) > 0.01, "audible sound"
