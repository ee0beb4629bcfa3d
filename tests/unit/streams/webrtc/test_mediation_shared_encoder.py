"""The hub's shared VP8 encoder: one encode per sender, the same packets for every
receiver, each receiver starting at a key frame (also one who subscribes late or falls
behind), and the packets decode with libvpx."""

from __future__ import annotations

import asyncio
from typing import Any

import av

from streams.webrtc.config import SyntheticCamera
from streams.webrtc.shared import QUEUE, PacketTrack, SharedVp8


def decode_all(packets: list[av.Packet[Any]]) -> int:
    dec = av.CodecContext.create("libvpx", "r")
    n = 0
    for p in packets:
        n += len(dec.decode(p))
    return n


async def take(track: PacketTrack, n: int) -> list[av.Packet[Any]]:
    return [await asyncio.wait_for(track.recv(), 5.0) for _ in range(n)]


def test_one_encode_feeds_all_receivers_from_a_key_frame() -> None:
    async def body() -> None:
        cam = SyntheticCamera("测试", 320, 240, fps=50)
        shared = SharedVp8(cam)
        a, b = shared.subscribe(), shared.subscribe()
        got_a, got_b = await asyncio.gather(take(a, 20), take(b, 20))
        assert got_a[0].is_keyframe and got_b[0].is_keyframe
        assert [bytes(p) for p in got_a] == [bytes(p) for p in got_b]  # the same packets
        assert 20 <= shared.encoded < 20 + QUEUE  # one encode per frame, not per receiver
        pts = [int(p.pts or 0) for p in got_a]
        assert pts == sorted(pts) and len(set(pts)) == len(pts)
        late = shared.subscribe()  # asks for a key frame: starts with one soon
        got_late = await take(late, 5)
        assert got_late[0].is_keyframe
        assert decode_all(got_a) == 20 and decode_all(got_late) == 5
        shared.stop()

    asyncio.run(asyncio.wait_for(body(), 30))


def test_a_receiver_that_falls_behind_restarts_at_a_key_frame() -> None:
    async def body() -> None:
        cam = SyntheticCamera("慢", 160, 120, fps=100)
        shared = SharedVp8(cam)
        slow, fast = shared.subscribe(), shared.subscribe()
        await take(fast, QUEUE + 10)  # slow reads nothing meanwhile: its queue overflows
        assert slow.dropped > 0
        again = await take(slow, 4)
        # what it gets after the overflow begins at a key frame and decodes
        assert again[0].is_keyframe
        assert decode_all(again) == 4
        shared.stop()
        assert cam.readyState == "ended"

    asyncio.run(asyncio.wait_for(body(), 30))
