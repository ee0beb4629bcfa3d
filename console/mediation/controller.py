"""Runs a mediation session for the window: opens it on the hub (zmq), joins the room as
the hall's peer (`StarClient` on the console's network thread), relays the hub's pushes,
frames and audio levels to the Qt thread (only through `QtBridge.post`), sends admit /
remove / record, and closes the session with its outcome.

Threads: the model and the views only on the Qt thread; `StarClient` and the hub client
on the network thread; frame conversion on `FrameConverter`'s thread.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ssl
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamTrack

from console.kit.net import NetThread, NetThreadError, QtBridge, submit_to_qt
from console.kit.observable import Observable
from console.mediation.frames import FrameConverter
from console.mediation.model import (
    MediationInputError,
    MediationModel,
    Outcome,
    check_outcome,
    hub_error_text,
)
from console.mediation.preview import SELF_KEY, PreviewTrack
from console.mediation.strings import t
from dispatch.hub.turn import plan_of
from dispatch.mediation.messages import MediationInvite, MediationReply
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera, ToneSource, audio_level
from streams.webrtc.janus_star import JanusStar
from streams.webrtc.stats import via_relay

T = TypeVar("T")
LEVEL_EVERY_S = 0.15
MEDIA_STATES = frozenset(
    {"new", "connecting", "connected", "reconnecting", "disconnected", "failed", "closed"}
) | {"refused"}
CONN_KEYS = {"connected": "live", "reconnecting": "lost", "failed": "lost", "closed": "lost"}


def lost_text() -> str:
    """The connection line while the hub or the media is away."""
    return t("conn.lost")


def conn_text(state: str, default: str, relayed: bool = False) -> str:
    """The connection line for a media `state` (`default` for the states it ignores);
    in the call, it says when the media goes through the TURN relay (`relayed`)."""
    key = CONN_KEYS.get(state)
    if key == "live" and relayed:
        key = "live_relay"
    return t(f"conn.{key}") if key is not None else default


def media_text(state: str) -> str:
    return t(f"media.{state}") if state in MEDIA_STATES else state


SELF_SIZE = (160, 120)


@dataclass(frozen=True)
class PeerFrame:
    """A converted frame (BGRA) of a participant, or of the hall (`SELF_KEY`)."""

    pid: str
    image: npt.NDArray[np.uint8]


class MediationClient(Protocol):
    """The mediation facade of `HubClient` (`dispatch.client.mediation.MediationFacade`)."""

    async def open_mediation(
        self, event_id: str, invites: list[MediationInvite], *, ttl_hours: float = 24
    ) -> MediationReply: ...
    async def close_mediation(
        self, session_id: str, outcome: Outcome, *, notes: str = ""
    ) -> MediationReply: ...


TrackFactory = Callable[[], tuple[MediaStreamTrack | None, MediaStreamTrack | None]]


def demo_tracks() -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
    """The demo hall camera and microphone (built on the network thread)."""
    return SyntheticCamera("HALL 综治中心"), ToneSource()


class MediationController:
    def __init__(
        self,
        model: MediationModel,
        net: NetThread,
        bridge: QtBridge,
        client: Callable[[], MediationClient | None],
        http_url: str,
        *,
        tracks: TrackFactory = demo_tracks,
        keep_hosts: Sequence[str] | None = None,
        http_ssl: ssl.SSLContext | None = None,
        public_url: Callable[[], str] = lambda: "",
    ) -> None:
        self.model = model
        self._public_url = public_url  # the hub's, from the login ("" before)
        self._net = net
        self._bridge = bridge
        self._client = client
        self.http_url = http_url.rstrip("/")
        self.http_ssl = http_ssl  # trusts the hub's CA (None: the system's CAs)
        self._tracks = tracks
        self._keep = list(keep_hosts) if keep_hosts else None
        self.star: StarClient | None = None
        self.frame_shown: Observable[PeerFrame] = Observable()  # on the Qt thread
        self.converter = FrameConverter(self._deliver)
        self._levels: dict[str, float] = {}
        self._levels_at = 0.0
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._media_state = "new"
        self._relayed = False  # the media goes through the TURN relay (once connected)

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def join_base(self) -> str:
        """Where the join links point: the hub's public URL (from the login), else the
        address this console reaches the hub at."""
        return self._public_url().rstrip("/") or self.http_url

    def _submit(
        self,
        coro: Coroutine[Any, Any, T],
        on_ok: Callable[[T], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        submit_to_qt(self._net.submit, self._bridge.post, coro, on_ok, on_error, self._pending)

    def _fail(self, what: str) -> Callable[[BaseException], None]:
        def on_error(exc: BaseException) -> None:
            self.model.say(t("msg.failed", what=what, error=hub_error_text(exc)))

        return on_error

    # -- network-thread callbacks ----------------------------------------------------------
    def _on_message(self, msg: dict[str, Any]) -> None:
        self._bridge.post(lambda: self.model.apply_state(msg))

    def _on_video(self, mid: str, frame: av.VideoFrame) -> None:
        self.converter.offer(mid, frame)

    def _on_audio(self, mid: str, frame: av.AudioFrame) -> None:
        lv = audio_level(frame)
        self._levels[mid] = max(lv, self._levels.get(mid, 0.0))
        now = time.monotonic()
        if now - self._levels_at >= LEVEL_EVERY_S:
            self._levels_at = now
            levels, self._levels = self._levels, {}
            self._bridge.post(lambda: self.model.set_levels(levels))

    def _on_state(self, state: str) -> None:
        text = media_text(state)
        star = self.star  # (network thread) the pair it chose, once connected
        if state == "connected":
            self._relayed = star is not None and via_relay(star.selected_pairs())
        conn = conn_text(state, text, self._relayed)
        self._media_state = state

        def show() -> None:
            self.model.say(t("msg.media", state=text))
            self.model.set_conn(conn)

        self._bridge.post(show)

    def _on_signalling(self, up: bool) -> None:
        # the hub is away (signalling lost) or back: the media follows by itself
        conn = (
            conn_text(self._media_state, media_text("connected"), self._relayed)
            if up
            else lost_text()
        )
        self._bridge.post(lambda: self.model.set_conn(conn))

    def _on_self(self, frame: av.VideoFrame) -> None:  # network thread
        self.converter.offer(SELF_KEY, frame)

    def _deliver(self, mid: str, arr: npt.NDArray[np.uint8]) -> None:  # converter thread
        def show() -> None:
            pid = SELF_KEY if mid == SELF_KEY else self.model.mids.get(mid)
            if pid is None:
                return
            self.model.count_frame(pid)
            self.frame_shown.emit(PeerFrame(pid, arr))

        self._bridge.post(show)

    # -- Qt-thread API ---------------------------------------------------------------------
    def set_tile_size(self, pid: str, width: int, height: int) -> None:
        for mid, p in self.model.mids.items():
            if p == pid:
                self.converter.set_size(mid, width, height)

    def open(self, invites: list[MediationInvite]) -> None:
        if self.model.phase not in ("setup", "failed"):
            return
        client = self._client()
        if client is None:
            self.model.say(t("msg.not_logged_in"))
            return
        self.model.set_phase("opening", t("msg.opening"))
        event_id = self.model.event_id

        async def run() -> MediationReply:
            rep = await client.open_mediation(event_id, invites)
            video, audio = self._tracks()
            if video is not None:  # the hall's self-preview shows what it sends
                self.converter.set_size(SELF_KEY, *SELF_SIZE)
                video = PreviewTrack(video, self._on_self)
            star = self._star(rep, video, audio)
            self.star = star
            await star.start()
            return rep

        def failed(exc: BaseException) -> None:
            self.model.set_phase("failed", t("msg.open_failed", error=hub_error_text(exc)))

        self.converter.start()
        self._submit(run(), self.model.opened, failed)

    def _star(
        self, rep: MediationReply, video: MediaStreamTrack | None, audio: MediaStreamTrack | None
    ) -> StarClient:
        """The hall's peer: in the hub's star, or in the session's room on Janus (the
        hub placed it there: more than 6 parties, or its configuration)."""
        if rep.engine == "janus":
            return JanusStar(
                self.http_url + rep.host_path,
                rep.host_session,
                video=video,
                audio=audio,
                on_video=self._on_video,
                on_audio=self._on_audio,
                on_message=self._on_message,
                on_state=self._on_state,
                on_signalling=self._on_signalling,
                ssl_context=self.http_ssl,
                janus_ssl=self.http_ssl,  # Janus's HTTPS has the hub's certificate
            )
        return StarClient(
            self.http_url + rep.host_path,
            rep.host_session,
            video=video,
            audio=audio,
            config=plan_of(rep.ice).configuration(),  # minted TURN credentials
            refresh_ice=True,  # fresh ones for every rejoin
            keep_hosts=self._keep,
            on_video=self._on_video,
            on_audio=self._on_audio,
            on_message=self._on_message,
            on_state=self._on_state,
            on_signalling=self._on_signalling,
            ssl_context=self.http_ssl,
        )

    def send(self, msg: dict[str, Any], what: str) -> None:
        star = self.star
        if star is None:
            self.model.say(t("msg.not_joined", what=what))
            return
        self._submit(star.send(msg), lambda _r: None, self._fail(what))

    def admit(self, pid: str) -> None:
        self.send({"type": "admit", "id": pid}, t("act.admit"))

    def remove(self, pid: str) -> None:
        self.send({"type": "remove", "id": pid}, t("act.remove"))

    def record(self, on: bool) -> None:
        self.send({"type": "record", "on": on}, t("act.record" if on else "act.stop_record"))

    def close(self, outcome: str, notes: str) -> bool:
        """Check the outcome form and end the session; False (and a message) if bad."""
        try:
            oc, text = check_outcome(outcome, notes)
        except MediationInputError as exc:
            self.model.say(str(exc))
            return False
        client, sid = self._client(), self.model.session_id
        if client is None or sid is None or self.model.phase != "open":
            self.model.say(t("msg.none_open"))
            return False
        self.model.set_phase("closing", t("msg.closing"))

        async def run() -> MediationReply:
            rep = await client.close_mediation(sid, oc, notes=text)
            await self._stop_star()
            return rep

        def failed(exc: BaseException) -> None:
            self.model.set_phase("open", t("msg.close_failed", error=hub_error_text(exc)))

        self._submit(run(), self._closed, failed)
        return True

    def _closed(self, rep: MediationReply) -> None:
        self.converter.stop()
        self.model.closed(rep)

    async def _stop_star(self) -> None:
        star, self.star = self.star, None
        if star is not None:
            await star.stop()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Leave the room (the session stays open on the hub); safe to call twice."""
        if self.star is not None:
            with contextlib.suppress(NetThreadError, concurrent.futures.TimeoutError):
                self._net.submit(self._stop_star()).result(timeout_s)
        self.converter.stop()
