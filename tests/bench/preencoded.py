"""A camera track that sends VP8 encoded once, before the call (benchmarks only).

A benchmark of the hub's star wants several senders, but each aiortc sender encoding a
640x480 camera costs a quarter of a core: on a 2-core machine the senders, not the hub
or the receivers, would decide the figures. `encode_loop` encodes a few seconds of the
synthetic hall camera (`SyntheticCamera.picture`) once; `PreEncodedCamera` then hands
those packets to aiortc, which packetizes pre-encoded data without encoding it
(`RTCRtpSender` packs an `av.Packet` as it is), paced at the frame rate and looped.
A key frame opens every second (`gop = fps`), so a receiver that asks for one (PLI)
gets it within a second, and the loop restarts on a key frame.
"""

from __future__ import annotations

import asyncio
import fractions
import time

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import SyntheticCamera

VIDEO_CLOCK = fractions.Fraction(1, 90_000)


def encode_loop(
    label: str, width: int, height: int, fps: int = 25, seconds: int = 2, kbps: int = 600
) -> list[bytes]:
    """`seconds` of the synthetic camera as VP8 frames (one key frame per second)."""
    cam = SyntheticCamera(label, width, height, fps)
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base = fractions.Fraction(1, fps)
    enc.framerate = fractions.Fraction(fps, 1)
    enc.bit_rate = kbps * 1000
    enc.gop_size = fps
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out: list[bytes] = []
    for n in range(fps * seconds):
        frame = av.VideoFrame.from_ndarray(cam.picture(n), format="bgr24").reformat(
            format="yuv420p"
        )
        frame.pts = n
        out += [bytes(p) for p in enc.encode(frame)]
    out += [bytes(p) for p in enc.encode(None)]
    if len(out) != fps * seconds:
        raise RuntimeError(f"VP8 encoder gave {len(out)} frames for {fps * seconds}")
    return out


class PreEncodedCamera(MediaStreamTrack):
    """Sends `frames` (VP8, from `encode_loop`) at `fps`, looping; counts what it sent."""

    kind = "video"

    def __init__(self, frames: list[bytes], fps: int = 25) -> None:
        super().__init__()
        self.frames, self.fps = frames, fps
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.sent / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pkt = av.Packet(self.frames[self.sent % len(self.frames)])
        pkt.pts = round(self.sent * 90_000 / self.fps)
        pkt.time_base = VIDEO_CLOCK
        self.sent += 1
        return pkt
