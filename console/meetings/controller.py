"""Feeds the meeting view's model from the hub and sends the officer's intents to it:
requests run on the network thread (asyncio), results come back to the Qt thread
through a `QtBridge` and go into `MeetingsModel` (the controller never touches a
widget). Published `MeetingChanged` messages keep the model current (the facade fetches
the list again after a gap in their seq).

In an open meeting the console joins the room as the convenor (`hall`) with its own
ticket (`meetings_join`) through an aiortc Janus peer (`streams.webrtc.janus_peer`):
it publishes the hall's camera and microphone and subscribes every participant, the
low simulcast layer for the small tiles and the high one for the township that has the
floor; each decoded frame becomes the participant's latest `Picture` (at most
`max_fps` a second per participant; frames in between are dropped, not queued).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import av

from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.mediation.controller import TrackFactory, demo_tracks
from console.meetings.model import HALL, MeetingsModel, Picture
from console.meetings.share import ShareChoice, ShareFeeder
from console.meetings.strings import t
from dispatch.client.meetings import MeetingsFacade
from dispatch.domain.wire import HubError
from dispatch.meetings.messages import MeetingInfo, MeetingsJoinReply
from streams.webrtc.config import IceServer
from streams.webrtc.janus_peer import JanusPeer
from streams.webrtc.share_track import LatestFrameTrack

log = logging.getLogger(__name__)
R = TypeVar("R")
TILE = (320, 180)
LARGE = (960, 540)


class MeetingsHub(Protocol):
    @property
    def meetings(self) -> MeetingsFacade: ...


class MeetingsController:
    def __init__(
        self,
        hub: Callable[[], MeetingsHub | None],
        net: NetThread,
        bridge: QtBridge,
        model: MeetingsModel,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        tracks: TrackFactory = demo_tracks,
        max_fps: float = 10.0,
    ) -> None:
        self._hub = hub
        self.client: MeetingsHub | None = None
        self.net = net
        self.bridge = bridge
        self.model = model
        self.now = now
        self.tracks = tracks
        self.max_fps = max_fps
        self.peer: JanusPeer | None = None
        self._last_frame: dict[int, float] = {}
        self._subscribed: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unlisten: Callable[[], None] | None = None
        self._feeder: ShareFeeder | None = None

    @property
    def mt(self) -> MeetingsFacade:
        if self.client is None:
            raise RuntimeError("the meetings are not connected to the hub")
        return self.client.meetings

    def start(self) -> None:
        if self.client is None:
            self.client = self._hub()
        if self.client is None:
            return
        if self._unlisten is None:
            self._unlisten = self.mt.listen(lambda view: self.bridge.post(lambda: self._show(view)))
        self._submit(self.mt.fetch(), lambda _r: None)
        self._submit(self.mt.centres(), lambda r: self.model.set_centres(r.centres))

    def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._leave_media()

    # -- plumbing ---------------------------------------------------------------------------
    def _submit(self, coro: Coroutine[Any, Any, R], then: Callable[[R], None]) -> None:
        submit_to_qt(self.net.submit, self.bridge.post, coro, then, self._failed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, HubError):
            self.model.set_message(t("failed", message=exc.message))
        else:
            self.model.set_message(t("hub_failed", error=repr(exc)))

    def _show(self, view: dict[str, MeetingInfo]) -> None:
        self.model.show(view)
        m = self.model.current
        if m is not None and m.status == "open" and self.model.joined != m.id:
            self.join_media()
        elif self.model.joined and (m is None or m.id != self.model.joined or m.status != "open"):
            self._leave_media()
        elif self.peer is not None and m is not None:
            self._follow_floor(m)

    def _do(self, coro: Coroutine[Any, Any, MeetingInfo]) -> None:
        self.model.set_message("")
        self._submit(coro, lambda _m: None)  # the published change updates the view

    # -- intents ----------------------------------------------------------------------------
    def select(self, meeting_id: str | None) -> None:
        self.model.select(meeting_id)
        if self.client is not None:
            self._show(self.mt.view())

    def create(self, title: str, invited: list[str], in_minutes: float, agenda: str) -> None:
        if self.client is None:
            return
        start = self.now() + timedelta(minutes=in_minutes)

        def made(m: MeetingInfo) -> None:
            self.model.select(m.id)

        self._submit(self.mt.create(title, invited, start, agenda), made)

    def _with_current(self, fn: Callable[[str], Coroutine[Any, Any, MeetingInfo]]) -> None:
        m = self.model.current
        if self.client is not None and m is not None:
            self._do(fn(m.id))

    def open_meeting(self) -> None:
        self._with_current(self.mt.open)

    def end_meeting(self) -> None:
        self._with_current(self.mt.end)

    def cancel_meeting(self) -> None:
        self._with_current(self.mt.cancel)

    def give_floor(self, centre: str | None) -> None:
        self._with_current(lambda mid: self.mt.floor(mid, centre))

    def mute_all(self) -> None:
        self._with_current(self.mt.mute_all)

    def unmute(self, centre: str) -> None:
        self._with_current(lambda mid: self.mt.unmute(mid, centre))

    def remove(self, centre: str) -> None:
        self._with_current(lambda mid: self.mt.kick(mid, centre))

    def set_locked(self, locked: bool) -> None:
        self._with_current(lambda mid: self.mt.lock(mid, locked))

    def save_minutes(self, text: str) -> None:
        self._with_current(lambda mid: self.mt.minutes(mid, text))

    # -- sharing a window or a document page ------------------------------------------------
    def share(self, choice: ShareChoice) -> None:
        """Share a window, the screen or a PDF page into the room (another share ends)."""
        peer = self.peer
        if peer is None:
            self.model.set_message(t("share_not_joined"))
            return
        self._stop_feeder()
        track = LatestFrameTrack()
        feeder = ShareFeeder(choice, track)
        try:
            feeder.start()
        except (ValueError, OSError) as exc:
            self.model.set_message(t("share_failed", error=str(exc)))
            return
        self._feeder = feeder

        def shared(_feed: int) -> None:
            self.model.set_sharing(choice.name)

        def failed(exc: BaseException) -> None:
            self._stop_feeder()
            self.model.set_message(t("share_failed", error=str(exc) or repr(exc)))

        submit_to_qt(self.net.submit, self.bridge.post, peer.start_share(track), shared, failed)

    def share_failed(self, what: str) -> None:
        self.model.set_message(t("share_failed", error=what))

    def stop_share(self) -> None:
        self._stop_feeder()
        peer = self.peer
        if peer is not None and self.net.running:
            self.net.submit(peer.stop_share())
        self.model.set_sharing("")

    def _stop_feeder(self) -> None:
        feeder, self._feeder = self._feeder, None
        if feeder is not None:
            feeder.stop()
            feeder.deleteLater()

    # -- the room's pictures ----------------------------------------------------------------
    def join_media(self) -> None:
        m = self.model.current
        if self.client is None or m is None or self.peer is not None:
            return
        self.model.set_joined(m.id)
        mid = m.id

        def failed(exc: BaseException) -> None:
            self.model.set_joined(None)
            self.model.set_message(t("media_failed", error=str(exc) or repr(exc)))

        submit_to_qt(self.net.submit, self.bridge.post, self._join(mid), lambda _p: None, failed)

    async def _join(self, meeting_id: str) -> None:
        rep: MeetingsJoinReply = await self.mt.join(meeting_id)
        tk = rep.ticket
        ice = [
            IceServer(urls=tuple(s.urls), username=s.username, credential=s.credential)
            for s in tk.ice.servers
        ]
        peer = JanusPeer(
            tk.janus_url, room=tk.room, pin=tk.pin, token=tk.token, display=HALL, ice_servers=ice
        )
        self.peer = peer
        peer.on_video = self._on_video
        peer.on_publishers = self._on_publishers
        await peer.join()
        video, audio = self.tracks()
        await peer.publish(video=video, audio=audio)
        await self._subscribe_all(dict(peer.publishers))

    def _on_publishers(self, feeds: dict[int, str]) -> None:
        """The room's publishers changed (network thread): subscribe the new ones."""
        task = self.net.loop.create_task(self._subscribe_all(dict(feeds)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _subscribe_all(self, feeds: dict[int, str]) -> None:
        peer = self.peer
        if peer is None:
            return
        for feed, display in feeds.items():
            if feed in self._subscribed:
                continue
            self._subscribed.add(feed)
            floor = self.model.main_speaker()
            try:
                await peer.subscribe(feed, substream=2 if display in (floor, HALL) else 0)
            except Exception as exc:  # one feed failing must not stop the others
                log.info("meeting: feed %s (%s) not subscribed: %s", feed, display, exc)

    def _follow_floor(self, m: MeetingInfo) -> None:
        """The township with the floor in the high layer, the others in the low one: only
        the subscriptions whose layer changes (the new floor and the old one), at once."""
        peer = self.peer
        if peer is None:
            return
        wanted = {f: (2 if d in (m.floor, HALL) else 0) for f, d in peer.publishers.items()}
        todo = sorted(
            ((f, n) for f, n in wanted.items() if peer.substream_of(f) not in (None, n)),
            key=lambda fn: -fn[1],  # the new floor's top layer asked for first
        )
        if not todo:
            return

        async def one(feed: int, layer: int) -> None:
            try:
                await peer.set_substream(feed, layer)
            except Exception as exc:
                log.info("meeting: substream of %s not set: %s", feed, exc)

        async def apply() -> None:
            await asyncio.gather(*(one(f, n) for f, n in todo))

        self.net.submit(apply())

    def _on_video(self, feed: int, frame: av.VideoFrame) -> None:
        """A decoded frame (network thread): kept as the participant's latest picture."""
        peer = self.peer
        if peer is None:
            return
        now = time.monotonic()
        if now - self._last_frame.get(feed, 0.0) < 1.0 / self.max_fps:
            return
        self._last_frame[feed] = now
        who = peer.publishers.get(feed, "")
        w, h = LARGE if who == self.model.main_speaker() else TILE
        img = frame.reformat(width=w, height=h, format="bgra")
        plane = img.planes[0]
        pic = Picture(w, h, plane.line_size, bytes(plane))
        self.bridge.post(lambda: self.model.set_picture(who, pic))

    def _leave_media(self) -> None:
        self._stop_feeder()
        peer, self.peer = self.peer, None
        self._subscribed = set()
        if peer is not None and self.net.running:
            self.net.submit(peer.leave())
        if self.model.joined is not None:
            self.model.set_joined(None)
