"""A village centre behind NAT in a meeting: the router drops its UDP to the hub's public
address, so its media can reach Janus only through the hub's TURN server (coturn in the
public namespace). The engine's tickets carry TURN credentials minted per meeting (the
hub's `ice`); the village's peer uses them, its selected pair is a relay, and it and the
county console receive each other through Janus."""

from __future__ import annotations

import time

import pytest

from dispatch.meetings.media import RoomTicket
from streams.webrtc.config import IceServer, SyntheticCamera
from streams.webrtc.janus_peer import JanusPeer
from streams.webrtc.stats import selected_pairs, via_relay
from tests.kit.janus import JanusServer
from tests.kit.netns import Netns, NsLoop
from tests.kit.netns_turn import NsTurn

pytestmark = pytest.mark.integration


def test_village_behind_nat_joins_through_turn(
    janus_server: JanusServer, ns_turn: NsTurn, netns: Netns
) -> None:
    def ice(name: str) -> list[IceServer]:
        user, password = ns_turn.credentials(f"meeting-{name}")
        return [IceServer((ns_turn.url,), user, password)]

    engine = janus_server.engine()
    engine.ice = ice
    hub = janus_server.hub_loop
    village_loop, county_loop = NsLoop(netns, "village"), NsLoop(netns, "county")
    village_loop.start()
    county_loop.start()
    peers: list[tuple[NsLoop, JanusPeer]] = []
    try:
        hub.run(engine.start())
        opened = engine.open_room("m5", title="村级会议", max_publishers=3, record_dir=None)
        t: RoomTicket = hub.run(opened)
        assert t.ice_servers and t.ice_servers[0].username, "the ticket carries TURN credentials"

        def make(url: str, name: str, loop: NsLoop) -> JanusPeer:
            token = hub.run(engine.admit("m5", name))
            p = JanusPeer(
                url, room=t.room, pin=t.pin, token=token, display=name, ice_servers=t.ice_servers
            )
            peers.append((loop, p))
            loop.run(p.join())
            loop.run(p.publish(video=SyntheticCamera(name, 320, 240, 15)))
            return p

        village = make(janus_server.public_url, "王家庄村", village_loop)
        county = make(janus_server.lan_url, "县中心", county_loop)
        county_loop.run(county.subscribe(village.feed, 0))
        village_loop.run(village.subscribe(county.feed, 0))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if county.frames.get(village.feed, 0) > 10 and village.frames.get(county.feed, 0) > 10:
                break
            time.sleep(0.1)
        assert county.frames.get(village.feed, 0) > 10, "the console receives the village"
        assert village.frames.get(county.feed, 0) > 10, "the village receives the console"
        pairs = village_loop.run(_pairs(village))
        assert via_relay(pairs), pairs
    finally:
        for loop, p in peers:
            loop.run(p.leave())
        village_loop.stop()
        county_loop.stop()
        hub.run(engine.stop())


async def _pairs(p: JanusPeer) -> list[tuple[str, str]]:
    assert p.publisher_pc is not None
    return selected_pairs(p.publisher_pc)
