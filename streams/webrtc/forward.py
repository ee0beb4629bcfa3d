"""Forward received VP8 and Opus without decoding them: the hub's star as a light SFU.

aiortc's `RTCRtpReceiver` always decodes: its `decoder_worker` thread turns each
complete frame out of the jitter buffer into pictures or sound. The hub only passes
them on, so decoding every sender and encoding it again (video once per sender in
`SharedVp8`, audio once per receiver, with aiortc's pure-Python audio level on every
frame sent) was most of its CPU.

`forward_encoded(track)` marks a received track so that its receiver's worker hands on
each complete VP8 or Opus frame as an `av.Packet` (pts in the RTP clock: 90 kHz, 48 kHz;
`is_keyframe` from the VP8 header) instead of decoding it; another codec is still
decoded. aiortc's senders only packetize a packet (`Encoder.pack`). The switch is
`aiortc.rtcrtpreceiver.decoder_worker`, replaced once per process by `install()` with a
worker that looks at the mark of the track's queue for every frame: unmarked tracks
(the console's `StarClient`, a test peer in the same process) decode exactly as before.

`DecodingTrack` turns a forwarded track back into pictures or sound for those that need
them (the recorder, the roll call's snapshot, a receiver that negotiated another
codec); for video it starts at a key frame and asks the sender for one (`on_keyframe`)
when it starts and after a decode error.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)

VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48_000)
_MARK = "_hall_forward"
_VP8_START = b"\x9d\x01\x2a"


# -- pure helpers -------------------------------------------------------------------------------


def is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 §9.1: frame type bit 0 of the frame tag is 0 and the start code follows."""
    return len(data) >= 6 and not data[0] & 0x01 and data[3:6] == _VP8_START


def vp8_packet(data: bytes, timestamp: int) -> av.Packet[Any]:
    """An encoded VP8 frame as PyAV's packet, ready for `Vp8Encoder.pack`."""
    packet = av.Packet(data)
    packet.pts = timestamp
    packet.time_base = VIDEO_TIME_BASE
    packet.is_keyframe = is_vp8_keyframe(data)
    return packet


def opus_packet(data: bytes, timestamp: int) -> av.Packet[Any]:
    """An encoded Opus frame as PyAV's packet (48 kHz clock), for `OpusEncoder.pack`."""
    packet = av.Packet(data)
    packet.pts = timestamp
    packet.time_base = AUDIO_TIME_BASE
    return packet


# -- the receiver's worker ---------------------------------------------------------------------


def forward_encoded(track: MediaStreamTrack) -> bool:
    """Mark a track received by aiortc: its VP8 / Opus frames arrive as packets now.
    False when the track is not aiortc's remote track (nothing marked)."""
    q = getattr(track, "_queue", None)
    if not isinstance(q, asyncio.Queue):
        return False
    setattr(q, _MARK, True)
    return True


def _forwarding_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    """aiortc's `decoder_worker`, except that VP8 and Opus of a marked track are handed
    on as packets."""
    from aiortc.codecs import get_decoder

    codec_name: str | None = None
    decoder: Any = None
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            break
        codec, encoded_frame = task
        items: list[Any]
        name = codec.name.lower()
        if getattr(output_q, _MARK, False) and name in ("vp8", "opus"):
            make = vp8_packet if name == "vp8" else opus_packet
            items = [make(encoded_frame.data, encoded_frame.timestamp)]
        else:
            if codec.name != codec_name:
                decoder = get_decoder(codec)
                codec_name = codec.name
            try:
                items = list(decoder.decode(encoded_frame))
            except av.FFmpegError as exc:
                log.warning("failed to decode %s frame: %s", codec.name, exc)
                decode_error.set()
                continue
        for item in items:
            asyncio.run_coroutine_threadsafe(output_q.put(item), loop)


def install() -> None:
    """Put the forwarding worker in aiortc's receiver (once per process)."""
    import aiortc.rtcrtpreceiver as receiver

    if getattr(receiver, "_hall_forwarding", False):
        return
    receiver._hall_orig_decoder_worker = receiver.decoder_worker  # type: ignore[attr-defined]
    receiver.decoder_worker = _forwarding_worker
    receiver._hall_forwarding = True  # type: ignore[attr-defined]


# -- pictures again, for those who need them -------------------------------------------------


class DecodingTrack(MediaStreamTrack):
    """Pictures or sound of a track that may carry VP8 / Opus packets (decoded frames
    pass unchanged)."""

    def __init__(
        self, source: MediaStreamTrack, on_keyframe: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self._on_keyframe = on_keyframe
        self._codec: Any = None
        self._waiting_key = True
        self.decoded = 0
        self.skipped = 0

    def _ask(self) -> None:
        if self._on_keyframe is not None:
            try:
                self._on_keyframe()
            except Exception:
                log.exception("key frame request failed")

    def _decode(self, packet: av.Packet[Any]) -> list[av.VideoFrame]:
        if self._codec is None:
            self._codec = av.CodecContext.create("libvpx", "r")
        return [f for f in self._codec.decode(packet) if isinstance(f, av.VideoFrame)]

    def _decode_audio(self, packet: av.Packet[Any]) -> list[av.AudioFrame]:
        if self._codec is None:
            from aiortc.codecs.opus import OpusDecoder

            self._codec = OpusDecoder().codec  # s16 stereo 48 kHz, as aiortc decodes
        return [f for f in self._codec.decode(packet) if isinstance(f, av.AudioFrame)]

    async def recv(self) -> av.VideoFrame | av.AudioFrame:
        loop = asyncio.get_running_loop()
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            item = await self.source.recv()
            if isinstance(item, av.VideoFrame | av.AudioFrame):
                return item
            if not isinstance(item, av.Packet):
                continue
            if self.kind == "audio":  # every Opus packet decodes by itself; cheap
                sound = self._decode_audio_packet(item)
                if sound is not None:
                    return sound
                continue
            if self._waiting_key:
                if not item.is_keyframe:
                    self.skipped += 1
                    self._ask()
                    continue
                self._waiting_key = False
            pts, time_base = item.pts, item.time_base
            try:
                frames = await loop.run_in_executor(None, self._decode, item)
            except av.FFmpegError as exc:
                log.info("forwarded VP8 did not decode (%s): waiting for a key frame", exc)
                self._waiting_key = True
                self._ask()
                continue
            if not frames:
                continue
            frame = frames[-1]
            frame.pts, frame.time_base = pts, time_base
            self.decoded += 1
            return frame

    def _decode_audio_packet(self, packet: av.Packet[Any]) -> av.AudioFrame | None:
        pts, time_base = packet.pts, packet.time_base
        try:
            frames = self._decode_audio(packet)
        except av.FFmpegError as exc:
            log.info("forwarded Opus did not decode: %s", exc)
            return None
        if not frames:
            return None
        frame = frames[-1]
        frame.pts, frame.time_base = pts, time_base
        self.decoded += 1
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()
