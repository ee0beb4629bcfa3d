"""Joins the answered roll call as the hall (县综治中心): the hub's `watch` op gives the
call's hall path and session, a `StarClient` (the same participant the mediation window
uses) sends the hall's camera and microphone and receives the station's; the station's
frames are scaled off the GUI thread by a `FrameConverter` and go into the `CallModel`
(which the panel's `CallArea` follows; the controller never touches a widget), its
sound level marks who is speaking. The hall's outgoing video goes through
the mediation window's `PreviewTrack`, so every 2nd frame it sends is also shown, scaled
by the same converter (key `SELF_KEY`), in the area's 本端 / Me tile while joined.

It joins by itself when a call is answered (`auto`, on by default: the run's `in_call`)
and leaves when the call ends (the hub's `ended` push, or the call leaving `in_call`);
接入画面 / 退出画面 do it by hand (a call left by hand is not joined again by itself).
Errors are shown in the area as sentences.

Threads: the model only on the Qt thread; the hub client and `StarClient` on the network
thread; frame conversion on the converter's thread; back to Qt only via `QtBridge.post`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import av
import numpy as np
import numpy.typing as npt

from console.kit.net import NetThread, NetThreadError, QtBridge, submit_to_qt
from console.mediation.controller import TrackFactory, demo_tracks
from console.mediation.frames import FrameConverter
from console.mediation.preview import SELF_KEY, PreviewTrack
from console.rollcall.call_model import (
    SPEAKING_RMS,
    CallModel,
    call_to_join,
    error_text,
    media_state_text,
    t,
)
from console.rollcall.call_view import SELF_SIZE
from dispatch.hub.turn import plan_of
from dispatch.rollcall.messages import RollcallWatchReply, RunInfo
from streams.webrtc.client import StarClient
from streams.webrtc.config import audio_level
from streams.webrtc.stats import via_relay

log = logging.getLogger(__name__)
LEVEL_EVERY_S = 0.15


class WatchClient(Protocol):
    """The part of `dispatch.client.rollcall.RollcallFacade` the video area needs."""

    async def watch(self, centre_id: str | None = None) -> RollcallWatchReply: ...


class HallCallController:
    """Joins and leaves the answered call into `model`; the area's intents are
    `join_current`, `leave_by_hand`, `set_auto` and `picture_resized` (`CallIntents`).
    `client()` is the hub's roll-call facade once the roll call has started (None
    before: nothing to join). Construct on the Qt thread; `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        client: Callable[[], WatchClient | None],
        net: NetThread,
        bridge: QtBridge,
        model: CallModel,
        http_url: str | None,
        *,
        tracks: TrackFactory = demo_tracks,
        keep_hosts: Sequence[str] | None = None,
        names: Callable[[str], str] = lambda cid: cid,
        http_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.client = client
        self.names = names
        self.net = net
        self.bridge = bridge
        self.model = model
        self.http_url = http_url.rstrip("/") if http_url else None
        self.http_ssl = http_ssl  # trusts the hub's CA (None: the system's CAs)
        self._tracks = tracks
        self._keep = list(keep_hosts) if keep_hosts else None
        self.centre_id: str | None = None  # the call joined (or being joined)
        self.star: StarClient | None = None
        self.gen = 0  # each join / leave: callbacks of an older one are ignored
        self.frames = 0  # station frames shown
        self.self_frames = 0  # the hall's own frames shown in the 本端 / Me tile
        self.audio_frames = 0
        self.joins = 0
        self.left_by_hand: set[str] = set()
        self.converter = FrameConverter(self._deliver)
        self._level = 0.0
        self._level_at = 0.0
        self._run: RunInfo | None = None
        self._size = (0, 0)  # the picture size the area asks for
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.converter.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Leave the call's picture (the call goes on on the hub); safe to call twice."""
        star = self._drop()
        if star is not None:
            fut = self._quit_later(star)
            if fut is not None:
                with contextlib.suppress(concurrent.futures.TimeoutError):
                    fut.result(timeout_s)
        self.converter.stop()
        self._started = False

    # -- the run (Qt thread) ---------------------------------------------------------------
    def on_run(self, run: RunInfo | None) -> None:
        self._run = run
        in_call = set(run.in_call) if run is not None else set()
        self.left_by_hand &= in_call
        if self.centre_id and self.centre_id not in in_call and self.star is not None:
            self._leave(t("ended"))  # (then, with batches, on to the next answered call)
        if self.model.auto and self.centre_id is None:
            cid = call_to_join(run, None)
            if cid is not None and cid not in self.left_by_hand:
                self.join(cid)

    @property
    def auto(self) -> bool:
        return self.model.auto

    def set_auto(self, on: bool) -> None:
        self.model.set_auto(on)
        if on:
            self.on_run(self._run)

    def join_current(self, selected: str | None = None) -> None:
        """接入画面: the `selected` centre's call if it is answered, else the first one."""
        cid = call_to_join(self._run, selected)
        self.left_by_hand.discard(cid or "")
        self.join(cid)

    def leave_by_hand(self) -> None:
        """退出画面: leave the picture (the call goes on); not joined again by itself."""
        self.leave(by_hand=True)

    def picture_resized(self, width: int, height: int) -> None:
        self._size = (width, height)
        self.converter.set_size(str(self.gen), width, height)

    def join(self, centre_id: str | None) -> None:
        """Join the answered call of `centre_id` (None: the hub's current call)."""
        if self.http_url is None:
            self.model.set_status(t("no_http"))
            return
        client = self.client()
        if self.centre_id is not None or client is None:
            return
        self.gen += 1
        gen = self.gen
        self.joins += 1
        self.centre_id = centre_id or ""
        self.model.joining(self._name(centre_id))
        base = self.http_url

        async def run() -> RollcallWatchReply:
            rep = await client.watch(centre_id)
            if gen != self.gen:
                return rep
            video, audio = self._tracks()
            if video is not None:  # the 本端 / Me tile shows exactly what the hall sends
                self.converter.set_size(SELF_KEY, *SELF_SIZE)
                video = PreviewTrack(video, lambda f: self._on_self(gen, f))
            else:
                self.bridge.post(lambda: self._no_camera(gen))
            star = StarClient(
                base + rep.path,
                rep.session,
                video=video,
                audio=audio,
                config=plan_of(rep.ice).configuration(),  # minted TURN credentials
                refresh_ice=True,  # fresh ones for every rejoin
                slots=1,
                keep_hosts=self._keep,
                ssl_context=self.http_ssl,
                on_video=lambda _mid, f: self._on_video(gen, f),
                on_audio=lambda _mid, f: self._on_audio(gen, f),
                on_message=lambda m: self._on_message(gen, m),
                on_state=lambda st: self._on_state(gen, st),
            )
            self.star = star
            await star.start()
            if gen != self.gen:  # left while joining
                await self._quit(star)
            return rep

        def ok(rep: RollcallWatchReply) -> None:
            if gen != self.gen:
                return
            self.centre_id = rep.centre_id
            self.converter.set_size(str(gen), *self._size)
            self.model.joined_call(rep.centre_name, rep.answered_at)

        def failed(exc: BaseException) -> None:
            if gen != self.gen:
                return
            if centre_id:
                self.left_by_hand.add(centre_id)  # not again by itself: the officer decides
            self._leave(error_text(exc))

        submit_to_qt(self.net.submit, self.bridge.post, run(), ok, failed)

    def leave(self, *, by_hand: bool = False) -> None:
        if self.centre_id is None:
            return
        if by_hand and self.centre_id:
            self.left_by_hand.add(self.centre_id)
        self._leave(t("left") if by_hand else t("ended"))

    # -- internals (Qt thread) ----------------------------------------------------------------
    def _name(self, centre_id: str | None) -> str:
        return self.names(centre_id) if centre_id else ""

    def _drop(self) -> StarClient | None:
        self.gen += 1
        self.centre_id = None
        star, self.star = self.star, None
        return star

    def _leave(self, text: str) -> None:
        star = self._drop()
        self.model.left(text)
        if star is not None:
            self._quit_later(star)

    def _quit_later(self, star: StarClient) -> concurrent.futures.Future[None] | None:
        coro = self._quit(star)
        try:
            return self.net.submit(coro)
        except NetThreadError:
            coro.close()
            return None

    async def _quit(self, star: StarClient) -> None:
        with contextlib.suppress(Exception):
            await star.send({"type": "leave"})
        await star.stop()

    def _no_camera(self, gen: int) -> None:
        if gen == self.gen:
            self.model.self_note(t("no_camera"))

    # -- network / converter threads --------------------------------------------------------
    def _on_video(self, gen: int, frame: av.VideoFrame) -> None:
        if gen == self.gen:
            self.converter.offer(str(gen), frame)

    def _on_self(self, gen: int, frame: av.VideoFrame) -> None:
        if gen == self.gen:
            self.converter.offer(SELF_KEY, frame)

    def _deliver(self, key: str, arr: npt.NDArray[np.uint8]) -> None:  # converter thread
        def show() -> None:
            if key == SELF_KEY:
                if self.centre_id is not None and self.model.joined:
                    self.self_frames += 1
                    self.model.self_frame(arr)
            elif key == str(self.gen) and self.centre_id is not None:
                self.frames += 1
                self.model.frame(arr)

        self.bridge.post(show)

    def _on_audio(self, gen: int, frame: av.AudioFrame) -> None:
        if gen != self.gen:
            return
        self.audio_frames += 1
        self._level = max(self._level, audio_level(frame))
        now = time.monotonic()
        if now - self._level_at >= LEVEL_EVERY_S:
            self._level_at = now
            level, self._level = self._level, 0.0

            def show() -> None:
                if gen == self.gen:
                    self.model.level(level, SPEAKING_RMS)

            self.bridge.post(show)

    def _on_message(self, gen: int, msg: dict[str, Any]) -> None:
        if msg.get("type") != "ended":
            return
        reason = str(msg.get("text") or msg.get("reason") or "")

        def ended() -> None:
            if gen == self.gen:
                self._leave(t("ended_reason", reason=reason) if reason else t("ended"))

        self.bridge.post(ended)

    def _on_state(self, gen: int, state: str) -> None:
        text = media_state_text(state)
        star = self.star  # (network thread) the pair it chose, once connected
        relayed = state == "connected" and star is not None and via_relay(star.selected_pairs())

        def show() -> None:
            if gen != self.gen:
                return
            if state == "connected":
                self.model.set_relayed(relayed)
            else:
                self.model.set_status(t("media", state=text))

        self.bridge.post(show)
