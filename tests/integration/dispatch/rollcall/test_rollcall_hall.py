"""The hall sees and hears the station, and the station sees the hall (issue 6).

A real hub, a duty station in real headless Chromium (fake camera and microphone), and
the console's peer (`StarClient` with a synthetic camera and tone, in this process)
joining the answered call through the `watch` op: the console receives the station's
video and audio frames, the page paints the hall's video frames (counted with
requestVideoFrameCallback), wrong / replaced tokens are refused, the hall leaving and
rejoining does not end the call, and ending the call tells the hall and closes its way
in. Screenshot of the page in the call: artifacts/screenshots/rollcall_station_call.png.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import av
import pytest
from playwright.async_api import Page

from dispatch.client.connection import HubClient
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.process import HubProcess
from dispatch.rollcall.messages import RollcallWatchReply
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera, ToneSource, restrict_host_addresses
from tests.integration.dispatch.mediation.test_mediation_support import SHOTS, chromium
from tests.integration.dispatch.rollcall.test_rollcall_browser import open_station
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    LOOPBACK,
    WAIT_S,
    Station,
    console,
    rollcall_hub,
    until,
    write_site,
)
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration, pytest.mark.browser]

MIN_FRAMES = 30  # each way, within WAIT_S (the sources give 20-25 fps)


class HallPeer:
    """The console's peer in the call: counts the station's video and audio frames."""

    def __init__(self, hub: HubProcess, rep: RollcallWatchReply) -> None:
        self.video = 0
        self.audio = 0
        self.size: tuple[int, int] | None = None
        self.messages: list[dict[str, Any]] = []
        self.client = StarClient(
            hub.http_url + rep.path,
            rep.session,
            video=SyntheticCamera("HALL county centre", 320, 240),
            audio=ToneSource(),
            slots=1,
            keep_hosts=LOOPBACK,
            on_video=self._on_video,
            on_audio=self._on_audio,
            on_message=self.messages.append,
            ssl_context=hub.ssl_context(),
        )

    def _on_video(self, _mid: str, frame: av.VideoFrame) -> None:
        self.video += 1
        self.size = (frame.width, frame.height)

    def _on_audio(self, _mid: str, _frame: av.AudioFrame) -> None:
        self.audio += 1

    def kinds(self) -> list[str]:
        return [str(m.get("type")) for m in self.messages]


async def post_offer(
    hub: HubProcess, path: str, token: str | None, *, ctype: str = "application/sdp"
) -> tuple[int, dict[str, Any]]:
    """A hall offer with `token` (None: no Authorization header); (status, JSON body)."""
    pc_sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    headers = {"Content-Type": ctype}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        hub_session(hub) as http,
        http.post(hub.http_url + path + "/offer", data=pc_sdp, headers=headers) as r,
    ):
        text = await r.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = {"text": text}
        return r.status, body


async def page_state(page: Page) -> dict[str, Any]:
    got = await page.evaluate(
        "() => { const S = window.STATION_STATE; return {frames: S.hallFrames,"
        " present: S.hallPresent, audio: S.hallAudio, size: S.hallSize,"
        " waiting: !document.getElementById('hall-wait').hidden}; }"
    )
    assert isinstance(got, dict)
    return got


async def in_call(c: HubClient) -> list[str]:
    st = await c.rollcall.status()
    return list(st.run.in_call) if st.run is not None else []


def test_hall_joins_the_answered_call(tmp_path: Path) -> None:
    restrict_host_addresses(LOOPBACK)
    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 0))
    figures: dict[str, float] = {}

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub) as browser:
            link = await c.rollcall.station_link(centre_id="t01")
            page = await open_station(browser, hub.http_url + link.path, link.pin)
            with pytest.raises(HubError) as none:
                await c.rollcall.watch(centre_id="t01")
            assert none.value.code is ErrorCode.NOT_FOUND and "没有进行中的通话" in str(none.value)
            await c.rollcall.start(ring_s=20.0, talk_s=600.0)
            await page.wait_for_selector("#ringing:not([hidden])", timeout=WAIT_S * 1000)
            await page.click("#answer")
            await until(lambda: in_call(c), what="call answered with media")
            assert await in_call(c) == ["t01"]
            # the station waits for the hall's picture
            await page.wait_for_selector("#hall-wait:not([hidden])", timeout=WAIT_S * 1000)
            rep = await c.rollcall.watch()  # the current call
            assert rep.centre_id == "t01" and rep.centre_name == "第1镇"
            assert rep.path == f"/rollcall/hall/{rep.call_id}" and len(rep.session) > 20
            assert rep.answered_at is not None

            # refused before any media: no token, wrong token, wrong type, unknown call
            st, body = await post_offer(hub, rep.path, None)
            assert (st, body["error"]) == (401, "auth") and "令牌" in body["message"]
            st, body = await post_offer(hub, rep.path, "not-the-token")
            assert (st, body["error"]) == (403, "forbidden")
            st, body = await post_offer(hub, rep.path, rep.session, ctype="text/plain")
            assert st == 415
            st, body = await post_offer(hub, "/rollcall/hall/rc-nope", rep.session)
            assert (st, body["error"]) == (404, "no_call")

            # the hall joins: both ways, video and sound
            hall = HallPeer(hub, rep)
            t0 = time.monotonic()
            await hall.client.start()
            await until(lambda: hall.video > MIN_FRAMES, what="station video at the hall")
            figures["hall_first_frame_ms"] = hall.client.connect_ms or 0.0
            await until(lambda: hall.audio > MIN_FRAMES, what="station audio at the hall")
            assert hall.size == (640, 480)  # the page's camera
            assert "hello" in hall.kinds()

            async def page_sees(n: int) -> bool:
                s = await page_state(page)
                return bool(s["frames"] > n and s["present"] and not s["waiting"])

            await until(lambda: page_sees(MIN_FRAMES), what="hall video on the station page")
            figures["page_first_frames_s"] = time.monotonic() - t0
            s = await page_state(page)
            assert s["audio"] and s["size"] == [320, 240]
            await page.screenshot(path=str(SHOTS / "rollcall_station_call.png"))

            # the hall leaves: the call goes on, the page waits for the hall again
            await hall.client.send({"type": "leave"})
            await hall.client.stop()
            await until(lambda: _waiting(page), what="page waits")
            assert await in_call(c) == ["t01"]
            left_at = (await page_state(page))["frames"]

            # a new watch replaces the token: the old one is refused
            rep2 = await c.rollcall.watch(centre_id="t01")
            assert rep2.call_id == rep.call_id and rep2.session != rep.session
            st, body = await post_offer(hub, rep.path, rep.session)
            assert st == 403 and "取代" in body["message"]
            # ... and the hall rejoins with it
            hall2 = HallPeer(hub, rep2)
            await hall2.client.start()
            await until(lambda: hall2.video > MIN_FRAMES, what="station video after rejoin")
            await until(lambda: page_sees(left_at + MIN_FRAMES), what="hall video after rejoin")
            assert await in_call(c) == ["t01"]

            # the officer ends the call: the hall is told, its way in is closed
            await c.rollcall.end_call(centre_id="t01")
            await until(lambda: "ended" in hall2.kinds(), what="hall told the call ended")
            ended = next(m for m in hall2.messages if m.get("type") == "ended")
            assert ended["reason"] == "officer" and ended["text"] == "值班员已结束通话"
            st, body = await post_offer(hub, rep2.path, rep2.session)
            assert (st, body["error"]) == (409, "call_ended") and "通话已结束" in body["message"]
            frames_then = hall2.video
            await asyncio.sleep(1.0)
            assert hall2.video - frames_then < 5  # no more media from the closed room
            await hall2.client.stop()
            await page.wait_for_selector("#idle:not([hidden])", timeout=WAIT_S * 1000)

            async def done() -> bool:
                st = await c.rollcall.status()
                return st.run is not None and st.run.status == "done"

            await until(done, what="run done")
            week = await c.rollcall.week()
            (call,) = week.calls
            assert call.outcome == "answered" and call.snapshot  # the snapshot still taken
            with pytest.raises(HubError, match="没有进行中的通话"):
                await c.rollcall.watch(centre_id="t01")

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 240))
    finally:
        hub.stop()
    print("hall figures:", json.dumps(figures))


async def _waiting(page: Page) -> bool:
    s = await page_state(page)
    return bool(s["waiting"] and not s["present"])


def test_talk_time_over_and_station_leaving_end_the_call_for_the_hall(tmp_path: Path) -> None:
    """The talk time running out ends the call for the hall (通话时间已到); in a second
    run, a station that goes away mid-call (page closed) ends it too (值班点已离开). Both
    calls are logged answered with their snapshot."""
    restrict_host_addresses(LOOPBACK)
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 0))

    async def run_done(c: HubClient) -> bool:
        st = await c.rollcall.status()
        return st.run is not None and st.run.status == "done"

    async def join(c: HubClient) -> HallPeer:
        await until(lambda: in_call(c), what="call answered with media")
        hall = HallPeer(hub, await c.rollcall.watch(centre_id="t01"))
        await hall.client.start()
        await until(lambda: hall.video > 10, what="hall sees the station")
        return hall

    def reason(hall: HallPeer) -> tuple[str, str]:
        ended = next(m for m in hall.messages if m.get("type") == "ended")
        return str(ended["reason"]), str(ended["text"])

    async def scenario() -> None:
        async with console(hub) as c:
            link = await c.rollcall.station_link(centre_id="t01")
            station = Station(
                hub.http_url,
                link.path,
                link.pin,
                lambda _i: "answer",
                size=(320, 240),
                full=True,
                ssl_context=hub.ssl_context(),
            )
            await station.start()
            halls: list[HallPeer] = []
            try:
                await until(station.hello.is_set, what="station online")
                await c.rollcall.start(ring_s=20.0, talk_s=8.0)
                halls.append(await join(c))
                await until(lambda: "ended" in halls[0].kinds(), what="told: time over")
                assert reason(halls[0]) == ("done", "通话时间已到")
                await until(lambda: run_done(c), what="first run done")

                await c.rollcall.start(ring_s=20.0, talk_s=600.0)
                halls.append(await join(c))
                await until(lambda: station.received["video"] > 10, what="station sees")
                await station.stop()  # the page is closed
                await until(lambda: "ended" in halls[1].kinds(), what="told: station left")
                assert reason(halls[1]) == ("station_left", "值班点已离开")
                await until(lambda: run_done(c), what="second run done")
                week = await c.rollcall.week()
                assert [x.outcome for x in week.calls] == ["answered", "answered"]
                assert all(x.snapshot for x in week.calls)
                assert all(x.duration_s is not None and x.duration_s < 60 for x in week.calls)
            finally:
                for h in halls:
                    await h.client.stop()
                await station.stop()

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 150))
    finally:
        hub.stop()
