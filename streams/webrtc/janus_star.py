"""A mediation participant whose session runs on Janus (more than 6 parties, or by the
hub's configuration): `StarClient`'s face with the media on Janus.

The hub's signalling stays the same (`GET {base}/ws` with `Authorization: Bearer`: the
state pushes, admit/remove/record); the hub's state carries this participant's Janus
ticket (`janus`: Janus's API, room, PIN, its own token, display = its participant id)
once it is admitted. Then a `JanusPeer` joins the room, publishes our camera and
microphone and subscribes everyone else (`substream`: 0 low … 2 full). Janus restarting
is the peer's own business (it rejoins with the same ticket and follows everyone by
display). For the console nothing else changes: each other participant gets a pseudo
slot (`video_mid` = ``janus:<participant id>``) in the state handed to `on_message`,
and its frames go to `on_video(mid, frame)` / `on_audio(mid, frame)` under that mid.
`janus_url` maps the ticket's URL (the pages' way to Janus) to this machine's;
`count_only` counts complete frames without decoding (tests, benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamTrack

from streams.webrtc.client import AudioSink, SignallingError, StarClient, VideoSink
from streams.webrtc.config import plan_from_browser
from streams.webrtc.janus_api import JanusError
from streams.webrtc.janus_peer import JanusPeer, Subscription

log = logging.getLogger(__name__)

PREFIX = "janus:"


def pseudo_slots(state: dict[str, Any]) -> list[dict[str, Any]]:
    """One slot per other participant shown (admitted), named by its participant id."""
    me = (state.get("me") or {}).get("id")
    out = []
    for p in state.get("participants") or []:
        if not isinstance(p, dict) or p.get("id") == me or not p.get("admitted"):
            continue
        pid = str(p.get("id"))
        peer = {"id": pid, "name": p.get("name", ""), "label": p.get("label", "")}
        out.append({"video_mid": PREFIX + pid, "audio_mid": PREFIX + pid + ":a", "peer": peer})
    return out


class JanusStar(StarClient):
    def __init__(
        self,
        base_url: str,
        session: str,
        *,
        video: MediaStreamTrack | None,
        audio: MediaStreamTrack | None,
        on_video: VideoSink | None = None,
        on_audio: AudioSink | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        on_state: Callable[[str], None] | None = None,
        on_signalling: Callable[[bool], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        janus_url: Callable[[str], str] = lambda url: url,
        janus_ssl: ssl.SSLContext | None = None,
        substream: int = 1,
        count_only: bool = False,
        ticket_wait_s: float = 60.0,
    ) -> None:
        super().__init__(
            base_url,
            session,
            video=video,
            audio=audio,
            slots=0,
            on_message=self._message,
            on_state=on_state,
            on_signalling=on_signalling,
            ssl_context=ssl_context,
        )
        self._sinks = (on_video, on_audio, on_message)
        self._map_url = janus_url
        self._janus_ssl = janus_ssl
        self.substream = substream
        self.count_only = count_only
        self._ticket_wait_s = ticket_wait_s
        self._ticket: dict[str, Any] | None = None
        self._has_ticket = asyncio.Event()
        self.peer: JanusPeer | None = None
        self._following: set[str] = set()  # displays subscribed
        self._t0 = time.monotonic()

    @property
    def ticket(self) -> dict[str, Any] | None:
        """The hub's last Janus ticket for us (None before we are admitted)."""
        return self._ticket

    # -- the hub's pushes ------------------------------------------------------------------

    def _message(self, data: dict[str, Any]) -> None:
        if data.get("type") == "state" and isinstance(data.get("janus"), dict):
            self._ticket = data["janus"]
            self._has_ticket.set()
            data = {**data, "slots": pseudo_slots(data)}
        sink = self._sinks[2]
        if sink is not None:
            sink(data)

    # -- media on Janus --------------------------------------------------------------------

    async def _connect(self) -> None:
        try:
            await asyncio.wait_for(self._has_ticket.wait(), self._ticket_wait_s)
        except TimeoutError:
            raise SignallingError(0, "no Janus ticket from the hub (not admitted?)") from None
        t = self._ticket
        assert t is not None
        plan = plan_from_browser(
            {"iceServers": t.get("ice_servers", []), "iceTransportPolicy": t.get("ice_policy")}
        )
        peer = JanusPeer(
            self._map_url(str(t["janus_url"])),
            room=int(t["room"]),
            pin=str(t["pin"]),
            token=str(t["token"]),
            display=str(t["display"]),
            ice_servers=plan.servers,
            ssl_context=self._janus_ssl,
            count_only=self.count_only,
        )
        peer.on_video = self._video_in
        peer.on_audio = self._audio_in
        peer.on_packet = self._packet_in
        peer.on_publishers = lambda _p: self._spawn(self._follow())
        self._t0 = time.monotonic()
        await peer.join()
        self.peer = peer
        await peer.publish(video=self._video, audio=self._audio)
        self.connections += 1
        self._set_state("connected")
        await self._follow()

    async def _follow(self) -> None:
        peer = self.peer
        if peer is None:
            return
        here = set(peer.publishers.values())
        self._following &= here  # who left may come back with a new feed
        for feed, display in list(peer.publishers.items()):
            if display in self._following:
                continue
            self._following.add(display)
            try:
                await peer.subscribe(feed, self.substream)
            except JanusError as e:
                self._following.discard(display)
                log.info("subscribe %s (%s): %s", feed, display, e)

    def _mid(self, feed: int) -> str:
        peer = self.peer
        return PREFIX + (peer.publishers.get(feed, str(feed)) if peer is not None else str(feed))

    def _count(self, mid: str) -> None:
        self.frames[mid] = self.frames.get(mid, 0) + 1
        if self.connect_ms is None:
            self.connect_ms = (time.monotonic() - self._t0) * 1000

    def _video_in(self, feed: int, frame: av.VideoFrame) -> None:
        mid = self._mid(feed)
        self._count(mid)
        if self._sinks[0] is not None:
            self._sinks[0](mid, frame)

    def _audio_in(self, feed: int, frame: av.AudioFrame) -> None:
        if self._sinks[1] is not None:
            self._sinks[1](self._mid(feed) + ":a", frame)

    def _packet_in(self, sub: Subscription, _packet: object) -> None:
        self._count(self._mid(sub.feed))

    async def _watch(self) -> None:
        """Nothing to watch here: the Janus peer rejoins by itself."""

    async def cut(self) -> None:
        """No connection of ours to the hub to cut (the media are on Janus)."""

    async def stop(self) -> None:
        peer, self.peer = self.peer, None
        if peer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(peer.leave(), 10.0)
        await super().stop()
