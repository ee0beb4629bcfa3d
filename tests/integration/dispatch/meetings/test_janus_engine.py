"""The meetings' media engine against a real Janus in the hub's namespace: two aiortc
participants (a township on the public side, the county console on the LAN) publish and
receive each other through a room the engine made; a wrong PIN, an unknown token and a
revoked one are refused; a locked room admits nobody new; Janus killed mid-room is
started again by the engine, the room is recreated with the same number, PIN and tokens,
and both peers rejoin and receive again by themselves within 10 s."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from dispatch.meetings.janus.recording import finish_recording, tracks
from dispatch.meetings.media import MediaError, RoomTicket
from streams.webrtc.config import SyntheticCamera, ToneSource
from streams.webrtc.janus_api import PluginError
from streams.webrtc.janus_peer import JanusPeer, Subscription
from tests.kit.janus import JanusServer
from tests.kit.netns import Netns, NsLoop
from tests.kit.wait import wait_until

pytestmark = pytest.mark.integration


def peer(url: str, ticket: RoomTicket, token: str, name: str, pin: str | None = None) -> JanusPeer:
    return JanusPeer(url, room=ticket.room, pin=pin or ticket.pin, token=token, display=name)


async def join_and_publish(p: JanusPeer) -> int:
    await p.join()
    await p.publish(video=SyntheticCamera(p.display, 320, 240, 15), audio=ToneSource())
    return p.feed


@pytest.fixture
def town_loop(netns: Netns) -> Iterator[NsLoop]:
    loop = NsLoop(netns, "phone")
    loop.start()
    yield loop
    loop.stop()


@pytest.fixture
def county_loop(netns: Netns) -> Iterator[NsLoop]:
    loop = NsLoop(netns, "county")
    loop.start()
    yield loop
    loop.stop()


def refused(loop: NsLoop, url: str, ticket: RoomTicket, token: str, pin: str) -> int:
    bad = peer(url, ticket, token, "stranger", pin)
    try:
        loop.run(bad.join())
    except PluginError as e:
        return e.code
    finally:
        loop.run(bad.leave())
    return 0


def test_publish_receive_refuse_and_restart(
    janus_server: JanusServer, town_loop: NsLoop, county_loop: NsLoop
) -> None:
    hub = janus_server.hub_loop
    engine = janus_server.engine()
    try:
        hub.run(engine.start())
        ticket = hub.run(engine.open_room("m1", title="周例会", max_publishers=4, record_dir=None))
        assert ticket.janus_url == janus_server.public_url and len(ticket.pin) == 6
        tok_a = hub.run(engine.admit("m1", "county"))
        tok_b = hub.run(engine.admit("m1", "town-1"))
        county = peer(janus_server.lan_url, ticket, tok_a, "县中心")
        town = peer(janus_server.public_url, ticket, tok_b, "城关镇")
        feed_a = county_loop.run(join_and_publish(county))
        feed_b = town_loop.run(join_and_publish(town))
        sub_a: Subscription = county_loop.run(county.subscribe(feed_b, 0))
        sub_b: Subscription = town_loop.run(town.subscribe(feed_a, 0))
        wait_until(
            lambda: county.frames.get(feed_b, 0) > 10 and town.frames.get(feed_a, 0) > 10,
            20,
            what="both peers receive each other",
        )

        wait_until(lambda: len(hub.run(engine.participants("m1"))) == 2, 5, what="roster")
        people = hub.run(engine.participants("m1"))
        assert {p.display for p in people} == {"县中心", "城关镇"}
        assert all(p.publishing and not p.muted for p in people)
        hub.run(engine.set_muted("m1", feed_b, True))
        assert [p.muted for p in hub.run(engine.participants("m1")) if p.feed == feed_b] == [True]

        wrong_pin = "000000" if ticket.pin != "000000" else "111111"
        url = janus_server.public_url
        assert refused(town_loop, url, ticket, tok_b, wrong_pin) == 433
        assert refused(town_loop, url, ticket, "not-a-token", ticket.pin) == 433
        tok_c = hub.run(engine.admit("m1", "town-2"))
        hub.run(engine.revoke("m1", tok_c))
        assert refused(town_loop, url, ticket, tok_c, ticket.pin) == 433
        hub.run(engine.set_locked("m1", True))
        with pytest.raises(MediaError):
            hub.run(engine.admit("m1", "late"))

        recreated: list[str] = []
        engine.on_recreated(recreated.append)
        first_pid = janus_server.process.pid
        janus_server.process.kill()
        killed = time.monotonic()
        wait_until(
            lambda: sub_a.last_frame > killed and sub_b.last_frame > killed,
            10,
            what=lambda: (
                f"both peers back (rejoins {county.rejoins}/{town.rejoins}, {sub_a}, {sub_b})"
            ),
        )
        assert county.rejoins == 1 and town.rejoins == 1
        assert janus_server.process.pid != first_pid and recreated == ["m1"]
        assert sub_a.feed == town.feed and sub_b.feed == county.feed  # the new feed ids
        assert (
            hub.run(engine.open_room("m1", title="x", max_publishers=4, record_dir=None)) == ticket
        )
        county_loop.run(county.leave())
        town_loop.run(town.leave())
    finally:
        hub.run(engine.stop())


def test_recording_decodes_with_pictures_and_voices(
    janus_server: JanusServer, town_loop: NsLoop, county_loop: NsLoop, tmp_path: Path
) -> None:
    hub = janus_server.hub_loop
    engine = janus_server.engine()
    record = tmp_path / "rec"
    try:
        hub.run(engine.start())
        ticket = hub.run(
            engine.open_room("m3", title="应急会", max_publishers=4, record_dir=record)
        )
        county = peer(janus_server.lan_url, ticket, hub.run(engine.admit("m3", "c")), "县中心")
        town = peer(janus_server.public_url, ticket, hub.run(engine.admit("m3", "t")), "城关镇")
        county_loop.run(join_and_publish(county))
        town_loop.run(join_and_publish(town))
        time.sleep(3)
        county_loop.run(county.leave())
        town_loop.run(town.leave())
        hub.run(engine.close_room("m3"))
        mp4, digest = finish_recording(record, speaker_feed=county.feed)
    finally:
        hub.run(engine.stop())
    assert digest == hashlib.sha256(mp4.read_bytes()).hexdigest()
    assert {(t.feed, t.kind) for t in tracks(record)} == {
        (county.feed, "audio"),
        (county.feed, "video"),
        (town.feed, "audio"),
        (town.feed, "video"),
    }
    with av.open(str(mp4)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        pictures = [f.to_ndarray(format="gray") for f in c.decode(video=0)]
    with av.open(str(mp4)) as c:
        sound = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert len(pictures) > 25 and pictures[0].shape == (240, 320)
    assert float(np.std(pictures[-1])) > 5  # a picture, not a blank
    rms = float(np.sqrt(np.mean(sound.astype(np.float64) ** 2)))
    assert len(sound) > 2 * 48_000 and rms > 0.005, rms  # both tones, mixed
