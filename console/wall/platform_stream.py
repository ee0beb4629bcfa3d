"""A wall tile's stream for a video platform's camera (docs/platform.md), Qt-free.

A platform camera has no address of its own: the tile asks the hub for a play URL when it
starts (`ask`, a coroutine run on the console's network thread), decodes it with an inner
stream (`open_url`, a `CameraStream` in the console), and asks again before the URL
expires: `ahead_s(expires_in)` before (a third of its life, at most 10 s), for a URL that
lives at least twice that long (`min_life_s`, so the hub's lease of the old one is not
handed back). The platform answers the same URL for a stream it still serves (WVP does):
nothing changes on the tile. A new URL is opened beside the old one, which keeps painting
until the new one has its first frame (or `SWAP_GIVE_UP_S`): the gap is the switch, not
the new stream's start. A stream that fails (offline, not found, stalled) asks at once
with `renew` (the hub asks the platform whatever its lease's age). The hub not answering
shows on the tile as offline with the hub's reason, asked again after `RETRY_S`.

Frame numbers run on across inner streams (`take(after_seq)` keeps working).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from console.wall.controller import StatusCallback, TileStream
from dispatch.platform.messages import PlatformStreamReply
from streams.ingest.types import CameraState, CameraStatus, Frame

log = logging.getLogger(__name__)

Ask = Callable[[str, bool, float], Coroutine[Any, Any, PlatformStreamReply]]
"""(camera id, renew, min_life_s) → the hub's answer (raises on refusal or time-out)."""
OpenUrl = Callable[[str, tuple[int, int], StatusCallback], TileStream]
Submit = Callable[[Coroutine[Any, Any, None]], concurrent.futures.Future[None]]

RETRY_S = 3.0  # after the hub could not give a URL
SWAP_GIVE_UP_S = 10.0  # the old stream stops by then even if the new one shows nothing
FAILED = frozenset(
    {CameraState.OFFLINE, CameraState.NOT_FOUND, CameraState.AUTH_FAILED, CameraState.STALLED}
)


def _stop_aside(stream: TileStream) -> None:
    """Stop a stream without blocking the caller (stop joins its decode thread)."""
    threading.Thread(target=stream.stop, name="platform-stop", daemon=True).start()


def ahead_s(expires_in_s: float) -> float:
    """How long before a URL expires the tile asks for the next one."""
    return min(10.0, expires_in_s / 3.0)


class PlatformTileStream:
    def __init__(
        self,
        camera_id: str,
        size: tuple[int, int],
        on_status: StatusCallback,
        *,
        ask: Ask,
        open_url: OpenUrl,
        submit: Submit,
    ) -> None:
        self.camera_id = camera_id
        self._size = size
        self._on_status = on_status
        self._ask = ask
        self._open = open_url
        self._submit = submit
        self._lock = threading.Lock()
        self._inner: TileStream | None = None
        self._url: str | None = None
        self._offset = 0  # added to the inner stream's frame numbers
        self._keyframes = False
        self._status = CameraStatus(camera_id, CameraState.CONNECTING)
        self._task: concurrent.futures.Future[None] | None = None
        self._stopped = False
        self._failed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.urls: list[str] = []  # every URL decoded so far, in order (tests, the log)
        self.asked = 0  # answers the hub gave

    # -- life -------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = self._submit(self._run())

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        with self._lock:
            self._stopped = True
            inner, self._inner = self._inner, None
        if inner is not None:
            inner.stop()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._failed = asyncio.Event()
        renew, min_life = False, 0.0
        try:
            while True:
                self._failed.clear()  # a failure from here on (the ask, the switch) is kept
                try:
                    rep = await self._ask(self.camera_id, renew, min_life)
                except Exception as exc:  # the hub's refusal or silence
                    if self._current()[0] is None:  # said on the tile; a URL that plays
                        self._say(CameraState.OFFLINE, str(exc))  # plays on meanwhile
                    log.info("%s: no platform URL (%s)", self.camera_id, exc)
                    await asyncio.sleep(RETRY_S)
                    continue
                self.asked += 1
                if rep.rtsp is None:
                    self._say(CameraState.NO_VIDEO, "视频平台未给出 RTSP 地址 / no RTSP URL")
                    await asyncio.sleep(RETRY_S)
                    continue
                if rep.rtsp != self._url:
                    await self._switch(rep.rtsp)
                ahead = ahead_s(rep.expires_in_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._failed.wait(), max(0.5, rep.expires_in_s - ahead))
                renew, min_life = self._failed.is_set(), 2.0 * ahead
        finally:
            self._failed = None

    async def _switch(self, url: str) -> None:
        """Decode `url`; the old stream paints until the new one's first frame."""
        new = self._open(url, self._size, self._inner_status(url))
        if self._keyframes:
            new.set_keyframes_only(True)
        new.start()
        with self._lock:
            old = self._inner
        self.urls.append(url)
        try:
            waited = 0.0
            while old is not None and new.latest() is None and waited < SWAP_GIVE_UP_S:
                await asyncio.sleep(0.02)
                waited += 0.02
        except asyncio.CancelledError:
            _stop_aside(new)  # stopped meanwhile: the new stream goes too
            raise
        with self._lock:
            if self._stopped:
                _stop_aside(new)
                return
            last = old.latest() if old is not None else None
            self._offset = (last.seq + self._offset + 1) if last is not None else self._offset
            self._inner, self._url = new, url
        if old is not None:
            await asyncio.to_thread(old.stop)

    def _inner_status(self, url: str) -> StatusCallback:
        def on_status(status: CameraStatus) -> None:  # on the decode thread
            with self._lock:
                current = self._url == url or self._url is None
            if not current:
                return
            self._report(status)
            loop, failed = self._loop, self._failed
            if status.state in FAILED and loop is not None and failed is not None:
                loop.call_soon_threadsafe(failed.set)

        return on_status

    def _say(self, state: CameraState, why: str) -> None:
        self._report(CameraStatus(self.camera_id, state, last_errors=(why,)))

    def _report(self, status: CameraStatus) -> None:
        with self._lock:
            self._status = status
        self._on_status(status)

    @property
    def url(self) -> str | None:
        """The URL the tile decodes now."""
        with self._lock:
            return self._url

    # -- what the wall reads -------------------------------------------------------------
    def _current(self) -> tuple[TileStream | None, int]:
        with self._lock:
            return self._inner, self._offset

    def set_target_size(self, width: int, height: int) -> None:
        self._size = (width, height)
        inner, _ = self._current()
        if inner is not None:
            inner.set_target_size(width, height)

    def set_keyframes_only(self, on: bool) -> None:
        self._keyframes = on
        inner, _ = self._current()
        if inner is not None:
            inner.set_keyframes_only(on)

    def stream_size(self) -> tuple[int, int]:
        inner, _ = self._current()
        return inner.stream_size() if inner is not None else self._size

    def latest(self) -> Frame | None:
        inner, offset = self._current()
        frame = inner.latest() if inner is not None else None
        return replace(frame, seq=frame.seq + offset) if frame is not None else None

    def take(self, after_seq: int) -> Frame | None:
        inner, offset = self._current()
        if inner is None:
            return None
        frame = inner.take(max(-1, after_seq - offset))
        return replace(frame, seq=frame.seq + offset) if frame is not None else None

    def status(self) -> CameraStatus:
        inner, _ = self._current()
        if inner is not None:
            return inner.status()
        with self._lock:
            return self._status

    def _need(self) -> TileStream:
        inner, _ = self._current()
        if inner is None:
            raise RuntimeError(f"{self.camera_id}: 尚无视频平台地址 / no platform URL yet")
        return inner

    def snapshot(self, folder: Path, camera_name: str) -> Path:
        return self._need().snapshot(folder, camera_name)

    def save_clip(self, folder: Path, camera_name: str, seconds: float = 30.0) -> Path:
        return self._need().save_clip(folder, camera_name, seconds)
