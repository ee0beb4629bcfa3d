"""Switching camera and microphone mid-call on the join page: the new track replaces the
old one on its sender (`RTCRtpSender.replaceTrack`), without a new offer, and the hall
keeps receiving the participant's video. Chromium's fake devices give more than one of each with
`--use-fake-device-for-media-stream=device-count=3` (the second, Y16, is never encoded by
Chromium's WebRTC; the test switches to the third, MJPEG)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    FAKE_DEVICES,
    INVITES,
    ConsolePeer,
    chromium,
    console_client,
    mediation_args,
    open_participant,
    page_frames,
    post_event,
    until,
)
from tests.kit.hub import StartHub

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARGS = [FAKE_DEVICES if a == "--use-fake-device-for-media-stream" else a for a in CHROMIUM_ARGS]
SENDING = """(kind) => {
  const s = window.HALL.pc.getSenders().find((x) => x.track && x.track.kind === kind);
  return s ? s.track.getSettings().deviceId : null;
}"""


async def outbound(page: Any) -> Any:
    return await page.evaluate(
        """async () => { const st = await window.HALL.pc.getStats(); const v = [];
          st.forEach((r) => { if (r.type === 'outbound-rtp' || r.type === 'media-source')
            v.push([r.type, r.kind, r.framesEncoded, r.packetsSent, r.frames, r.width,
                    r.qualityLimitationReason, r.keyFramesEncoded]); });
          return [v, window.HALL.log.slice(-5)]; }"""
    )


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    return start_hub(**mediation_args(tmp_path))


def test_switching_camera_and_microphone_mid_call_keeps_the_others_receiving(
    hub: HubProcess,
) -> None:
    async def body() -> None:
        eid = post_event(hub, "租赁押金纠纷", "med-devices-1")
        async with console_client(hub) as con, chromium(hub, ARGS) as browser:
            rep = await con.mediation.open_mediation(eid, INVITES[2:3])
            peer = ConsolePeer(hub, rep)
            await peer.client.start()
            try:
                (party,) = rep.links
                page = await open_participant(browser, hub.http_url + party.path, party.pin)
                await until(lambda: any(p["online"] for p in peer.state.get("participants", [])))
                await peer.admit(party.participant_id)
                pid = party.participant_id
                await until(lambda: peer.frames_by_peer().get(pid, 0) > 20)
                assert (await page_frames(page)).get("host", 0) > 0

                cams = await page.evaluate(
                    "() => [...document.querySelectorAll('#call-cam option')].map(o => o.value)"
                )
                mics = await page.evaluate(
                    "() => [...document.querySelectorAll('#call-mic option')].map(o => o.value)"
                )
                assert len(cams) == 3 and len(mics) >= 2, (cams, mics)
                cam0 = await page.evaluate(SENDING, "video")
                mic0 = await page.evaluate(SENDING, "audio")
                assert cam0 == cams[0]
                other_cam = cams[2]  # fake_device_2 (MJPEG); fake_device_1 is Y16
                other_mic = next(m for m in mics if m != mic0)
                connections = await page.evaluate("() => window.HALL.connections")

                await page.select_option("#call-cam", other_cam)
                await page.wait_for_function("() => window.HALL.switches >= 1", timeout=15_000)
                assert await page.evaluate(SENDING, "video") == other_cam
                seen = peer.frames_by_peer().get(pid, 0)
                try:
                    await until(lambda: peer.frames_by_peer().get(pid, 0) > seen + 40)
                except TimeoutError:
                    got = await outbound(page)
                    raise AssertionError(f"{seen} {peer.frames_by_peer()} {got}") from None

                await page.select_option("#call-mic", other_mic)
                await page.wait_for_function("() => window.HALL.switches >= 2", timeout=15_000)
                assert await page.evaluate(SENDING, "audio") == other_mic
                seen = peer.frames_by_peer().get(pid, 0)
                await until(lambda: peer.frames_by_peer().get(pid, 0) > seen + 40)

                # no renegotiation, no rejoin: the same connection throughout
                assert await page.evaluate("() => window.HALL.connections") == connections
                assert await page.evaluate("() => window.HALL.rejoins") == 0
                # the self tile shows the new camera (the local stream holds it)
                assert await page.evaluate(
                    "() => window.HALL.pc.getSenders().every("
                    "(s) => !s.track || s.track.readyState === 'live')"
                )
            finally:
                await peer.client.stop()

    asyncio.run(asyncio.wait_for(body(), 180))
