"""The hub's media centre: a star of aiortc peer connections, one per participant.

Each participant (browser or console) offers ONE peer connection with its own camera
and microphone (`sendonly` from its side) and `slots` receive-only video and audio
transceivers. The room answers every offer from a fresh `RTCPeerConnection` and relays
(aiortc `MediaRelay`) each admitted participant's tracks into a free slot of every other
admitted participant's connection: switching who is in a slot is `SlotTrack.set_source`,
no renegotiation. `slot_map(peer)` says which mid shows whom; `on_change` fires whenever
the map or a connection state changes so the signalling can push it.

A second offer from the same participant (rejoin after a network loss) replaces its
connection; the others' slots are re-fed from the new tracks. Each connection gets its
ICE configuration when it is made: from `ice` (an `IceSource`, asked for
`hub-<peer id>`, so minted TURN credentials are fresh for every connection) or else the
fixed `config`.

Video is forwarded as received (`forward=True`, the default; the hub's config
`webrtc.forward = false` turns it off for a comparison): each participant's VP8 packets go to
its receivers without being decoded or encoded again (`streams.webrtc.forward`,
`SharedVp8`). Key frames are asked of the participant with an RTCP PLI: when a receiver
starts or falls behind, and when a receiver's browser asks the hub for one (a PLI to the
hub's sender, which aiortc only notes; `_pli_loop` hands it on). Those who need
pictures (the recorder, the roll call's snapshot, a receiver with another codec) get a
`DecodingTrack`. Opus is forwarded the same way to every receiver that takes Opus.
The hub announces a steady receive bitrate (`video_bitrate`, REMB) to every
participant instead of aiortc's estimate, which measured the hub's own loop
(`streams.webrtc.remb`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender

from streams.webrtc import forward as webrtc_forward
from streams.webrtc.config import (
    ClockTrack,
    IceSource,
    SlotTrack,
    keep_candidates,
    rtc_configuration,
)
from streams.webrtc.forward import DecodingTrack
from streams.webrtc.remb import DEFAULT_BITRATE, use_steady_remb
from streams.webrtc.shared import SharedVp8

log = logging.getLogger(__name__)

MAX_SLOTS = 8
PLI_MIN_S = 0.3  # at most one key frame request to a participant in this time
PLI_POLL_S = 0.1  # how often the receivers' own requests (PLI to the hub) are looked at
_FORCE_KEY = "_RTCRtpSender__force_keyframe"  # set by aiortc when a PLI arrives


def take_keyframe_request(sender: RTCRtpSender) -> bool:
    """True once when the receiver behind `sender` asked for a key frame (RTCP PLI/FIR).

    aiortc notes the request in a private flag that only its own encoder reads; a
    sender whose track returns forwarded packets would never answer it."""
    if getattr(sender, _FORCE_KEY, False):
        setattr(sender, _FORCE_KEY, False)
        return True
    return False


class RoomError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Peer:
    peer_id: str
    pc: RTCPeerConnection
    video_in: MediaStreamTrack | None = None
    audio_in: MediaStreamTrack | None = None
    video_slots: list[tuple[str, SlotTrack]] = field(default_factory=list)  # (mid, track)
    video_senders: list[RTCRtpSender] = field(default_factory=list)  # of video_slots
    audio_slots: list[tuple[str, SlotTrack]] = field(default_factory=list)
    assigned: list[str | None] = field(default_factory=list)  # slot → other peer id
    proxies: dict[tuple[int, str], MediaStreamTrack] = field(default_factory=dict)
    state: str = "new"
    since: float = field(default_factory=time.monotonic)
    vp8: bool = True  # receives VP8 in every video slot: shared encoded packets
    opus: bool = True  # receives Opus in every audio slot: forwarded packets
    last_pli: float = 0.0
    released: bool = False  # gone (failed or closed): its media let go, its entry kept


@dataclass(frozen=True)
class SlotInfo:
    index: int
    video_mid: str | None
    audio_mid: str | None
    peer_id: str | None


class Room:
    """One media room. Not thread-safe: use it on one asyncio loop."""

    def __init__(
        self,
        room_id: str,
        *,
        config: RTCConfiguration | None = None,
        ice: IceSource | None = None,
        keep_hosts: Sequence[str] | None = None,
        on_change: Callable[[], None] | None = None,
        share_encoding: bool = True,
        forward: bool = True,
        video_bitrate: int = DEFAULT_BITRATE,
    ) -> None:
        self.room_id = room_id
        self._config = config or rtc_configuration([])
        self._ice = ice
        self._keep = list(keep_hosts) if keep_hosts else None
        self._on_change = on_change
        self._relay = MediaRelay()
        self._peers: dict[str, _Peer] = {}
        self._order: list[str] = []  # admitted peers in join order
        self._taps: dict[tuple[str, str, str], MediaStreamTrack] = {}
        # peer id → (its incoming video, the one encoder shared by all its receivers)
        self._shared: dict[str, tuple[MediaStreamTrack, SharedVp8]] = {}
        self.share_encoding = share_encoding
        self.forward = forward and share_encoding
        if self.forward:
            webrtc_forward.install()
        self.video_bitrate = video_bitrate
        self._pli_task: asyncio.Task[None] | None = None
        self.keyframe_requests = 0
        self.released = 0  # gone participants' connections let go (`_release`)
        self._closing: set[asyncio.Future[None]] = set()
        self.closed = False
        self._t0 = time.monotonic()

    # -- queries ----------------------------------------------------------------------------
    def peers(self) -> list[str]:
        return list(self._peers)

    def state(self, peer_id: str) -> str:
        p = self._peers.get(peer_id)
        return "absent" if p is None else p.state

    def slot_map(self, peer_id: str) -> list[SlotInfo]:
        p = self._peers.get(peer_id)
        if p is None:
            return []
        out = []
        for i, who in enumerate(p.assigned):
            vm = p.video_slots[i][0] if i < len(p.video_slots) else None
            am = p.audio_slots[i][0] if i < len(p.audio_slots) else None
            out.append(SlotInfo(i, vm, am, who))
        return out

    def incoming(self, peer_id: str, kind: str) -> MediaStreamTrack | None:
        p = self._peers.get(peer_id)
        if p is None:
            return None
        return p.video_in if kind == "video" else p.audio_in

    # -- participants -----------------------------------------------------------------------
    async def answer(self, peer_id: str, offer_sdp: str) -> str:
        """Answer a participant's offer with a new connection (replacing an old one)."""
        if self.closed:
            raise RoomError("closed", "会话已结束")
        old = self._peers.pop(peer_id, None)
        if old is not None:
            await self._close_peer(old)
        config = self._config if self._ice is None else self._ice(f"hub-{peer_id}").configuration()
        pc = RTCPeerConnection(config)
        peer = _Peer(peer_id, pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and peer.video_in is None:
                if self.forward:
                    webrtc_forward.forward_encoded(track)
                peer.video_in = ClockTrack(track, self._t0)
            elif track.kind == "audio" and peer.audio_in is None:
                if self.forward:
                    webrtc_forward.forward_encoded(track)
                peer.audio_in = ClockTrack(track, self._t0)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if self._peers.get(peer_id) is not peer or peer.released:
                return
            peer.state = pc.connectionState
            peer.since = time.monotonic()
            if pc.connectionState in ("failed", "closed"):
                # gone (it hung up) or lost (its phone vanished: no ICE consent); aiortc
                # cannot restart ICE, so it comes back only with a new connection
                # (`answer`): this one's receivers, decoders and encoder go now, not
                # when the session closes
                self._release(peer)
                self._rewire()
            self._changed()

        sdp = keep_candidates(offer_sdp, self._keep)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            await pc.close()
            raise RoomError("bad_offer", f"无法解析 SDP offer: {exc}") from None
        for t in pc.getTransceivers():
            if t._offerDirection == "sendonly":  # the participant receives here
                t.direction = "sendonly"
                slot = SlotTrack(t.kind)
                t.sender.replaceTrack(slot)
                mid = t.mid or ""
                if t.kind == "video" and len(peer.video_slots) < MAX_SLOTS:
                    peer.video_slots.append((mid, slot))
                    peer.video_senders.append(t.sender)
                elif t.kind == "audio" and len(peer.audio_slots) < MAX_SLOTS:
                    peer.audio_slots.append((mid, slot))
            else:
                t.direction = "recvonly"
                use_steady_remb(t.receiver, self.video_bitrate)
        peer.assigned = [None] * max(len(peer.video_slots), len(peer.audio_slots))
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        peer.vp8 = all(
            t._codecs and t._codecs[0].mimeType.lower() == "video/vp8"
            for t in pc.getTransceivers()
            if t.kind == "video" and t.direction == "sendonly"
        )
        peer.opus = all(
            t._codecs and t._codecs[0].mimeType.lower() == "audio/opus"
            for t in pc.getTransceivers()
            if t.kind == "audio" and t.direction == "sendonly"
        )
        self._peers[peer_id] = peer
        if peer_id not in self._order:
            self._order.append(peer_id)
        self._rewire()
        self._changed()
        if self.forward and self._pli_task is None:
            self._pli_task = asyncio.ensure_future(self._pli_loop())
        return pc.localDescription.sdp

    async def remove(self, peer_id: str) -> None:
        peer = self._peers.pop(peer_id, None)
        if peer_id in self._order:
            self._order.remove(peer_id)
        if peer is not None:
            await self._close_peer(peer)
        for key in [k for k in self._taps if k[1] == peer_id]:
            self._taps.pop(key).stop()
        shared = self._shared.pop(peer_id, None)
        if shared is not None:
            shared[1].stop()
        self._rewire()
        self._changed()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        task, self._pli_task = self._pli_task, None
        if task is not None:
            task.cancel()
        peers = list(self._peers.values())
        self._peers.clear()
        self._order.clear()
        for tap in self._taps.values():
            tap.stop()
        self._taps.clear()
        for _src, enc in self._shared.values():
            enc.stop()
        self._shared.clear()
        for p in peers:
            await self._close_peer(p)
        if self._closing:  # gone participants' connections still closing
            await asyncio.gather(*self._closing, return_exceptions=True)

    def tap(self, owner: str, peer_id: str, kind: str) -> MediaStreamTrack | None:
        """A relayed copy of a participant's incoming track for `owner` (e.g. the
        recorder); the same copy while that track lives, a new one after a rejoin."""
        src = self.incoming(peer_id, kind)
        key = (owner, peer_id, kind)
        cur = self._taps.get(key)
        if src is None:
            if cur is not None:
                self._taps.pop(key).stop()
            return None
        if cur is not None and getattr(cur, "_hall_src", None) is src:
            return cur
        if cur is not None:
            cur.stop()
        t = self._subscribe(peer_id, src, decoded=True)
        t._hall_src = src  # type: ignore[attr-defined]
        self._taps[key] = t
        return t

    # -- internals ---------------------------------------------------------------------------
    def _changed(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                log.exception("room change listener failed")

    def _live(self, peer_id: str) -> bool:
        p = self._peers.get(peer_id)
        return p is not None and p.state not in ("failed", "closed")

    def _rewire(self) -> None:
        """Give every live participant the others' tracks, in join order."""
        for pid, p in self._peers.items():
            others = [o for o in self._order if o != pid and self._live(o)]
            want: list[str | None] = list(others[: len(p.assigned)])
            want += [None] * (len(p.assigned) - len(want))
            # keep a participant in the slot it already has, so videos do not jump
            keep = {w: i for i, w in enumerate(p.assigned) if w in want}
            fresh = [w for w in want if w is not None and w not in keep]
            new: list[str | None] = [None] * len(p.assigned)
            for w, i in keep.items():
                new[i] = w
            for i in range(len(new)):
                if new[i] is None and fresh:
                    new[i] = fresh.pop(0)
            for i, who in enumerate(new):
                self._feed(p, i, who)
            p.assigned = new

    def _feed(self, p: _Peer, i: int, who: str | None) -> None:
        for kind, slots in (("video", p.video_slots), ("audio", p.audio_slots)):
            if i >= len(slots):
                continue
            slot = slots[i][1]
            src = self.incoming(who, kind) if who is not None else None
            key = (i, kind)
            cur = p.proxies.get(key)
            if cur is not None and src is not None and getattr(cur, "_hall_src", None) is src:
                continue
            if cur is not None:
                p.proxies.pop(key)
                cur.stop()
            if src is None:
                slot.set_source(None)
                continue
            proxy: MediaStreamTrack
            if kind == "video" and who is not None and p.vp8 and self.share_encoding:
                proxy = self._shared_for(who, src).subscribe()
            else:  # forwarded Opus to an Opus receiver as it is, else decoded
                proxy = self._subscribe(who, src, decoded=kind == "video" or not p.opus)
            proxy._hall_src = src  # type: ignore[attr-defined]
            p.proxies[key] = proxy
            slot.set_source(proxy)

    def _shared_for(self, who: str, src: MediaStreamTrack) -> SharedVp8:
        """The one encoder of `who`'s current video (a new one after a rejoin)."""
        cur = self._shared.get(who)
        if cur is not None and cur[0] is src:
            return cur[1]
        if cur is not None:
            cur[1].stop()
        enc = SharedVp8(
            self._relay.subscribe(src, buffered=False),
            on_keyframe=lambda: self.request_keyframe(who),
        )
        self._shared[who] = (src, enc)
        return enc

    def _subscribe(self, who: str | None, src: MediaStreamTrack, decoded: bool) -> MediaStreamTrack:
        """A relayed copy of `src`; pictures or sound when `decoded` (forwarded packets
        are decoded for this subscriber alone)."""
        t = self._relay.subscribe(src, buffered=False)
        if decoded and self.forward and who is not None:
            return DecodingTrack(t, on_keyframe=lambda: self.request_keyframe(who))
        return t

    def request_keyframe(self, peer_id: str) -> None:
        """Ask a participant for a key frame (RTCP PLI on its video), at most once per
        `PLI_MIN_S`."""
        p = self._peers.get(peer_id)
        if p is None or p.released or self.closed:
            return
        now = time.monotonic()
        if now - p.last_pli < PLI_MIN_S:
            return
        p.last_pli = now
        for t in p.pc.getTransceivers():
            if t.kind != "video" or t.direction != "recvonly":
                continue
            for src in t.receiver.getSynchronizationSources():
                self.keyframe_requests += 1
                fut = asyncio.ensure_future(t.receiver._send_rtcp_pli(src.source))
                fut.add_done_callback(_quiet)

    async def _pli_loop(self) -> None:
        """Hand the receivers' key frame requests on to the participant they watch."""
        while not self.closed:
            await asyncio.sleep(PLI_POLL_S)
            for p in list(self._peers.values()):
                for i, sender in enumerate(p.video_senders):
                    if not take_keyframe_request(sender):
                        continue
                    who = p.assigned[i] if i < len(p.assigned) else None
                    if who is None:
                        continue
                    shared = self._shared.get(who)
                    if shared is not None:
                        shared[1].request_keyframe()
                    else:
                        self.request_keyframe(who)

    def _release(self, p: _Peer) -> None:
        """Let a gone participant's media go; it stays listed as 'failed' or 'closed'
        until it joins again or is removed."""
        p.released = True
        p.video_in = p.audio_in = None  # nobody is fed from it, no tap is made of it
        for key in [k for k in self._taps if k[1] == p.peer_id]:
            self._taps.pop(key).stop()
        shared = self._shared.pop(p.peer_id, None)
        if shared is not None:
            shared[1].stop()
        closing = asyncio.ensure_future(self._close_peer(p))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        p.video_senders = []
        p.assigned = []  # it receives nothing more (`_rewire`)
        self.released += 1

    async def _close_peer(self, p: _Peer) -> None:
        for proxy in p.proxies.values():
            proxy.stop()
        p.proxies.clear()
        for _, s in p.video_slots + p.audio_slots:
            s.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(p.pc.close(), 5.0)


def _quiet(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.debug("PLI not sent: %s", fut.exception())
