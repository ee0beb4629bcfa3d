"""An aiortc participant of a hub room (the console's side of mediation and roll call).

`StarClient(base_url, session)` speaks the hub's signalling for one participant:

- `POST {base}/offer` with the SDP offer (`Content-Type: application/sdp`, WHIP-style,
  `Authorization: Bearer <session>`) → 201 with the SDP answer;
- `GET {base}/ws` (same header): JSON pushes (`slots`, `participants`, `recording`, …)
  handed to `on_message`; `send(msg)` sends one (admit, remove, record, mute …).

Media: our camera and microphone go out on two `sendonly` transceivers; `slots`
receive-only video+audio pairs come back. Every decoded frame of a slot is given to
`on_video(mid, frame)` / `on_audio(mid, frame)` on the loop (convert it there or hand it
to a thread; never block). When the connection fails the client offers again from a new
connection (the hub's aiortc answers from a new one too), with backoff, until stop().
With `refresh_ice` each new connection after the first asks `GET {base}/ice` for fresh
ICE servers (new TURN credentials: a call may outlive the first ones). `ssl_context`
verifies the hub's HTTPS (e.g. trusting its own CA; never unverified). A push carrying
an `epoch` (the hub process's id) that differs from the last one means the hub restarted
and our connection died with it: the client joins again at once instead of waiting
~30 s for ICE consent to fail. `on_signalling(up)` tells when the signalling socket is
lost and back (a hub that is away). Our tracks go out through a `MediaRelay`: aiortc
stops a sender's track when its connection closes, so without it a rejoin would send a
dead camera; `stop()` stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import av
from aiortc import (
    RTCConfiguration,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import keep_candidates, plan_from_browser, rtc_configuration
from streams.webrtc.stats import selected_pairs

log = logging.getLogger(__name__)

VideoSink = Callable[[str, av.VideoFrame], None]
AudioSink = Callable[[str, av.AudioFrame], None]


class SignallingError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class NoRelayError(Exception):
    """Relay-only ICE gathered no candidate: the TURN server is unreachable or refused
    the credentials (401)."""

    def __init__(self) -> None:
        super().__init__(
            "中继服务器（TURN）连不上或拒绝了连接凭据 / "
            "the TURN server is unreachable or refused the credentials"
        )


class StarClient:
    def __init__(
        self,
        base_url: str,
        session: str,
        *,
        video: MediaStreamTrack | None,
        audio: MediaStreamTrack | None,
        slots: int = 5,
        config: RTCConfiguration | None = None,
        keep_hosts: Sequence[str] | None = None,
        on_video: VideoSink | None = None,
        on_audio: AudioSink | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        on_state: Callable[[str], None] | None = None,
        on_signalling: Callable[[bool], None] | None = None,
        refresh_ice: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._video, self._audio = video, audio
        self.slots = slots
        self._config = config or rtc_configuration([])
        self._keep = list(keep_hosts) if keep_hosts else None
        self._on_video, self._on_audio = on_video, on_audio
        self._on_message, self._on_state = on_message, on_state
        self._on_signalling = on_signalling
        self._refresh_ice = refresh_ice
        self._ssl = ssl_context  # None: the system's CAs (an https hub with a public one)
        self._epoch: str | None = None
        self._relay = MediaRelay()
        self.hub_restarts = 0
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pc: RTCPeerConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._failed = asyncio.Event()
        self._stopped = False
        self.frames: dict[str, int] = {}  # mid → frames received
        self.connect_ms: float | None = None  # offer → first received video frame
        self.connections = 0
        self.state = "new"

    def selected_pairs(self) -> list[tuple[str, str]]:
        """(local, remote) candidate types of the connection's nominated pairs ("relay":
        through TURN); [] before it connects."""
        return selected_pairs(self._pc) if self._pc is not None else []

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._session}"}

    async def start(self) -> None:
        if self._http is not None:
            return
        self._stopped = False
        # Python < 3.12.8 leaves TLS transports of aborted connections open (cpython
        # #118960): aiohttp closes them when asked to
        connector = aiohttp.TCPConnector(
            ssl=self._ssl or True, enable_cleanup_closed=sys.version_info < (3, 12, 8)
        )
        self._http = aiohttp.ClientSession(headers=self.headers, connector=connector)
        self._spawn(self._ws_loop())
        await self._connect()
        self._spawn(self._watch())

    async def stop(self) -> None:
        if self._http is None:
            return
        self._stopped = True
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self._pc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pc.close(), 5.0)
            self._pc = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        for track in (self._video, self._audio):
            if track is not None:
                track.stop()
        http, self._http = self._http, None
        await http.close()

    async def send(self, msg: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise SignallingError(0, "信令连接未建立 / signalling not connected")
        await ws.send_str(json.dumps(msg, ensure_ascii=False))

    async def cut(self) -> None:
        """Close the peer connection as a network loss would (tests): the watcher
        notices and joins again."""
        if self._pc is not None:
            await self._pc.close()

    # -- internals ---------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    def _set_state(self, st: str) -> None:
        self.state = st
        if self._on_state is not None:
            self._on_state(st)

    async def _fresh_ice(self) -> None:
        """New ICE servers (fresh TURN credentials) from `{base}/ice` for a rejoin; the
        old ones stay when the hub cannot give them."""
        assert self._http is not None
        try:
            async with self._http.get(f"{self.base_url}/ice") as resp:
                if resp.status != 200:
                    log.info("no fresh ICE servers: %s", resp.status)
                    return
                plan = plan_from_browser(await resp.json())
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.info("no fresh ICE servers: %s", exc)
            return
        self._config = plan.configuration()

    async def _connect(self) -> None:
        assert self._http is not None
        old = self._pc
        if old is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.close(), 5.0)
        if self._refresh_ice and self.connections > 0:
            await self._fresh_ice()
        pc = RTCPeerConnection(self._config)
        self._pc = pc
        self._failed.clear()
        t0 = time.monotonic()
        first = [True]
        if self._video is not None:
            pc.addTransceiver(self._relay.subscribe(self._video, False), direction="sendonly")
        if self._audio is not None:
            pc.addTransceiver(self._relay.subscribe(self._audio, False), direction="sendonly")
        for _ in range(self.slots):
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if self._pc is not pc:
                return
            self._set_state(pc.connectionState)
            if pc.connectionState in ("failed", "closed"):
                self._failed.set()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            mid = next((t.mid for t in pc.getTransceivers() if t.receiver.track is track), "")
            self._spawn(self._pull(pc, mid or "", track, t0, first))

        await pc.setLocalDescription(await pc.createOffer())
        relay_only = self._config.iceTransportPolicy == RTCIceTransportPolicy.RELAY
        if relay_only and "a=candidate:" not in pc.localDescription.sdp:
            self._set_state("no_relay")
            raise NoRelayError()
        async with self._http.post(
            f"{self.base_url}/offer",
            data=pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        ) as resp:
            body = await resp.text()
            if resp.status != 201:
                raise SignallingError(resp.status, body[:300])
        answer = keep_candidates(body, self._keep)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        self.connections += 1

    async def _pull(
        self, pc: RTCPeerConnection, mid: str, track: MediaStreamTrack, t0: float, first: list[bool]
    ) -> None:
        while self._pc is pc:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames[mid] = self.frames.get(mid, 0) + 1
            if isinstance(frame, av.VideoFrame):
                if first[0]:
                    first[0] = False
                    self.connect_ms = (time.monotonic() - t0) * 1000
                if self._on_video is not None:
                    self._on_video(mid, frame)
            elif isinstance(frame, av.AudioFrame) and self._on_audio is not None:
                self._on_audio(mid, frame)

    async def _watch(self) -> None:
        delay = 0.2
        while not self._stopped:
            await self._failed.wait()
            self._set_state("reconnecting")
            while not self._stopped:
                try:
                    await self._connect()
                    delay = 0.2
                    break
                except (SignallingError, NoRelayError, aiohttp.ClientError, OSError) as exc:
                    log.info("rejoin failed: %s; again in %.1f s", exc, delay)
                    if isinstance(exc, SignallingError) and exc.status in (401, 403, 410):
                        self._set_state("refused")
                        return
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    def _check_epoch(self, msg: dict[str, Any]) -> None:
        epoch = msg.get("epoch")
        if not isinstance(epoch, str):
            return
        old, self._epoch = self._epoch, epoch
        if old is not None and old != epoch and self._pc is not None:
            log.info("hub restarted (epoch %s → %s): joining again", old, epoch)
            self.hub_restarts += 1
            self._spawn(self.cut())

    async def _ws_loop(self) -> None:
        delay = 0.2
        while not self._stopped:
            assert self._http is not None
            try:
                async with self._http.ws_connect(f"{self.base_url}/ws", heartbeat=10) as ws:
                    self._ws = ws
                    delay = 0.2
                    if self._on_signalling is not None:
                        self._on_signalling(True)
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            continue
                        try:
                            data = json.loads(msg.data)
                        except ValueError:
                            continue
                        if isinstance(data, dict):
                            self._check_epoch(data)
                        if isinstance(data, dict) and self._on_message is not None:
                            self._on_message(data)
            except (aiohttp.ClientError, OSError) as exc:
                log.info("signalling socket: %s", exc)
            if self._ws is not None and self._on_signalling is not None:
                self._on_signalling(False)
            self._ws = None
            if self._stopped:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
