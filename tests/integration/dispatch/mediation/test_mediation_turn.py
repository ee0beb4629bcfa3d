"""A mediation through TURN only: the hub runs its own coturn (`--turn-run`, relay only),
the console's host peer joins with the credentials of its MediationReply and a judge in
headless Chromium with those its page fetched (`GET /v/<token>/ice`); both connections'
selected pairs are relays and video goes both ways."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from dispatch.hub.process import TEST_CONSOLE
from dispatch.hub.turn import plan_of
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera
from streams.webrtc.coturn import free_udp_tcp_port, relay_range
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
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

PAIR = """async () => {
  const st = await window.HALL.pc.getStats();
  let pair = null;
  st.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) {
      pair = st.get(r.selectedCandidatePairId);
    }
  });
  if (!pair) return null;
  return [st.get(pair.localCandidateId).candidateType,
          st.get(pair.remoteCandidateId).candidateType];
}"""


def test_judge_and_console_meet_through_turn(tmp_path: Path, start_hub: StartHub) -> None:
    lo, hi = relay_range()
    conf = tmp_path / "turn.toml"
    conf.write_text(f"[turn]\nmin_port = {lo}\nmax_port = {hi}\n", encoding="utf-8")
    args = mediation_args(tmp_path)
    args["extra_args"] += [
        "--config",
        str(conf),
        "--turn-run",
        "--turn-port",
        str(free_udp_tcp_port()),
        "--turn-relay-only",
    ]
    hub = start_hub(**args)

    async def body() -> None:
        eid = post_event(hub, "相邻承包地纠纷", "med-turn-1")
        async with console_client(hub) as con, chromium(hub) as browser:
            rep = await con.mediation.open_mediation(eid, INVITES[:1])
            assert rep.ice.relay_only and rep.ice.servers[0].username is not None
            assert rep.ice.servers[0].username.endswith(f":console-{TEST_CONSOLE}")
            state: dict[str, Any] = {}
            host = StarClient(
                hub.http_url + rep.host_path,
                rep.host_session,
                video=SyntheticCamera("HALL", 320, 240),
                audio=None,
                config=plan_of(rep.ice).configuration(),
                refresh_ice=True,
                ssl_context=hub.ssl_context(),
                on_message=lambda m: state.update(m) if m.get("type") == "state" else None,
            )
            await host.start()
            try:
                (court,) = rep.links
                page: Page = await open_participant(browser, hub.http_url + court.path, court.pin)
                await until(lambda: sum(p["online"] for p in state.get("participants", [])) == 2)
                await host.send({"type": "admit", "id": court.participant_id})

                def host_sees() -> int:
                    for s in state.get("slots", []):
                        if s["peer"] and s["peer"]["id"] == court.participant_id:
                            return host.frames.get(s["video_mid"], 0)
                    return 0

                async def both_ways() -> bool:
                    return (await page_frames(page)).get("host", 0) > 20 and host_sees() > 20

                await until(both_ways)
                assert host.selected_pairs() == [("relay", "relay")]
                assert await page.evaluate(PAIR) == ["relay", "relay"]
            finally:
                await host.stop()

    asyncio.run(asyncio.wait_for(body(), 150))
