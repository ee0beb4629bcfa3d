"""The meetings' media engine against a real Janus in the hub's namespace: two aiortc
participants (a township on the public side, the county console on the LAN) publish and
receive each other through a room the engine made; a wrong PIN, an unknown token and a
revoked one are refused; a locked room admits nobody new; Janus killed mid-room is
started again by the engine, the room is recreated with the same number, PIN and tokens,
and both peers rejoin and receive again by themselves within 10 s. A recorded room
becomes one MP4 with picture and sound, and one cut by its floor: the convenor alone,
then the convenor and the township that has the floor side by side, both voices."""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from dispatch.meetings.janus.recording import finish_recording, tracks
from dispatch.meetings.media import MediaError, RecordingCut, RoomTicket
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


def sending(loop: NsLoop, p: JanusPeer, timeout_s: float = 90) -> None:
    """Until the peer's sending connection is up (a loaded machine takes a while): the
    recording's length is counted from then."""

    async def up() -> None:
        for _ in range(int(timeout_s * 10)):
            pc = p.publisher_pc
            if pc is not None and pc.connectionState == "connected":
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{p.display} never sent")

    loop.run(up(), timeout=timeout_s + 5)


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
        sending(county_loop, county)
        sending(town_loop, town)
        time.sleep(5)  # > 2 s of sound even when a loaded machine starts the voices late
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


class Colour(MediaStreamTrack):
    """A camera that shows one colour (told apart in the recording by its pixels)."""

    kind = "video"

    def __init__(self, rgb: tuple[int, int, int], fps: int = 15) -> None:
        super().__init__()
        self.picture = np.full((240, 320, 3), rgb, np.uint8)
        self.fps = fps
        self.n = 0
        self.start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        self.start = self.start or time.monotonic()
        await asyncio.sleep(max(0.0, self.start + self.n / self.fps - time.monotonic()))
        frame = av.VideoFrame.from_ndarray(self.picture, format="rgb24")
        frame.pts, frame.time_base = self.n * 90_000 // self.fps, fractions.Fraction(1, 90_000)
        self.n += 1
        return frame


def spectrum_peak(sound: np.ndarray, hz: float) -> float:
    """The magnitude around `hz` against the median of the spectrum."""
    mag = np.abs(np.fft.rfft(sound.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(sound), 1 / 48_000)
    near = mag[(freqs > hz - 15) & (freqs < hz + 15)]
    return float(near.max() / (np.median(mag) + 1e-9))


def test_recording_cut_by_the_floor(
    janus_server: JanusServer, town_loop: NsLoop, county_loop: NsLoop, tmp_path: Path
) -> None:
    hub = janus_server.hub_loop
    engine = janus_server.engine()
    record = tmp_path / "rec"
    red, blue = (220, 30, 30), (30, 30, 220)
    try:
        hub.run(engine.start())
        opened = engine.open_room("m4", title="调度会", max_publishers=4, record_dir=record)
        ticket = hub.run(opened)
        county = peer(janus_server.lan_url, ticket, hub.run(engine.admit("m4", "c")), "hall")
        town = peer(janus_server.public_url, ticket, hub.run(engine.admit("m4", "t")), "t01")
        county_loop.run(county.join())
        county_loop.run(county.publish(video=Colour(red), audio=ToneSource(440.0)))
        town_loop.run(town.join())
        town_loop.run(town.publish(video=Colour(blue), audio=ToneSource(1000.0)))
        sending(county_loop, county)
        sending(town_loop, town)
        time.sleep(3)
        floor_at = time.time()  # the floor given to t01 (the log's clock: wall time)
        time.sleep(3)
        county_loop.run(county.leave())
        town_loop.run(town.leave())
        hub.run(engine.close_room("m4"))
        cut = RecordingCut(names={county.feed: "hall", town.feed: "t01"}, floor=[(floor_at, "t01")])
        mp4, digest = finish_recording(record, cut=cut)
    finally:
        hub.run(engine.stop())
    assert digest == hashlib.sha256(mp4.read_bytes()).hexdigest()
    t0 = min(t.start_us for t in tracks(record)) / 1e6
    before, after = [], []
    with av.open(str(mp4)) as c:
        for f in c.decode(video=0):
            t = t0 + float(f.time or 0.0)
            rgb = f.to_ndarray(format="rgb24")
            if t < floor_at - 0.5:
                before.append(rgb)
            elif t > floor_at + 0.5:
                after.append(rgb)
    with av.open(str(mp4)) as c:
        sound = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert len(before) > 10 and len(after) > 10, (len(before), len(after))
    w = before[-1].shape[1]
    mid = before[-1][270, w // 2].astype(int)  # the convenor alone, full size
    assert mid[0] > 150 and mid[2] < 100, mid
    left, right = after[-1][270, w // 4].astype(int), after[-1][270, 3 * w // 4].astype(int)
    assert left[0] > 150 and left[2] < 100, left  # the convenor on the left
    assert right[2] > 150 and right[0] < 100, right  # the township with the floor beside it
    assert spectrum_peak(sound, 440.0) > 20 and spectrum_peak(sound, 1000.0) > 20  # both voices
