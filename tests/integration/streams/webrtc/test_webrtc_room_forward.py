"""The hub's room forwards video without decoding it, with real aiortc peers on loopback.

Three participants (aiortc peers with the synthetic camera, as the console's
`StarClient` offers: its camera `sendonly` plus receive-only slots) join a `Room` in
this process. Each receives the others' pictures while the room never encodes video; a
participant who joins late gets pictures at once although the senders' encoders make
key frames only on request (their GOP is 3000 frames): the room asked them (RTCP PLI);
a receiver's own request for a key frame reaches the sender through the room; the
recorder's tap gets decoded pictures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aioice.ice
import av
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import (
    SyntheticCamera,
    ToneSource,
    keep_candidates,
    restrict_host_addresses,
    rtc_configuration,
)
from streams.webrtc.forward import DecodingTrack
from streams.webrtc.room import Room
from streams.webrtc.shared import PacketTrack
from tests.kit import async_wait_until

pytestmark = pytest.mark.integration

LOOPBACK = ["127.0.0.1"]


@dataclass
class Party:
    name: str
    pc: RTCPeerConnection
    camera: SyntheticCamera
    frames: dict[str, int] = field(default_factory=dict)  # mid → decoded pictures
    sound: dict[str, int] = field(default_factory=dict)  # mid → decoded audio frames
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def seen(self) -> int:
        return sum(1 for n in self.frames.values() if n > 0)


async def pull(party: Party, mid: str, track: MediaStreamTrack) -> None:
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if isinstance(frame, av.VideoFrame):
            party.frames[mid] = party.frames.get(mid, 0) + 1
        elif isinstance(frame, av.AudioFrame):
            party.sound[mid] = party.sound.get(mid, 0) + 1


async def join(room: Room, name: str, slots: int = 2, audio: bool = False) -> Party:
    pc = RTCPeerConnection(rtc_configuration([]))
    cam = SyntheticCamera(name, 320, 240, fps=25)
    party = Party(name, pc, cam)
    pc.addTransceiver(cam, direction="sendonly")
    if audio:
        pc.addTransceiver(ToneSource(), direction="sendonly")
    for _ in range(slots):
        pc.addTransceiver("video", direction="recvonly")
        if audio:
            pc.addTransceiver("audio", direction="recvonly")

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        mid = next((t.mid for t in pc.getTransceivers() if t.receiver.track is track), "")
        party.tasks.append(asyncio.ensure_future(pull(party, mid or "", track)))

    await pc.setLocalDescription(await pc.createOffer())
    answer = await room.answer(name, pc.localDescription.sdp)
    await pc.setRemoteDescription(
        RTCSessionDescription(sdp=keep_candidates(answer, LOOPBACK), type="answer")
    )
    return party


@contextlib.asynccontextmanager
async def room_of(**kw: bool) -> AsyncIterator[tuple[Room, list[Party]]]:
    restrict_host_addresses(LOOPBACK)
    room = Room("forward-test", keep_hosts=LOOPBACK, **kw)
    parties: list[Party] = []
    try:
        yield room, parties
    finally:
        for p in parties:
            for t in p.tasks:
                t.cancel()
            await p.pc.close()
        await room.close()
        restrict_host_addresses(None)


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 90))  # type: ignore[arg-type]


def test_video_is_forwarded_not_transcoded_and_a_late_joiner_gets_a_key_frame() -> None:
    async def body() -> None:
        async with room_of() as (room, parties):
            assert room.forward
            parties += [await join(room, "a"), await join(room, "b")]
            await async_wait_until(lambda: all(p.seen() == 1 for p in parties), 20)
            await asyncio.sleep(3)  # well past the start: no key frame comes by itself
            requests = room.keyframe_requests
            parties.append(await join(room, "c"))
            await async_wait_until(lambda: all(p.seen() == 2 for p in parties), 20)
            assert room.keyframe_requests > requests  # the late joiner's key frames were asked for
            for who, (_src, shared) in room._shared.items():
                assert shared._codec is None, f"{who}'s video was encoded by the room"
                assert shared.forwarded > 0
                assert shared.encoded == 0, f"forwarded packets of {who} counted as encodes"
            # a stream keeps flowing: well over half the senders' 25 fps at each receiver
            before = {p.name: dict(p.frames) for p in parties}
            await asyncio.sleep(2.0)
            for p in parties:
                for mid, n in p.frames.items():
                    assert n - before[p.name].get(mid, 0) > 20, (p.name, mid)

    run(body())


def test_a_receivers_key_frame_request_reaches_the_sender() -> None:
    async def body() -> None:
        async with room_of() as (room, parties):
            parties += [await join(room, "a", slots=1), await join(room, "b", slots=1)]
            await async_wait_until(lambda: all(p.seen() == 1 for p in parties), 20)
            await asyncio.sleep(0.5)  # past the room's own requests (PLI_MIN_S)
            requests = room.keyframe_requests
            b = parties[1]
            rx = next(t.receiver for t in b.pc.getTransceivers() if t.direction == "recvonly")
            ssrc = rx.getSynchronizationSources()[0].source
            await rx._send_rtcp_pli(ssrc)  # b's decoder lost a picture: PLI to the hub
            await async_wait_until(lambda: room.keyframe_requests > requests, 5)

    run(body())


def test_recorder_tap_gets_pictures() -> None:
    async def body() -> None:
        async with room_of() as (room, parties):
            parties += [await join(room, "a", slots=1), await join(room, "b", slots=1)]
            await async_wait_until(lambda: all(p.seen() == 1 for p in parties), 20)
            tap = room.tap("recorder", "a", "video")
            assert tap is not None
            frames = [await asyncio.wait_for(tap.recv(), 10) for _ in range(10)]
            assert all(isinstance(f, av.VideoFrame) and f.width == 320 for f in frames)
            pts = [f.pts for f in frames]
            assert pts == sorted(pts)

    run(body())


@pytest.mark.parametrize("forward", [True, False])
def test_both_paths_deliver_video(forward: bool) -> None:
    """Forwarding off (HALL_WEBRTC_FORWARD=0): decode + one shared encode, same result."""

    async def body() -> None:
        async with room_of(forward=forward) as (room, parties):
            parties += [await join(room, "a", slots=1), await join(room, "b", slots=1)]
            await async_wait_until(lambda: all(p.seen() == 1 for p in parties), 20)
            for _src, shared in room._shared.values():
                assert (shared._codec is None) == forward

    run(body())


def test_sound_is_forwarded_and_the_recorder_hears_it() -> None:
    async def body() -> None:
        async with room_of() as (room, parties):
            parties += [
                await join(room, "a", slots=1, audio=True),
                await join(room, "b", slots=1, audio=True),
            ]
            await async_wait_until(lambda: all(sum(p.sound.values()) > 25 for p in parties), 20)
            assert all(p.opus for p in room._peers.values())
            for peer in room._peers.values():  # the receivers' sound: relayed packets
                assert not isinstance(peer.proxies[(0, "audio")], DecodingTrack)
                assert isinstance(peer.proxies[(0, "video")], PacketTrack)
            tap = room.tap("recorder", "a", "audio")
            assert tap is not None
            sound = [await asyncio.wait_for(tap.recv(), 10) for _ in range(25)]
            assert all(isinstance(f, av.AudioFrame) and f.sample_rate == 48000 for f in sound)
            level = max(float(abs(f.to_ndarray()).max()) for f in sound)
            assert level > 1000  # the tone, not silence
            pts = [f.pts for f in sound]
            assert pts == sorted(pts) and len(set(pts)) == len(pts)

    run(body())


async def vanish(party: Party) -> None:
    """The party's phone is gone: its ICE sockets close without a word (no DTLS close
    alert, no answer to consent checks), as when a battery dies or a network drops."""
    for t in party.pc.getTransceivers():
        ice = t.sender.transport.transport  # RTCDtlsTransport → RTCIceTransport
        await ice._connection.close()
    for task in party.tasks:
        task.cancel()


def test_a_participant_who_vanishes_or_hangs_up_is_let_go_and_can_join_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A party that vanishes is closed on the hub's side when its ICE consent expires;
    one that hangs up closes at once (a failed connection goes the same way). The room
    lets its receivers, relay copies and encoder go then and there, not when the
    session closes; keeps it listed; the others keep each other and fill its place;
    and it joins again with a new connection."""
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 1.0)  # consent lost in ~9 s, not 30

    async def body() -> None:
        async with room_of() as (room, parties):
            parties += [await join(room, n) for n in ("a", "b", "c", "d")]
            a, _b, c, d = parties
            await async_wait_until(lambda: all(p.seen() == 2 for p in parties), 20)
            assert [s.peer_id for s in room.slot_map("a")] == ["b", "c"]
            hub_c = room._peers["c"].pc
            assert "c" in room._shared
            await vanish(c)
            # its ICE consent expires (~9 s here, ~33 s by default): aiortc closes the
            # hub's connection, and the room lets the rest go
            await async_wait_until(lambda: room.state("c") == "closed", 30)
            states = {n: room.state(n) for n in "abcd"}
            assert hub_c.connectionState == "closed" and room.released == 1, states
            assert room.state("c") == "closed"  # still listed as what happened to it
            assert "c" not in room._shared and room.incoming("c", "video") is None
            assert room.tap("recorder", "c", "video") is None
            assert room.slot_map("c") == []
            assert [s.peer_id for s in room.slot_map("a")] == ["b", "d"]  # d took c's place
            mid_d = room.slot_map("a")[1].video_mid or ""
            seen = a.frames.get(mid_d, 0)
            await async_wait_until(lambda: a.frames.get(mid_d, 0) > seen + 10, 20)

            await d.pc.close()  # d hangs up
            await async_wait_until(lambda: room.state("d") == "closed", 20)
            assert room.released == 2 and "d" not in room._shared
            assert [s.peer_id for s in room.slot_map("a")] == ["b", None]

            parties.append(await join(room, "c"))  # c's phone is back
            await async_wait_until(lambda: room.state("c") == "connected", 20)
            mid_c = next(s.video_mid for s in room.slot_map("a") if s.peer_id == "c") or ""
            before = a.frames.get(mid_c, 0)
            await async_wait_until(lambda: a.frames.get(mid_c, 0) > before + 10, 20)
            await async_wait_until(lambda: parties[-1].seen() == 2, 20)

    run(body())
