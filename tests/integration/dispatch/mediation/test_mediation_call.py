"""A mediation session end to end on loopback: a real `hall-hub` process (the star's
media centre), the console's aiortc peer and two real headless Chromium participants."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import av
import pytest

from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
    SHOTS,
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


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    return start_hub(**mediation_args(tmp_path))


def test_three_parties_see_each_other_and_a_cut_peer_comes_back(hub: HubProcess) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def body() -> None:
        eid = post_event(hub, "宅基地边界纠纷", "med-1")
        async with console_client(hub) as con, chromium(hub) as browser:
            rep = await con.mediation.open_mediation(eid, INVITES[:2])
            peer = ConsolePeer(hub, rep)
            await peer.client.start()
            try:
                court, notary = rep.links
                a = await open_participant(browser, hub.http_url + court.path, court.pin)
                b = await open_participant(browser, hub.http_url + notary.path, notary.pin)
                await a.screenshot(path=str(SHOTS / "mediation_lobby.png"))
                # the lobby: nobody's media flows until the officer admits
                await until(lambda: sum(p["online"] for p in peer.state["participants"]) == 3)
                await peer.admit(court.participant_id)
                await peer.admit(notary.participant_id)

                async def all_see_all() -> bool:
                    fa, fb = await page_frames(a), await page_frames(b)
                    fc = peer.frames_by_peer()
                    return (
                        fa.get("host", 0) > 20
                        and fa.get(notary.participant_id, 0) > 20
                        and fb.get("host", 0) > 20
                        and fb.get(court.participant_id, 0) > 20
                        and fc.get(court.participant_id, 0) > 20
                        and fc.get(notary.participant_id, 0) > 20
                    )

                await until(all_see_all)
                await a.screenshot(path=str(SHOTS / "mediation_call.png"))
                # cut the court's connection from its page: it comes back by itself
                before = await page_frames(b)
                await a.evaluate("() => window.HALL.cut()")
                await until(lambda: a.evaluate("() => window.HALL.rejoins >= 1"))
                await until(lambda: a.evaluate("() => window.HALL.connections >= 2"))
                base_a = await page_frames(a)

                async def flowing_again() -> bool:
                    fa, fb = await page_frames(a), await page_frames(b)
                    fc = peer.frames_by_peer()
                    return (
                        fa.get("host", 0) > base_a.get("host", 0) + 20
                        and fb.get(court.participant_id, 0)
                        > before.get(court.participant_id, 0) + 20
                        and fc.get(court.participant_id, 0) > 0
                    )

                try:
                    await until(flowing_again)
                except TimeoutError:
                    fa, fb = await page_frames(a), await page_frames(b)
                    log = await a.evaluate("() => window.HALL.log.slice(-12)")
                    raise AssertionError(
                        f"after the cut: A {fa} (base {base_a}), B {fb} "
                        f"(before {before}), console {peer.frames_by_peer()}, A log {log}"
                    ) from None

                # record: everyone sees the notice; the file decodes to the time recorded
                await peer.client.send({"type": "record", "on": True})
                await a.wait_for_selector("#rec:not([hidden])", timeout=10_000)
                await b.wait_for_selector("#rec:not([hidden])", timeout=10_000)
                t_on = time.monotonic()
                await a.screenshot(path=str(SHOTS / "mediation_recording.png"))
                await asyncio.sleep(6)
                await peer.client.send({"type": "record", "on": False})
                await a.wait_for_selector("#rec", state="hidden", timeout=10_000)
                recorded_s = time.monotonic() - t_on
                closed = await con.mediation.close_mediation(
                    rep.session_id, "agreement", notes="分期赔偿"
                )
                await b.wait_for_selector("#ended:not([hidden])", timeout=10_000)
                timeline = await con.events.timeline(eid)
            finally:
                await peer.client.stop()
        assert closed.recording is not None
        path = Path(closed.recording)
        with av.open(str(path)) as f:
            kinds = sorted(s.type for s in f.streams)
            assert kinds == ["audio", "video"]
            v = f.streams.video[0]
            # the end of the last picture (a starved recorder skips ticks, the picture held)
            video_s = max(float(fr.time or 0) for fr in f.decode(v)) + 1 / 15
        with av.open(str(path)) as f:
            n_audio = sum(fr.samples for fr in f.decode(f.streams.audio[0]))
        audio_s = n_audio / 48_000
        assert abs(video_s - recorded_s) < 1.5, (video_s, recorded_s)
        assert abs(audio_s - recorded_s) < 1.5, (audio_s, recorded_s)
        actions = [e.action for e in timeline]
        assert "mediation_open" in actions and "mediation_close" in actions
        line = next(e.note for e in timeline if e.action == "mediation_close")
        assert "达成协议" in line and "法官王法官" in line and "分期赔偿" in line

    asyncio.run(asyncio.wait_for(body(), 180))
