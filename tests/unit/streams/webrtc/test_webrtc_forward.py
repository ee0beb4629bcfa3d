"""Forwarded VP8 (the hub's star without decoding): key frames recognised from the
bitstream, the packets handed on to every receiver as they came, a receiver that starts
late asks the sender for a key frame, and pictures again for those who need them."""

from __future__ import annotations

import asyncio
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import SyntheticCamera
from streams.webrtc.forward import DecodingTrack, is_vp8_keyframe, vp8_packet
from streams.webrtc.shared import SharedVp8, vp8_context


def encode(n: int, key_every: int = 0) -> list[bytes]:
    """`n` VP8 frames of the synthetic camera (key frames only when asked)."""
    cam = SyntheticCamera("转发", 160, 120)
    codec = vp8_context(160, 120)
    out: list[bytes] = []
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(cam.picture(i), format="bgr24").reformat(
            format="yuv420p"
        )
        frame.pts = i * 3600
        key = i == 0 or (key_every > 0 and i % key_every == 0)
        frame.pict_type = av.video.frame.PictureType.I if key else av.video.frame.PictureType.NONE
        out += [bytes(p) for p in codec.encode(frame)]
    return out


class PacketSource(MediaStreamTrack):
    """What a forwarding receiver yields: VP8 packets, then the end."""

    kind = "video"

    def __init__(self, frames: list[bytes], start: int = 0, interval_s: float = 0.002) -> None:
        super().__init__()
        self._frames = frames
        self._interval = interval_s
        self._i = start

    async def recv(self) -> av.Packet[Any]:
        await asyncio.sleep(self._interval)
        if self._i >= len(self._frames):
            self.stop()
            raise MediaStreamError
        data = self._frames[self._i]
        self._i += 1
        return vp8_packet(data, self._i * 3600)


def test_key_frames_are_recognised_from_the_bitstream() -> None:
    frames = encode(12, key_every=5)
    keys = [i for i, f in enumerate(frames) if is_vp8_keyframe(f)]
    assert keys == [0, 5, 10]
    assert not is_vp8_keyframe(b"")
    assert not is_vp8_keyframe(b"\x00\x00\x00\x00\x00\x00")  # no start code
    p = vp8_packet(frames[0], 7200)
    assert p.is_keyframe and p.pts == 7200 and p.time_base is not None
    assert not vp8_packet(frames[1], 10800).is_keyframe


def test_shared_stream_forwards_packets_untouched_and_asks_for_key_frames() -> None:
    async def body() -> None:
        frames = encode(60, key_every=20)
        asked: list[int] = []
        # the source starts in the middle of a GOP, as a receiver joining late sees it
        # at 25 fps: 17 packets before the key frame take longer than REASK_S
        src = PacketSource(frames, start=3, interval_s=0.04)
        shared = SharedVp8(src, on_keyframe=lambda: asked.append(1))
        a = shared.subscribe()
        assert asked  # a new receiver asks the sender at once
        got: list[bytes] = []
        while True:
            try:
                got.append(bytes(await asyncio.wait_for(a.recv(), 5.0)))
            except MediaStreamError:
                break
        assert got[0] == frames[20]  # waited for the next key frame ...
        assert got == frames[20:]  # ... then every packet exactly as it came
        assert shared._codec is None  # nothing was encoded
        assert shared.forwarded == len(frames) - 3
        assert len(asked) >= 2  # asked again while it waited (a PLI may be lost)

    asyncio.run(asyncio.wait_for(body(), 30))


def test_decoding_track_starts_at_a_key_frame_and_asks_for_one() -> None:
    async def body() -> None:
        frames = encode(30, key_every=10)
        asked: list[int] = []
        dec = DecodingTrack(PacketSource(frames, start=2), on_keyframe=lambda: asked.append(1))
        pictures = []
        while True:
            try:
                pictures.append(await asyncio.wait_for(dec.recv(), 5.0))
            except MediaStreamError:
                break
        assert dec.skipped == 8 and len(asked) == 8  # packets 2..9 cannot be decoded
        assert len(pictures) == 20 == dec.decoded
        assert all(isinstance(p, av.VideoFrame) and p.width == 160 for p in pictures)
        pts = [p.pts for p in pictures]
        assert pts == sorted(pts)

    asyncio.run(asyncio.wait_for(body(), 30))
