"""A roll call through TURN only: the hub runs its own coturn (`[turn] run = true`,
`relay_only = true`), a duty station in headless Chromium answers, and the console's
peer joins the call with the credentials of its watch reply. Every connection's selected
candidate pair is a relay (Chromium's getStats, aioice's nominated pair on the hall's
side) and video goes both ways; the coturn the hub started stops with it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from console.rollcall.call_model import error_text
from dispatch.hub.process import TEST_CONSOLE, HubProcess
from dispatch.hub.turn import plan_of
from streams.webrtc.client import NoRelayError, StarClient
from streams.webrtc.config import SyntheticCamera
from streams.webrtc.coturn import free_udp_tcp_port, relay_range, stun_answers
from tests.integration.dispatch.mediation.test_mediation_support import chromium
from tests.integration.dispatch.rollcall.test_rollcall_browser import open_station
from tests.integration.dispatch.rollcall.test_rollcall_hall import in_call
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    WAIT_S,
    console,
    until,
    write_site,
)
from tests.kit.turn import TurnServer

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PAGE_STATS = """async () => {
  const pc = window.STATION_STATE.pc;
  if (!pc) return null;
  const st = await pc.getStats();
  let pair = null, inFrames = 0, outFrames = 0;
  st.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) {
      pair = st.get(r.selectedCandidatePairId);
    }
    if (r.type === "inbound-rtp" && r.kind === "video") inFrames += r.framesDecoded || 0;
    if (r.type === "outbound-rtp" && r.kind === "video") outFrames += r.framesEncoded || 0;
  });
  if (!pair) return {inFrames, outFrames};
  return {
    local: st.get(pair.localCandidateId).candidateType,
    remote: st.get(pair.remoteCandidateId).candidateType,
    relayProtocol: st.get(pair.localCandidateId).relayProtocol || null,
    bytesReceived: pair.bytesReceived, bytesSent: pair.bytesSent, inFrames, outFrames,
  };
}"""


def turn_hub(tmp: Path, site: Path) -> tuple[HubProcess, int]:
    port = free_udp_tcp_port()
    lo, hi = relay_range()
    conf = tmp / "hub.toml"
    conf.write_text(
        "[turn]\nrun = true\nrelay_only = true\n"
        f'listen_ip = "127.0.0.1"\nport = {port}\nmin_port = {lo}\nmax_port = {hi}\n',
        encoding="utf-8",
    )
    hub = HubProcess(
        f"sqlite:///{tmp / 'hall.db'}",
        site=site,
        demo=True,
        extra_args=["--webrtc-host", "127.0.0.1", "--config", str(conf)],
    )
    return hub, port


async def page_stats(page: Page) -> dict[str, Any]:
    got = await page.evaluate(PAGE_STATS)
    return got if isinstance(got, dict) else {}


def test_station_and_hall_meet_through_the_hubs_coturn(tmp_path: Path) -> None:
    hub, turn_port = turn_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 0))
    figures: dict[str, float] = {}

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub) as browser:
            ice = await c.ice()
            assert ice.relay_only and ice.expires_at is not None
            assert ice.servers[0].urls[0] == f"turn:127.0.0.1:{turn_port}?transport=udp"
            again = await c.ice(margin_s=10**9)  # as if about to expire: an IceRequest
            assert again.servers[0].username is not None
            assert again.servers[0].username.endswith(f":console-{TEST_CONSOLE}")
            assert again.expires_at is not None and again.expires_at >= ice.expires_at
            link = await c.rollcall.station_link(centre_id="t01")
            page = await open_station(browser, hub.http_url + link.path, link.pin)
            await c.rollcall.start(ring_s=20.0, talk_s=600.0)
            await page.wait_for_selector("#ringing:not([hidden])", timeout=WAIT_S * 1000)
            t0 = time.monotonic()
            await page.click("#answer")
            await until(lambda: in_call(c), what="call answered with media")
            figures["station_answer_to_media_ms"] = (time.monotonic() - t0) * 1000
            rep = await c.rollcall.watch()
            assert rep.ice.relay_only and rep.ice.servers[0].username is not None
            got = [0]
            hall = StarClient(  # as the console does: with its reply's ICE servers
                hub.http_url + rep.path,
                rep.session,
                video=SyntheticCamera("HALL", 320, 240),
                audio=None,
                slots=1,
                config=plan_of(rep.ice).configuration(),
                refresh_ice=True,
                on_video=lambda _mid, _f: got.__setitem__(0, got[0] + 1),
                ssl_context=hub.ssl_context(),
            )
            await hall.start()
            await until(lambda: got[0] > 30, what="station video at the hall via TURN")
            figures["hall_first_frame_ms"] = hall.connect_ms or 0.0
            assert hall.selected_pairs() == [("relay", "relay")]

            async def page_relayed() -> bool:
                s = await page_stats(page)
                return s.get("inFrames", 0) > 30 and s.get("outFrames", 0) > 30

            await until(page_relayed, what="hall video on the station page via TURN")
            s = await page_stats(page)
            assert (s["local"], s["remote"]) == ("relay", "relay"), s
            assert s["relayProtocol"] == "udp" and s["bytesReceived"] > 0 and s["bytesSent"] > 0

            # a rejoin (network loss) takes fresh credentials from the hall's ice route
            await hall.cut()
            await until(lambda: hall.connections >= 2, what="hall rejoined")
            frames = got[0]
            await until(lambda: got[0] > frames + 30, what="video after the rejoin")
            assert hall.selected_pairs() == [("relay", "relay")]
            cfg = hall._config.iceServers
            assert cfg is not None and str(cfg[0].username).endswith(f":hall-{rep.call_id}")
            # the page's route gives fresh credentials of its own (a station page stays open)
            fresh = await page.evaluate(
                "async () => (await fetch(location.pathname + '/ice')).json()"
            )
            assert fresh["iceTransportPolicy"] == "relay"
            assert fresh["iceServers"][0]["username"].endswith(":station-t01")
            await hall.stop()
            await c.rollcall.end_call(centre_id="t01")

    hub.start()
    try:
        assert stun_answers("127.0.0.1", turn_port)  # the hub's coturn is up
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        hub.stop()
    assert not stun_answers("127.0.0.1", turn_port)  # and stopped with the hub
    print("figures", figures)


def test_refused_turn_credentials_are_said_on_the_station_page(
    tmp_path: Path, turn_server: TurnServer
) -> None:
    """A hub whose secret is not coturn's: coturn refuses the page's credentials (401)
    and the page says so in Chinese instead of staying on 正在接通…."""
    conf = tmp_path / "hub.toml"
    conf.write_text(
        f'[turn]\nurls = ["{turn_server.url}"]\nsecret = "{"x" * 24}"\nrelay_only = true\n',
        encoding="utf-8",
    )
    hub = HubProcess(
        f"sqlite:///{tmp_path / 'hall.db'}",
        site=write_site(tmp_path / "site.toml", 1, 0),
        demo=True,
        extra_args=["--webrtc-host", "127.0.0.1", "--config", str(conf)],
    )

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub) as browser:
            link = await c.rollcall.station_link(centre_id="t01")
            page = await open_station(browser, hub.http_url + link.path, link.pin)
            await c.rollcall.start(ring_s=20.0, talk_s=600.0)
            await page.wait_for_selector("#ringing:not([hidden])", timeout=WAIT_S * 1000)
            await page.click("#answer")
            await page.wait_for_function(
                "() => document.getElementById('call-status').textContent.includes('中继服务器')",
                timeout=WAIT_S * 1000,
            )
            text = await page.inner_text("#call-status")
            assert "拒绝了连接凭据" in text and "刷新页面" in text
            assert await page.evaluate("() => window.STATION_STATE.refused") == 401
            # the console's peer with the same hub's credentials: a clear error, in words
            star = StarClient(
                hub.http_url + "/rollcall/hall/none",
                "x",
                video=SyntheticCamera("HALL", 160, 120),
                audio=None,
                config=plan_of(await c.ice()).configuration(),
                ssl_context=hub.ssl_context(),
            )
            try:
                with pytest.raises(NoRelayError) as err:
                    await star.start()
                assert star.state == "no_relay"
                assert (
                    error_text(err.value)
                    == "中继服务器（TURN）连不上或拒绝了连接凭据，请联系管理员检查 TURN 服务"
                )
            finally:
                await star.stop()

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        hub.stop()
