"""Simulcast from aiortc without encoding at run time: a pre-encoded VP8 loop in three
layers sent on one video m-line, the way Janus's videoroom takes simulcast by SSRC
(`a=ssrc-group:SIM low mid high`).

aiortc sends one SSRC per sender and has no simulcast. `SimulcastVideo` is the track given
to the sender (its `recv()` never yields: aiortc's own loop sends nothing); the offer is
rewritten (`rewrite_offer`) to announce two more SSRCs in a SIM group, and once the
connection is up `start(sender)` sends every layer itself: the sender's packetizer
(`Vp8Encoder._packetize`), its header-extension map (mid, abs-send-time) and its
transport's `_send_rtp`. Janus's PLI/FIR for any of the three SSRCs reaches the sender
(the extra SSRCs are registered with the transport's router) and sets the flag that
`streams/webrtc/room.py` reads too (docs/aiortc-hooks.md): the loop then starts again at
its key frame. `encode_layers()` makes the loop once (libvpx through PyAV) with a key
frame only at its start; each layer's picture height may carry a mark (`tag`) so that a
receiver can tell publishers apart from the key frame header alone (`vp8_size`).
"""

from __future__ import annotations

import asyncio
import fractions
import random
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint32_add

LAYERS = ((160, 90), (320, 180), (640, 360))  # low, mid, high
BITRATES = (100_000, 300_000, 900_000)
_FID = re.compile(r"^a=ssrc-group:FID (\d+) (\d+)\r?$", re.M)
_KEY_START = b"\x9d\x01\x2a"


def vp8_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) from a VP8 key frame's header (None for an inter frame)."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != _KEY_START:
        return None
    w = int.from_bytes(frame[6:8], "little") & 0x3FFF
    h = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return w, h


def _picture(w: int, h: int, n: int, seed: int) -> av.VideoFrame:
    y = np.arange(h, dtype=np.uint16).reshape(-1, 1)
    x = np.arange(w, dtype=np.uint16).reshape(1, -1)
    luma = ((x * 2 + y + n * 6 + seed * 37) % 256).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(luma), format="gray")
    return frame.reformat(format="yuv420p")


def encode_layers(
    *,
    tag: int = 0,
    frames: int = 25,
    fps: int = 25,
    sizes: tuple[tuple[int, int], ...] = LAYERS,
    bitrates: tuple[int, ...] = BITRATES,
) -> list[list[bytes]]:
    """One loop of `frames` VP8 frames per layer (low → high); a layer's height is its
    nominal height + 2 * tag (publishers tell apart by their key frames)."""
    out: list[list[bytes]] = []
    for (w, h), rate in zip(sizes, bitrates, strict=True):
        h += 2 * tag
        codec = av.CodecContext.create("libvpx", "w")
        codec.width, codec.height, codec.pix_fmt = w, h, "yuv420p"
        codec.bit_rate = rate
        codec.time_base = fractions.Fraction(1, fps)
        codec.gop_size = 10 * frames
        codec.options = {"deadline": "realtime", "cpu-used": "16", "lag-in-frames": "0"}
        layer: list[bytes] = []
        for n in range(frames):
            pic = _picture(w, h, n, tag)
            pic.pts = n
            layer += [bytes(p) for p in codec.encode(pic)]
        layer += [bytes(p) for p in codec.encode(None)]
        out.append(layer[:frames])
    return out


def _add_sim_group(sdp: str, low: int, extra: tuple[int, int]) -> str:
    m = _FID.search(sdp)
    if m is None or int(m.group(1)) != low:
        raise ValueError("no FID group of the video sender in the offer")
    cname = re.search(rf"^a=ssrc:{low} cname:(\S+)", sdp, re.M)
    name = cname.group(1) if cname else "hall"
    eol = "\r\n" if "\r\n" in sdp else "\n"
    lines = [f"a=ssrc-group:SIM {low} {extra[0]} {extra[1]}"]
    lines += [f"a=ssrc:{s} cname:{name}" for s in extra]
    at = m.end()
    return sdp[:at] + eol + eol.join(lines) + sdp[at:]


class SimulcastVideo(MediaStreamTrack):
    kind = "video"

    def __init__(
        self, layers: list[list[bytes]], fps: int = 25, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.layers = layers
        self.fps = fps
        self.clock = clock
        self.ssrcs: tuple[int, int, int] | None = None
        self.sent = 0
        self.keyframes_asked = 0
        self.keyframes_at: deque[float] = deque(maxlen=64)  # clock() when each was sent
        self.send_errors = 0
        self.last_error: str | None = None
        self._extra = (random.getrandbits(32), random.getrandbits(32))
        self._task: asyncio.Task[None] | None = None
        self._never: asyncio.Future[Any] | None = None

    async def recv(self) -> av.VideoFrame:
        self._never = asyncio.get_running_loop().create_future()
        await self._never  # aiortc's own loop never gets a frame: start() sends
        raise asyncio.CancelledError

    def sender_of(self, pc: RTCPeerConnection) -> RTCRtpSender:
        for t in pc.getTransceivers():
            if t.sender.track is self:
                return t.sender
        raise ValueError("this track is not on the connection")

    def rewrite_offer(self, sdp: str, pc: RTCPeerConnection) -> str:
        low = self.sender_of(pc)._ssrc
        self.ssrcs = (low, *self._extra)
        return _add_sim_group(sdp, low, self._extra)

    def start(self, pc: RTCPeerConnection) -> None:
        """After setRemoteDescription: send the layers until stop() or the connection
        closes."""
        if self._task is None:
            codecs = next(t._codecs for t in pc.getTransceivers() if t.sender.track is self)
            pt = next(c.payloadType for c in codecs if c.mimeType.lower() == "video/vp8")
            assert pt is not None
            self._task = asyncio.create_task(self._send(pc, self.sender_of(pc), pt))

    def pause(self) -> None:
        """Stop sending on the current connection (start() again on a new one)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def stop(self) -> None:
        super().stop()
        self.pause()
        if self._never is not None and not self._never.done():
            self._never.cancel()

    async def _send(self, pc: RTCPeerConnection, sender: RTCRtpSender, pt: int) -> None:
        for s in self._extra:
            sender.transport._rtp_router.register_sender(sender, s)
        while pc.connectionState not in ("closed", "failed"):
            if pc.connectionState != "connected":
                await asyncio.sleep(0.02)
                continue
            try:
                await self._send_layers(sender, pt)
            except ConnectionError as e:  # a moment without a connection: go on after it
                self.send_errors += 1
                self.last_error = str(e)
                await asyncio.sleep(0.05)

    async def _send_layers(self, sender: RTCRtpSender, pt: int) -> None:
        assert self.ssrcs is not None
        ext_map = sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
        mid = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        seq = [random.getrandbits(16) for _ in self.ssrcs]
        pic = [random.getrandbits(15) for _ in self.ssrcs]
        ts0 = random.getrandbits(32)
        loop = asyncio.get_running_loop()
        start, n, idx = loop.time(), 0, 0
        while True:
            if getattr(sender, "_RTCRtpSender__force_keyframe", False):
                sender._RTCRtpSender__force_keyframe = False  # type: ignore[attr-defined]
                self.keyframes_asked += 1
                self.keyframes_at.append(self.clock())
                idx = 0
            ts = uint32_add(ts0, n * (90_000 // self.fps))
            for layer, ssrc in enumerate(self.ssrcs):
                payloads = Vp8Encoder._packetize(self.layers[layer][idx], pic[layer])
                pic[layer] = (pic[layer] + 1) % (1 << 15)
                for i, payload in enumerate(payloads):
                    p = RtpPacket(payload_type=pt, sequence_number=seq[layer], timestamp=ts)
                    p.ssrc, p.payload = ssrc, payload
                    p.marker = int(i == len(payloads) - 1)
                    p.extensions.mid = mid
                    p.extensions.abs_send_time = (int(loop.time() * (1 << 18))) & 0xFFFFFF
                    seq[layer] = uint16_add(seq[layer], 1)
                    await sender.transport._send_rtp(p.serialize(ext_map))
            self.sent += 1
            n += 1
            idx = (idx + 1) % len(self.layers[0])
            await asyncio.sleep(max(0.0, start + n / self.fps - loop.time()))
