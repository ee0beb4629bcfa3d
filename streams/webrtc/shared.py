"""One VP8 packet stream per participant, shared by every receiver.

When the hub forwards (`streams.webrtc.forward`), the participant's track already
carries its VP8 packets: they are handed on as they are, and a key frame is asked of
the participant itself (`on_keyframe`: an RTCP PLI from the hub's receiver). Otherwise
(a participant that sent another codec, or forwarding turned off) the frames are
encoded once, as below.

aiortc's `RTCRtpSender` encodes what its track returns when that is a frame, but only
packetizes it (`Vp8Encoder.pack`) when it is an `av.Packet`. `SharedVp8` pulls the
decoded frames of one participant, encodes them with libvpx once (realtime, CBR, the
settings of aiortc's own `Vp8Encoder`) on a worker thread, and hands each packet to
every `PacketTrack` subscribed to it: N participants cost N encodes instead of N·(N−1).

Each subscriber has a short queue. A new subscriber, and one whose queue overflowed
(a slow connection), waits for the next key frame, which is asked for at once, so a
receiver never decodes a packet whose reference it missed. Key frames also come every
`KEYFRAME_EVERY_S` for receivers whose packets were lost on the network (the sender
cannot ask this encoder for one on a PLI).

Only for VP8 receivers (the default of the pages and `StarClient`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)

BITRATE = 1_000_000
KEYFRAME_EVERY_S = 2.0
QUEUE = 30
REASK_S = 0.5  # a receiver still waiting for a forwarded key frame asks again
VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)


def vp8_context(width: int, height: int, bitrate: int = BITRATE) -> Any:
    """A libvpx encoder with aiortc's realtime settings."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height = width, height
    codec.bit_rate = bitrate
    codec.pix_fmt = "yuv420p"
    codec.time_base = VIDEO_TIME_BASE
    codec.gop_size = 3000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {
        "bufsize": str(bitrate),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bitrate),
        "maxrate": str(bitrate),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    codec.thread_count = 1
    return codec


class PacketTrack(MediaStreamTrack):
    """One receiver's view of a `SharedVp8`: encoded packets, from a key frame on."""

    kind = "video"

    def __init__(self, owner: SharedVp8) -> None:
        super().__init__()
        self._owner = owner
        self._queue: asyncio.Queue[av.Packet[Any] | None] = asyncio.Queue(QUEUE)
        self.waiting_key = True
        self.dropped = 0

    def put(self, packet: av.Packet[Any], key: bool) -> None:
        if self.waiting_key:
            if not key:
                return
            self.waiting_key = False
        try:
            self._queue.put_nowait(packet)
        except asyncio.QueueFull:  # a slow receiver: start again at the next key frame
            self.dropped += self._queue.qsize()
            while not self._queue.empty():
                self._queue.get_nowait()
            self.waiting_key = True
            self._owner.request_keyframe()

    def end(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        return packet

    def stop(self) -> None:
        super().stop()
        self._owner.unsubscribe(self)


class SharedVp8:
    """Encodes `source` (decoded video frames) once for all its `subscribe()`rs."""

    def __init__(
        self,
        source: MediaStreamTrack,
        bitrate: int = BITRATE,
        on_keyframe: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.bitrate = bitrate
        self._on_keyframe = on_keyframe
        self._asked = 0.0
        self._subs: list[PacketTrack] = []
        self._task: asyncio.Task[None] | None = None
        self._codec: Any = None
        self._size: tuple[int, int] | None = None
        self._want_key = True
        self._last_key = 0.0
        self._last_pts = -1
        self.encoded = 0
        self.forwarded = 0

    def subscribe(self) -> PacketTrack:
        t = PacketTrack(self)
        self._subs.append(t)
        self.request_keyframe()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        return t

    def unsubscribe(self, t: PacketTrack) -> None:
        if t in self._subs:
            self._subs.remove(t)

    def request_keyframe(self) -> None:
        self._want_key = True
        self._asked = time.monotonic()
        if self._on_keyframe is not None:
            try:
                self._on_keyframe()
            except Exception:
                log.exception("key frame request failed")

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        for t in list(self._subs):
            t.end()
        self._subs.clear()
        self.source.stop()

    def _encode(self, frame: av.VideoFrame, key: bool) -> list[av.Packet[Any]]:
        size = (frame.width, frame.height)
        if self._codec is None or size != self._size:
            self._codec = vp8_context(*size, self.bitrate)
            self._size = size
            key = True
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p", threads=1)
        pts = int(frame.pts or 0)
        if frame.time_base != VIDEO_TIME_BASE:
            pts = int(pts * (frame.time_base or VIDEO_TIME_BASE) / VIDEO_TIME_BASE)
        if pts <= self._last_pts:
            return []  # libvpx needs rising timestamps: drop a duplicate
        self._last_pts = pts
        # the frame is shared with the recorder's tap; neither field matters to it
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        frame.pict_type = av.video.frame.PictureType.I if key else av.video.frame.PictureType.NONE
        packets = list(self._codec.encode(frame))
        for p in packets:
            p.pts, p.time_base = pts, VIDEO_TIME_BASE
        return packets

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await self.source.recv()
            except MediaStreamError:
                break
            if not self._subs:
                continue
            now = time.monotonic()
            if isinstance(frame, av.Packet):  # forwarded as the participant sent it
                packets = [frame]
                self.forwarded += 1
                if (
                    not frame.is_keyframe
                    and any(t.waiting_key for t in self._subs)
                    and now - self._asked >= REASK_S
                ):
                    self.request_keyframe()  # the last request (a PLI) may have been lost
            elif isinstance(frame, av.VideoFrame):
                key = self._want_key or now - self._last_key >= KEYFRAME_EVERY_S
                self._want_key = False
                try:
                    packets = await loop.run_in_executor(None, self._encode, frame, key)
                except (ValueError, av.FFmpegError) as exc:
                    log.warning("shared VP8 encode failed: %s", exc)
                    continue
                if packets:
                    self.encoded += 1  # frames encoded here; forwarded packets are not
            else:
                continue
            for p in packets:
                is_key = bool(p.is_keyframe)
                if is_key:
                    self._last_key = now
                for t in list(self._subs):
                    t.put(p, is_key)
        for t in list(self._subs):
            t.end()
