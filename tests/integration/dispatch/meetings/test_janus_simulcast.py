"""aiortc simulcast through the real Janus: a township peer sends a pre-encoded VP8 loop in
three layers (SSRC simulcast, no encoding at run time); a count-only receiver (no
decoding) gets the low layer, then the high one after `set_substream`, told apart by
the key frames' sizes; Janus's key-frame requests restart the loop at its key frame."""

from __future__ import annotations

import time

import pytest

from dispatch.meetings.media import RoomTicket
from streams.webrtc.janus_peer import JanusPeer, Subscription
from streams.webrtc.simulcast import LAYERS, SimulcastVideo, encode_layers
from tests.kit.janus import JanusServer
from tests.kit.netns import Netns, NsLoop
from tests.kit.wait import wait_until

pytestmark = pytest.mark.integration


def test_simulcast_layers_from_aiortc(janus_server: JanusServer, netns: Netns) -> None:
    hub = janus_server.hub_loop
    engine = janus_server.engine()
    town_loop, county_loop = NsLoop(netns, "phone"), NsLoop(netns, "county")
    town_loop.start()
    county_loop.start()
    peers: list[tuple[NsLoop, JanusPeer]] = []
    try:
        hub.run(engine.start())
        t: RoomTicket = hub.run(
            engine.open_room("m4", title="t", max_publishers=3, record_dir=None)
        )

        def make(url: str, name: str, count_only: bool = False) -> JanusPeer:
            token = hub.run(engine.admit("m4", name))
            return JanusPeer(
                url, room=t.room, pin=t.pin, token=token, display=name, count_only=count_only
            )

        video = SimulcastVideo(encode_layers(tag=5, frames=10))
        town = make(janus_server.public_url, "town")
        peers.append((town_loop, town))
        town_loop.run(town.join())
        town_loop.run(town.publish(video=video))
        console = make(janus_server.lan_url, "console", count_only=True)
        peers.append((county_loop, console))
        county_loop.run(console.join())
        sub: Subscription = county_loop.run(console.subscribe(town.feed, 0))
        low = (LAYERS[0][0], LAYERS[0][1] + 10)
        high = (LAYERS[2][0], LAYERS[2][1] + 10)
        wait_until(
            lambda: sub.key_size == low and console.frames[town.feed] > 20, 15, what="low layer"
        )
        county_loop.run(console.set_substream(town.feed, 2))
        wait_until(lambda: sub.key_size == high, 10, what=lambda: f"high layer ({sub.key_size})")
        before = console.frames[town.feed]
        time.sleep(1)
        assert console.frames[town.feed] - before > 10  # still ~25 complete frames a second
        assert video.keyframes_asked >= 1 and video.sent > 25
    finally:
        for loop, p in peers:
            loop.run(p.leave())
        town_loop.stop()
        county_loop.stop()
        hub.run(engine.stop())
