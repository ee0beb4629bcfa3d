"""The platform feed against the kit's WVP server (real HTTP) and camsim (real RTSP)."""

from __future__ import annotations

import asyncio

import av
import pytest

from dispatch.platform.service import PlatformFeed, wvp_source
from streams.platform import PlatformUnreachable
from streams.simulator import CamSim
from tests.kit.clock import FakeClock
from tests.kit.platform import PlatformServer, county_channels
from tests.kit.platform_site import platform_site

pytestmark = pytest.mark.integration


def _frames(url: str, n: int = 3) -> int:
    got = 0
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10.0) as c:
        for _ in c.decode(video=0):
            got += 1
            if got >= n:
                break
    return got


def test_catalogue_of_1000_channels_merges_and_relogs_in() -> None:
    async def go() -> None:
        server = PlatformServer(county_channels(1000, 5, 4), ["rtsp://127.0.0.1:1/x"])
        await server.up()
        site = platform_site(server.url)
        feed = PlatformFeed(site, site.platforms[0], wvp_source(site, site.platforms[0]))
        await feed.source.start()
        try:
            state = await feed.refresh()
            assert state.error is None and state.tree is not None
            assert len(state.tree.cameras) == 1000 and not state.tree.unplaced
            server.expire_tokens()  # the token is refused: one login again, no error
            state = await feed.refresh()
            assert state.error is None and server.logins == 2
        finally:
            await feed.stop()
            await server.down()

    asyncio.run(go())


def test_platform_down_keeps_last_tree_with_a_note() -> None:
    async def go() -> None:
        server = PlatformServer(county_channels(120, 5, 4), ["rtsp://127.0.0.1:1/x"])
        await server.up()
        site = platform_site(server.url, timeout_s=3.0)
        feed = PlatformFeed(site, site.platforms[0], wvp_source(site, site.platforms[0]))
        await feed.source.start()
        try:
            good = await feed.refresh()
            assert good.note is None and good.tree is not None
            await server.down()
            state = await feed.refresh()
            assert state.tree is good.tree and state.read_at == good.read_at
            assert state.failures == 1 and state.note is not None
            assert "gaw" in state.note and "不可用" in state.note and "显示" in state.note
            with pytest.raises(PlatformUnreachable):
                await feed.source.catalogue()
            await server.up()
            state = await feed.refresh()
            assert state.note is None and state.failures == 0
        finally:
            await feed.stop()
            await server.down()

    asyncio.run(go())


def test_expired_url_is_asked_again_and_the_stream_continues(camsim: CamSim) -> None:
    urls = [camsim.url(c) for c in camsim.camera_ids]

    async def go() -> None:
        server = PlatformServer(county_channels(4, 2, 2), urls, expire_s=30.0)
        await server.up()
        site = platform_site(server.url, townships=2, villages=2)
        clock = FakeClock()
        cfg = site.platforms[0]
        feed = PlatformFeed(
            site, cfg, wvp_source(site, cfg, clock.monotonic), clock=clock.monotonic
        )
        await feed.source.start()
        try:
            state = await feed.refresh()
            assert state.tree is not None
            cam = state.tree.cameras[1]
            first = await feed.stream(cam.id)
            assert first.rtsp == urls[1]
            assert await asyncio.to_thread(_frames, first.rtsp or "") == 3
            clock.advance(10.0)
            assert await feed.stream(cam.id) is first  # still alive: no new request
            assert len(server.plays) == 1
            clock.advance(20.0)  # past expiry (margin 5 s): asked again
            second = await feed.stream(cam.id)
            assert len(server.plays) == 2 and second.expires_at > first.expires_at
            both = await asyncio.gather(*(feed.stream(cam.id, renew=True) for _ in range(2)))
            assert both[0] is both[1] and len(server.plays) == 3  # one request for two tiles
            with pytest.raises(KeyError, match="unknown camera"):
                await feed.stream("nope")
            assert await asyncio.to_thread(_frames, second.rtsp or "") == 3
        finally:
            await feed.stop()
            await server.down()

    asyncio.run(go())


def test_bad_entries_are_skipped_and_a_bad_answer_is_a_clear_note() -> None:
    async def go() -> None:
        server = PlatformServer(county_channels(50, 5, 4), ["rtsp://127.0.0.1:1/x"])
        server.raw_channels = [{"name": "no id"}, "not an object"]
        await server.up()
        site = platform_site(server.url)
        feed = PlatformFeed(site, site.platforms[0], wvp_source(site, site.platforms[0]))
        await feed.source.start()
        try:
            cat = await feed.source.catalogue()
            assert len(cat.channels) == 50  # nothing good lost
            assert cat.skipped == (
                "channel #50 of 34052100001180000000: channelId missing or not a string",
                "channel #51 of 34052100001180000000: channel entry is not an object",
            )
            good = await feed.refresh()
            server.html = True
            state = await feed.refresh()
            assert state.tree is good.tree and state.note is not None
            assert "devices: answer is not JSON" in state.note
        finally:
            await feed.stop()
            await server.down()

    asyncio.run(go())
