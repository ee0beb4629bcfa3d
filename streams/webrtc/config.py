"""aiortc building blocks shared by mediation (issue 5) and the roll call.

- ICE configuration: `IceServer`, `parse_ice_servers` (the `--ice-servers` text),
  `rtc_configuration` (empty list: host candidates only, no STUN query; `relay_only`:
  iceTransportPolicy "relay"). `IcePlan` is what one peer connection gets (its servers,
  relay only or not) and `IceSource` makes one per person name, so each connection can
  carry freshly minted TURN credentials (`dispatch.hub.turn`); `static_ice` is the
  source of fixed servers.
- Loopback: `restrict_host_addresses(["127.0.0.1"])` makes aioice gather only the given
  host addresses (aioice skips loopback by default); `keep_candidates(sdp, hosts)` drops
  the other candidates of a remote description. Tests and benchmarks use both so all
  media stays on 127.0.0.1.
- `SlotTrack`: a track whose source can be switched at run time without renegotiation
  (the hub's star relays a participant into a fixed slot of every other peer
  connection); it re-stamps timestamps so a switch never jumps backwards.
- `SyntheticCamera` / `ToneSource`: the demo hall camera (moving picture with a name
  and a clock) and microphone (a quiet tone), at a chosen size and rate.
- `audio_level(frame)`: RMS level 0..1 of an audio frame (who is speaking).
"""

from __future__ import annotations

import asyncio
import fractions
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import av
import numpy as np
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCIceTransportPolicy
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.labels import draw_label

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
AUDIO_RATE = 48_000
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)


class IceConfigError(ValueError):
    pass


@dataclass(frozen=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def as_dict(self) -> dict[str, object]:
        """For the browser's RTCPeerConnection({iceServers: [...]})."""
        d: dict[str, object] = {"urls": list(self.urls)}
        if self.username is not None:
            d["username"] = self.username
        if self.credential is not None:
            d["credential"] = self.credential
        return d


_URL = re.compile(r"^(stun|stuns|turn|turns):[^\s,]+$")


def parse_ice_servers(text: str) -> list[IceServer]:
    """`stun:host:3478,turn:user:pass@host:3478?transport=udp` → servers ("" → none).

    A TURN entry carries its credentials as `user:pass@`; anything else is an error
    naming the entry."""
    out: list[IceServer] = []
    for raw in (p.strip() for p in text.split(",")):
        if not raw:
            continue
        scheme, _, rest = raw.partition(":")
        if "@" in rest and scheme in ("turn", "turns"):
            cred, _, host = rest.rpartition("@")
            user, sep, password = cred.partition(":")
            if not sep or not user:
                raise IceConfigError(f"ICE server {raw!r}: credentials must be user:pass@host")
            url = f"{scheme}:{host}"
            if not _URL.match(url):
                raise IceConfigError(f"ICE server {raw!r}: not a stun:/turn: URL")
            out.append(IceServer((url,), user, password))
            continue
        if not _URL.match(raw):
            raise IceConfigError(f"ICE server {raw!r}: not a stun:/turn: URL")
        if scheme in ("turn", "turns"):
            raise IceConfigError(f"ICE server {raw!r}: TURN needs user:pass@host")
        out.append(IceServer((raw,)))
    return out


def rtc_configuration(
    servers: Sequence[IceServer], *, relay_only: bool = False
) -> RTCConfiguration:
    """Max-bundle: with aiortc's default (balanced) policy the 2nd, 3rd … video m-line
    of an offer keeps a transport that never connects (aiortc 1.16 marks it bundled to
    the first video's pre-bundle transport), so no RTP leaves those slots.

    `relay_only`: iceTransportPolicy "relay" (only TURN relay candidates are gathered;
    aiortc uses only the first TURN server of the list)."""
    return RTCConfiguration(
        bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        iceTransportPolicy=RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL,
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in servers
        ],
    )


@dataclass(frozen=True)
class IcePlan:
    """The ICE servers of one peer connection and whether it may use relays only."""

    servers: tuple[IceServer, ...] = ()
    relay_only: bool = False
    expires_at: datetime | None = None  # of minted TURN credentials (None: none minted)

    def configuration(self) -> RTCConfiguration:
        """For an aiortc RTCPeerConnection."""
        return rtc_configuration(self.servers, relay_only=self.relay_only)

    def browser(self) -> dict[str, object]:
        """For the browser's RTCPeerConnection(...): iceServers and iceTransportPolicy."""
        return {
            "iceServers": [s.as_dict() for s in self.servers],
            "iceTransportPolicy": "relay" if self.relay_only else "all",
        }


def plan_from_browser(data: object) -> IcePlan:
    """A plan from the browser form (`IcePlan.browser()`, the pages' `…/ice` JSON);
    IceConfigError when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("iceServers"), list):
        raise IceConfigError("not an ICE configuration")
    servers = []
    for s in data["iceServers"]:
        urls = s.get("urls") if isinstance(s, dict) else None
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise IceConfigError("an ICE server without urls")
        user, cred = s.get("username"), s.get("credential")
        servers.append(
            IceServer(
                tuple(urls),
                user if isinstance(user, str) else None,
                cred if isinstance(cred, str) else None,
            )
        )
    return IcePlan(tuple(servers), data.get("iceTransportPolicy") == "relay")


IceSource = Callable[[str], IcePlan]
"""Person or peer name → a plan with fresh credentials (call it for each connection)."""


def static_ice(servers: Sequence[IceServer] = (), relay_only: bool = False) -> IceSource:
    """The source that always gives the same servers (no minted credentials)."""
    plan = IcePlan(tuple(servers), relay_only)
    return lambda _name: plan


_restricted: list[str] | None = None


def restrict_host_addresses(hosts: Sequence[str] | None) -> None:
    """Make aioice gather host candidates only on `hosts` (None: its default again).

    Process-wide (aioice has no per-connection option): the hub calls it once from its
    configuration, tests and benchmarks with ["127.0.0.1"]."""
    global _restricted
    import aioice.ice

    orig = getattr(aioice.ice, "_hall_orig_get_host_addresses", None)
    if orig is None:
        orig = aioice.ice.get_host_addresses
        aioice.ice._hall_orig_get_host_addresses = orig  # type: ignore[attr-defined]
    if hosts is None:
        aioice.ice.get_host_addresses = orig
        _restricted = None
        return
    fixed = list(hosts)
    _restricted = fixed

    def only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [h for h in fixed if (":" in h and use_ipv6) or (":" not in h and use_ipv4)]

    aioice.ice.get_host_addresses = only


def restricted_hosts() -> list[str] | None:
    return None if _restricted is None else list(_restricted)


def keep_candidates(sdp: str, hosts: Sequence[str] | None) -> str:
    """Drop `a=candidate` lines whose address is not in `hosts` (None: keep all)."""
    if not hosts:
        return sdp
    allowed = set(hosts)
    lines = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) > 4 and parts[4] not in allowed:
                continue
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def audio_level(frame: av.AudioFrame) -> float:
    """RMS of an s16 frame, 0..1."""
    arr = frame.to_ndarray()
    if arr.size == 0:
        return 0.0
    if arr.dtype != np.int16:
        return float(min(1.0, np.sqrt(np.mean(np.square(arr.astype(np.float32))))))
    return float(np.sqrt(np.mean(np.square(arr.astype(np.float32)))) / 32768.0)


# -- tracks ------------------------------------------------------------------------------


@dataclass
class _SlotState:
    source: MediaStreamTrack | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class SlotTrack(MediaStreamTrack):
    """A switchable track: `set_source(track or None)`; recv() waits while empty.

    Frames pass unchanged (they are shared with the other subscribers of the relay), so
    the timestamps are the source's: a switch of source is a jump the receiver's jitter
    buffer absorbs like a new stream."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._st = _SlotState()
        self.frames = 0

    @property
    def source(self) -> MediaStreamTrack | None:
        return self._st.source

    def set_source(self, track: MediaStreamTrack | None) -> None:
        self._st.source = track
        self._st.changed.set()

    async def recv(self) -> av.VideoFrame | av.AudioFrame | av.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            src = self._st.source
            if src is None or src.readyState != "live":
                self._st.changed.clear()
                await self._st.changed.wait()
                continue
            recv = asyncio.ensure_future(src.recv())
            switched = asyncio.ensure_future(self._st.changed.wait())
            self._st.changed.clear()
            try:
                done, _ = await asyncio.wait({recv, switched}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                # also when this recv() is cancelled (the sender stops at the end of a
                # call): `asyncio.wait` leaves its tasks running, and the hub logged
                # "Task was destroyed but it is pending!" for each at the next collection
                switched.cancel()
                if not recv.done():
                    recv.cancel()
            if recv not in done:
                continue
            try:
                frame = recv.result()
            except MediaStreamError:
                if self._st.source is src:
                    self._st.source = None
                continue
            assert isinstance(frame, av.VideoFrame | av.AudioFrame | av.Packet)
            return self._restamp(frame)

    def _restamp(
        self, frame: av.VideoFrame | av.AudioFrame | av.Packet[Any]
    ) -> av.VideoFrame | av.AudioFrame | av.Packet[Any]:
        # The frame object is shared by every subscriber of the relay: it must not be
        # changed here (a per-slot timestamp written into it reached the other slots'
        # encoders and made Chromium drop a rejoined participant's video as too old).
        self.frames += 1
        return frame


class ClockTrack(MediaStreamTrack):
    """Puts a participant's incoming track on the room's clock, once, before the relay.

    Every subscriber then sees the same timestamps, and a participant who rejoins (a new
    source) continues on the same clock instead of jumping backwards, which made
    Chromium drop the rejoined video as too old. Video: room time in 90 kHz; audio: the
    room time at the first frame plus the samples since. Forwarded packets
    (`streams.webrtc.forward`): video stamped like a picture, Opus at the room time of
    the first packet plus the RTP clock since."""

    def __init__(self, source: MediaStreamTrack, t0: float) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self._t0 = t0
        self._audio_pts: int | None = None
        self._first_rtp = 0

    async def recv(self) -> av.VideoFrame | av.AudioFrame | av.Packet[Any]:
        frame = await self.source.recv()
        now = time.monotonic() - self._t0
        if isinstance(frame, av.Packet) and self.kind == "audio":  # forwarded Opus
            if self._audio_pts is None:
                self._audio_pts = int(now * AUDIO_RATE)
                self._first_rtp = int(frame.pts or 0)
            frame.pts = self._audio_pts + int(frame.pts or 0) - self._first_rtp
            frame.time_base = AUDIO_TIME_BASE
            return frame
        if isinstance(frame, av.AudioFrame):
            rate = frame.sample_rate
            if self._audio_pts is None:
                self._audio_pts = int(now * rate)
            frame.pts = self._audio_pts
            frame.time_base = fractions.Fraction(1, rate)
            self._audio_pts += frame.samples
            return frame
        assert isinstance(frame, av.VideoFrame | av.Packet)  # a packet: forwarded VP8
        frame.pts = int(now * VIDEO_CLOCK)
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()


class SyntheticCamera(MediaStreamTrack):
    """The demo hall camera: a moving gradient and bar, the label and a clock."""

    kind = "video"

    def __init__(self, label: str, width: int = 640, height: int = 480, fps: int = 25) -> None:
        super().__init__()
        self.label = label
        self.width, self.height, self.fps = width, height, fps
        self._start: float | None = None
        self._n = 0
        ys = np.linspace(0, 255, height, dtype=np.float32)[:, None]
        xs = np.linspace(0, 255, width, dtype=np.float32)[None, :]
        self._base = np.stack(
            [np.broadcast_to(xs, (height, width)), np.broadcast_to(ys, (height, width))], axis=-1
        ).astype(np.uint8)

    def picture(self, n: int) -> np.ndarray:
        h, w = self.height, self.width
        img = np.empty((h, w, 3), dtype=np.uint8)
        img[:, :, 0] = self._base[:, :, 0] // 2 + 40
        img[:, :, 1] = self._base[:, :, 1] // 3 + 60
        img[:, :, 2] = (n * 3) % 256 // 2 + 60
        x = (n * 8) % w
        img[:, x : x + max(8, w // 40)] = (255, 255, 255)
        draw_label(img, self.label, 16, 16, size=max(14, h // 16))  # Chinese names too
        _text(img, time.strftime("%H:%M:%S") + f" #{n}", (20, h - 24), 0.8)
        return img

    @property
    def made(self) -> int:
        """Frames made so far (benchmarks compare it with what the far end received)."""
        return self._n

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._n / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        # yuv420p here, single-threaded: aiortc's encoders would otherwise convert it
        # with PyAV's default (a swscale thread pool per thread, which hung at exit)
        frame = av.VideoFrame.from_ndarray(self.picture(self._n), format="bgr24").reformat(
            format="yuv420p", threads=1
        )
        frame.pts = int(self._n * VIDEO_CLOCK / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        self._n += 1
        return frame


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float) -> None:
    """ASCII text with OpenCV (the clock: fast); labels use `draw_label` (CJK font)."""
    import cv2

    safe = "".join(c if ord(c) < 128 else "#" for c in text)
    cv2.putText(img, safe, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(img, safe, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)


class ToneSource(MediaStreamTrack):
    """The demo hall microphone: a quiet 440 Hz tone that pulses (so a level shows)."""

    kind = "audio"

    def __init__(self, freq: float = 440.0, samples: int = 960) -> None:
        super().__init__()
        self.freq = freq
        self.samples = samples
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._pts / AUDIO_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (np.arange(self.samples) + self._pts) / AUDIO_RATE
        envelope = 0.5 + 0.5 * math.sin(2 * math.pi * 0.5 * self._pts / AUDIO_RATE)
        wave = (0.2 * envelope * np.sin(2 * np.pi * self.freq * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._pts
        frame.time_base = AUDIO_TIME_BASE
        self._pts += self.samples
        return frame
