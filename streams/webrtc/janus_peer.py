"""An aiortc participant of a Janus videoroom (the console's side of a meeting; no Qt).

`JanusPeer(url, room=, pin=, token=, display=)`:
- `join()`: a Janus session and a publisher handle in the room (`feed` is our id);
  `publishers` maps the others' feeds to their names, `on_publishers(feeds)` tells when
  it changes, `on_talking(feed, talking)` who speaks;
- `publish(video=, audio=)`: our camera and microphone (or test sources) out on one
  sendonly connection; a `SimulcastVideo` track sends three layers (see
  `streams.webrtc.simulcast`);
- `subscribe(feed, substream=0)`: a receive-only connection for that feed; decoded
  frames go to `on_video(feed, frame)` / `on_audio(feed, frame)`, or with
  `count_only=True` complete VP8 frames are only counted (`frames[feed]`), never decoded
  (a bench receiver); `set_substream(feed, n)` picks the simulcast layer (0 = low);
- `start_share(track)` / `stop_share()`: a shared screen or document page as a second
  publisher of ours in the room (display `<display>:share`, `SHARE_SUFFIX`; its own
  handle and sendonly connection, the same token), so pages show it large beside the
  camera while it is on;
- `leave()`. When the Janus session is lost (Janus restarted) the peer joins again with
  the same ticket and token, publishes the same tracks and subscribes the same feeds
  again, with backoff, until `leave()`; `rejoins` counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import IceServer, rtc_configuration
from streams.webrtc.forward import forward_encoded, install
from streams.webrtc.janus_api import JanusError, JanusEvent, JanusSession
from streams.webrtc.simulcast import SimulcastVideo, vp8_size

log = logging.getLogger(__name__)

SHARE_SUFFIX = ":share"


@dataclass
class Subscription:
    feed: int
    substream: int
    handle: int = 0
    pc: RTCPeerConnection | None = None
    display: str = ""
    video_mid: str | None = None
    last_frame: float = 0.0
    key_size: tuple[int, int] | None = None  # of the last key frame (count_only)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class JanusPeer:
    def __init__(
        self,
        url: str,
        *,
        room: int,
        pin: str,
        token: str,
        display: str,
        ice_servers: Sequence[IceServer] = (),
        ssl_context: ssl.SSLContext | None = None,
        count_only: bool = False,
    ) -> None:
        self.url = url
        self.room = room
        self.pin = pin
        self.token = token
        self.display = display
        self.ice_servers = list(ice_servers)
        self.ssl_context = ssl_context
        self.count_only = count_only
        self.feed = 0
        self.publishers: dict[int, str] = {}
        self.video_mids: dict[int, list[str]] = {}  # publisher feed -> its video mids
        self.talking: set[int] = set()
        self.frames: dict[int, int] = {}
        self.rejoins = 0
        self.on_publishers: Callable[[dict[int, str]], None] = lambda _p: None
        self.on_talking: Callable[[int, bool], None] = lambda _f, _t: None
        self.on_video: Callable[[int, av.VideoFrame], None] = lambda _f, _v: None
        self.on_audio: Callable[[int, av.AudioFrame], None] = lambda _f, _a: None
        self.on_rejoined: Callable[[], None] = lambda: None
        self.on_packet: Callable[[Subscription, av.Packet[Any]], None] = lambda _s, _p: None
        self._http: aiohttp.ClientSession | None = None
        self._session: JanusSession | None = None
        self._handle = 0
        self._pub_pc: RTCPeerConnection | None = None
        self._relay = MediaRelay()
        self._sources: dict[str, MediaStreamTrack] = {}
        self._subs: dict[int, Subscription] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._left = False
        self._resub_lock = asyncio.Lock()
        self._announced = asyncio.Event()
        self._share: MediaStreamTrack | None = None
        self._share_handle = 0
        self._share_pc: RTCPeerConnection | None = None
        self.share_feed = 0

    # -- joining ------------------------------------------------------------------------

    async def join(self) -> int:
        if self._http is None:
            # Python < 3.12.8 leaves TLS transports of aborted connections (the long poll
            # cut by leave) open (cpython #118960): aiohttp closes them when asked to
            conn = (
                aiohttp.TCPConnector(
                    ssl=self.ssl_context, enable_cleanup_closed=sys.version_info < (3, 12, 8)
                )
                if self.ssl_context
                else None
            )
            self._http = aiohttp.ClientSession(connector=conn)
        session = JanusSession(self._http, self.url)
        await session.create()
        self._session = session
        self._handle = await session.attach()
        body = {
            "request": "join",
            "ptype": "publisher",
            "room": self.room,
            "pin": self.pin,
            "token": self.token,
            "display": self.display,
        }
        data, _ = await session.request(self._handle, body)
        self.feed = int(data.get("id", 0))
        self._apply(data)
        self._tasks.append(asyncio.create_task(self._follow(session, self._handle)))
        if not any(t.get_name() == "janus-peer-watch" for t in self._tasks):
            self._tasks.append(asyncio.create_task(self._watch(), name="janus-peer-watch"))
        return self.feed

    def _apply(self, data: dict[str, Any]) -> None:
        changed = False
        for p in data.get("publishers") or []:
            own = isinstance(p, dict) and p.get("display") == self.share_display
            if isinstance(p, dict) and int(p.get("id", 0)) != self.feed and not own:
                feed = int(p["id"])
                self.publishers[feed] = str(p.get("display", ""))
                self.video_mids[feed] = [
                    str(st["mid"])
                    for st in p.get("streams") or []
                    if isinstance(st, dict) and st.get("type") == "video" and "mid" in st
                ]
                if feed in self._subs and not self._subs[feed].display:
                    self._subs[feed].display = self.publishers[feed]
                changed = True
        for key in ("unpublished", "leaving", "kicked"):
            gone = data.get(key)
            if isinstance(gone, int) and gone in self.publishers:
                del self.publishers[gone]
                changed = True
        kind, who = data.get("videoroom"), data.get("id")
        if kind in ("talking", "stopped-talking") and isinstance(who, int):
            talking = kind == "talking"
            (self.talking.add if talking else self.talking.discard)(who)
            self.on_talking(who, talking)
        if changed:
            self._announced.set()
            self.on_publishers(dict(self.publishers))
            if self.rejoins and any(s.pc is None for s in self._subs.values()):
                self._tasks.append(asyncio.create_task(self._resubscribe_quietly()))

    async def _follow(self, session: JanusSession, handle: int) -> None:
        q = session.events(handle)
        while True:
            ev: JanusEvent = await q.get()
            if ev.kind == "lost":
                return
            if ev.kind in ("event", "talking"):
                self._apply(ev.data)

    @property
    def publisher_pc(self) -> RTCPeerConnection | None:
        """Our sending connection (None before publish and while rejoining)."""
        return self._pub_pc

    # -- publishing ---------------------------------------------------------------------

    async def publish(
        self, *, video: MediaStreamTrack | None = None, audio: MediaStreamTrack | None = None
    ) -> None:
        if audio is not None:
            self._sources["audio"] = audio
        if video is not None:
            self._sources["video"] = video
        await self._publish()

    async def _publish(self) -> None:
        session = self._live()
        pc = RTCPeerConnection(rtc_configuration(self.ice_servers))
        self._pub_pc = pc
        for kind in ("audio", "video"):
            src = self._sources.get(kind)
            if isinstance(src, SimulcastVideo):
                pc.addTransceiver(src, "sendonly")  # sends its layers itself
            elif src is not None:
                pc.addTransceiver(self._relay.subscribe(src, buffered=False), "sendonly")
        offer_sdp = await self._local_offer(pc)
        body = {"request": "publish", "display": self.display}
        _, jsep = await session.request(self._handle, body, {"type": "offer", "sdp": offer_sdp})
        await session.trickle(self._handle, None)
        if jsep is None:
            raise JanusError(0, "publish: no answer")
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "answer"))
        video = self._sources.get("video")
        if isinstance(video, SimulcastVideo):
            video.start(pc)

    async def _local_offer(self, pc: RTCPeerConnection) -> str:
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        video = self._sources.get("video")
        return video.rewrite_offer(sdp, pc) if isinstance(video, SimulcastVideo) else sdp

    # -- sharing ------------------------------------------------------------------------

    @property
    def share_display(self) -> str:
        return self.display + SHARE_SUFFIX

    async def start_share(self, track: MediaStreamTrack) -> int:
        """Publish `track` as our share (another one replaces it); its feed."""
        await self.stop_share()
        self._share = track
        await self._publish_share()
        return self.share_feed

    async def _publish_share(self) -> None:
        session, track = self._live(), self._share
        assert track is not None
        self._share_handle = await session.attach()
        body = {
            "request": "join",
            "ptype": "publisher",
            "room": self.room,
            "pin": self.pin,
            "token": self.token,
            "display": self.share_display,
        }
        data, _ = await session.request(self._share_handle, body)
        self.share_feed = int(data.get("id", 0))
        pc = RTCPeerConnection(rtc_configuration(self.ice_servers))
        self._share_pc = pc
        pc.addTransceiver(self._relay.subscribe(track, buffered=False), "sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}
        pub = {"request": "publish", "display": self.share_display}
        _, jsep = await session.request(self._share_handle, pub, offer)
        await session.trickle(self._share_handle, None)
        if jsep is None:
            raise JanusError(0, "share: no answer")
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "answer"))

    async def stop_share(self) -> None:
        """The share ends (its publisher leaves the room); safe when none."""
        track, self._share = self._share, None
        pc, self._share_pc = self._share_pc, None
        handle, self._share_handle = self._share_handle, 0
        self.share_feed = 0
        session = self._session
        if handle and session is not None and not session.lost.is_set():
            with contextlib.suppress(JanusError):
                await session.request(handle, {"request": "leave"}, wait_s=3)
            await session.detach(handle)
        if pc is not None:
            with contextlib.suppress(Exception):
                await pc.close()
        if track is not None:
            track.stop()

    # -- subscribing --------------------------------------------------------------------

    async def subscribe(self, feed: int, substream: int = 0, wait_s: float = 10.0) -> Subscription:
        """Waits (up to `wait_s`) until Janus announced the feed: before its publisher's
        connection is up, Janus answers 428 "no such feed"."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while feed not in self.publishers:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise JanusError(428, f"feed {feed} was not announced within {wait_s:.0f} s")
            self._announced.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._announced.wait(), left)
        sub = self._subs.get(feed) or Subscription(feed, substream)
        sub.substream = substream
        sub.display = self.publishers.get(feed, "")
        self._subs[feed] = sub
        await self._subscribe(sub)
        return sub

    async def _subscribe(self, sub: Subscription) -> None:
        session = self._live()
        sub.handle = await session.attach()
        body = {
            "request": "join",
            "ptype": "subscriber",
            "room": self.room,
            "pin": self.pin,
            "token": self.token,
            "streams": [{"feed": sub.feed}],
        }
        data, jsep = await session.request(sub.handle, body)
        for s in data.get("streams") or []:
            if isinstance(s, dict) and s.get("type") == "video":
                sub.video_mid = str(s.get("mid"))
        if jsep is None:
            raise JanusError(0, f"subscribe {sub.feed}: no offer")
        if self.count_only:
            install()
        pc = RTCPeerConnection(rtc_configuration(self.ice_servers))
        sub.pc = pc
        pc.on("track", lambda track: sub.tasks.append(asyncio.create_task(self._pull(sub, track))))
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = {"type": "answer", "sdp": pc.localDescription.sdp}
        await session.request(sub.handle, {"request": "start"}, answer)
        if sub.video_mid is not None:
            await self.set_substream(sub.feed, sub.substream)

    def substream_of(self, feed: int) -> int | None:
        """The layer asked for on that feed's subscription (None: not subscribed)."""
        sub = self._subs.get(feed)
        return sub.substream if sub is not None else None

    async def set_substream(self, feed: int, substream: int) -> None:
        sub = self._subs[feed]
        sub.substream = substream
        if sub.video_mid is None:
            return
        body = {"request": "configure", "streams": [{"mid": sub.video_mid, "substream": substream}]}
        await self._live().request(sub.handle, body)

    async def switch(self, old_feed: int, new_feed: int) -> Subscription:
        """The subscription to `old_feed` now carries `new_feed`'s video (Janus's
        "switch": no new connection, no renegotiation; the floor changing hands)."""
        sub = self._subs.pop(old_feed)
        mids = self.video_mids.get(new_feed)
        if not mids or sub.video_mid is None:
            self._subs[old_feed] = sub
            raise JanusError(428, f"feed {new_feed} has no video to switch to")
        streams = [{"feed": new_feed, "mid": mids[0], "sub_mid": sub.video_mid}]
        await self._live().request(sub.handle, {"request": "switch", "streams": streams})
        sub.feed, sub.display = new_feed, self.publishers.get(new_feed, "")
        sub.key_size = None
        self._subs[new_feed] = sub
        return sub

    async def _pull(self, sub: Subscription, track: MediaStreamTrack) -> None:
        if self.count_only:
            forward_encoded(track)  # complete frames as packets, never decoded
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                sub.last_frame = time.monotonic()
                self.frames[sub.feed] = self.frames.get(sub.feed, 0) + 1
                if isinstance(frame, av.Packet):
                    size = vp8_size(bytes(frame)) if frame.is_keyframe else None
                    if size is not None:
                        sub.key_size = size
                    self.on_packet(sub, frame)
                elif isinstance(frame, av.VideoFrame):
                    self.on_video(sub.feed, frame)
            elif isinstance(frame, av.AudioFrame):
                self.on_audio(sub.feed, frame)

    # -- restart, leave -----------------------------------------------------------------

    def _live(self) -> JanusSession:
        if self._session is None:
            raise JanusError(0, "not joined")
        return self._session

    async def _watch(self) -> None:
        backoff = 0.2
        while not self._left:
            session = self._session
            if session is None:
                return
            await session.lost.wait()
            if self._left:
                return
            await self._teardown(keep=True)
            while not self._left:
                try:
                    await self._rejoin()
                    backoff = 0.2
                    break
                except (JanusError, OSError, aiohttp.ClientError) as e:
                    log.info("janus peer %s: rejoin failed: %s", self.display, e)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 3.0)

    async def _rejoin(self) -> None:
        if self._session is not None:
            await self._session.close()
        self.publishers.clear()
        await self.join()
        if self._sources:
            await self._publish()
        if self._share is not None:
            await self._publish_share()
        self.rejoins += 1
        await self._resubscribe()
        self.on_rejoined()

    async def _resubscribe(self) -> None:
        """After a rejoin the feeds have new ids: follow each subscription by the
        publisher's name as soon as it publishes again."""
        async with self._resub_lock:
            await self._resubscribe_locked()

    async def _resubscribe_locked(self) -> None:
        for sub in list(self._subs.values()):
            if sub.pc is not None or not sub.display:
                continue
            for feed, name in self.publishers.items():
                if name == sub.display:
                    del self._subs[sub.feed]
                    sub.feed = feed
                    self._subs[feed] = sub
                    await self._subscribe(sub)
                    break

    async def _resubscribe_quietly(self) -> None:
        try:
            await self._resubscribe()
        except (JanusError, OSError) as e:
            log.info("janus peer %s: resubscribe failed: %s", self.display, e)

    async def _teardown(self, *, keep: bool) -> None:
        video = self._sources.get("video")
        if isinstance(video, SimulcastVideo):
            video.pause()
        pcs = [self._pub_pc, self._share_pc] + [s.pc for s in self._subs.values()]
        self._pub_pc = self._share_pc = None
        for sub in self._subs.values():
            for t in sub.tasks:
                t.cancel()
            sub.tasks.clear()
            sub.pc = None
        if not keep:
            self._subs.clear()
        for pc in pcs:
            if pc is not None:
                with contextlib.suppress(Exception):
                    await pc.close()

    async def leave(self) -> None:
        if self._left:
            return
        self._left = True
        if self._session is not None and not self._session.lost.is_set():
            with contextlib.suppress(JanusError):
                await self._session.request(self._handle, {"request": "leave"}, wait_s=3)
        await self._teardown(keep=False)
        for t in self._tasks:
            t.cancel()
        if self._session is not None:
            await self._session.destroy()
        for src in self._sources.values():
            src.stop()
        if self._share is not None:
            self._share.stop()
            self._share = None
        if self._http is not None:
            await self._http.close()
            self._http = None
