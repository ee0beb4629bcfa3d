"""A mediation across the county's networks: one party in a village behind NAT, one on
a phone on the internet (both real headless Chromium, pages by host name), and the
console's hall peer on the county LAN. Everyone sees everyone; the village party's media
goes through the TURN relay (its only way), the phone's straight to the hub."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from dispatch.hub.turn import plan_of
from dispatch.mediation.messages import MediationReply
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera, ToneSource
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
    open_participant,
    page_frames,
)
from tests.integration.remote.test_remote_support import (
    SELECTED_PAIR_JS,
    WAIT_S,
    Rig,
    chromium_in,
    post_event,
)
from tests.kit import async_wait_until
from tests.kit.netns import HUB_PUBLIC, PHONE, TURN, Netns

pytestmark = [pytest.mark.integration, pytest.mark.browser]
FRAMES = 20


class HallPeer:
    """The console's peer in the mediation (on the county loop)."""

    def __init__(self, rig: Rig, rep: MediationReply) -> None:
        self.state: dict[str, Any] = {}
        self.client = StarClient(
            rig.hub.lan_url(rep.host_path),
            rep.host_session,
            video=SyntheticCamera("HALL 县综治中心", 320, 240),
            audio=ToneSource(),
            config=plan_of(rep.ice).configuration(),
            on_message=self._on_message,
            ssl_context=rig.hub_ssl(),
        )

    def _on_message(self, m: dict[str, Any]) -> None:
        if m.get("type") == "state":
            self.state = m

    def frames_by_peer(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.state.get("slots", []):
            if s["peer"] and s["video_mid"] is not None:
                out[s["peer"]["id"]] = self.client.frames.get(s["video_mid"], 0)
        return out

    def online(self) -> int:
        return sum(1 for p in self.state.get("participants", []) if p["online"])


async def pair_of(page: Page) -> dict[str, Any]:
    got = await page.evaluate(f"() => ({SELECTED_PAIR_JS})(window.HALL.pc)")
    assert isinstance(got, dict), got
    return got


def test_mediation_village_phone_and_console(netns: Netns, tmp_path: Path) -> None:
    rig = Rig(netns, tmp_path)
    rig.start()

    async def scenario() -> None:
        eid = post_event(rig, "宅基地边界纠纷")
        rep = await rig.console(rig.c.mediation.open_mediation(eid, INVITES[2:]))
        hall = HallPeer(rig, rep)
        await rig.console(hall.client.start())
        extra = rig.page_args()
        try:
            async with (
                chromium_in(netns, "village", tmp_path / "cv", extra) as village,
                chromium_in(netns, "phone", tmp_path / "cp", extra) as phone,
            ):
                zhang, li = rep.links
                a = await open_participant(village, rig.hub.page_url(zhang.path), zhang.pin)
                b = await open_participant(phone, rig.hub.page_url(li.path), li.pin)
                await async_wait_until(lambda: hall.online() == 3, WAIT_S, what="all online")
                for pid in (zhang.participant_id, li.participant_id):
                    await rig.console(hall.client.send({"type": "admit", "id": pid}))

                async def all_see_all() -> bool:
                    fa, fb, fc = await page_frames(a), await page_frames(b), hall.frames_by_peer()
                    return (
                        min(fa.get("host", 0), fa.get(li.participant_id, 0)) > FRAMES
                        and min(fb.get("host", 0), fb.get(zhang.participant_id, 0)) > FRAMES
                        and min(fc.get(zhang.participant_id, 0), fc.get(li.participant_id, 0))
                        > FRAMES
                    )

                await async_wait_until(all_see_all, 60, interval=0.2, what="everyone sees all")
                va, pb = await pair_of(a), await pair_of(b)
                assert va["local"] == "relay" and va["local_address"] == TURN, va
                assert va["remote_address"] == HUB_PUBLIC and va["received"] > 0, va
                assert pb["local_address"] == PHONE and pb["remote_address"] == HUB_PUBLIC, pb
        finally:
            await rig.console(hall.client.stop())

    try:
        asyncio.run(asyncio.wait_for(scenario(), 240))
    finally:
        rig.stop()
