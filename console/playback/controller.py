"""The playback window's controller: intents from the view, one `PlaybackStream` a camera.

Qt-free. The cameras of one window play in step: a seek, a speed or a pause goes to
all. The view's display timer calls `poll()` on the Qt thread: it takes each camera's
newest picture and copies the streams' states into the model (no signal crosses
threads). An export runs on a worker thread (`export_span`: remux + SHA-256 sidecar) and
is attached to the window's event with `attach(event_id, path)` (the events panel's
`attach_evidence`, which hashes and uploads through the hub like a wall clip).
"""

from __future__ import annotations

import concurrent.futures
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from console.playback.model import CameraPlayback, PlaybackModel, SummaryItem
from console.playback.strings import tr
from streams.ingest.evidence import EvidenceError
from streams.playback.export import export_span
from streams.playback.player import PlaybackFrame, PlaybackStream
from streams.summary.clip import ClipPicture, SummaryClip
from streams.summary.motion import Moment, summarize

BEFORE_EVENT_MS = 60_000  # an event's cameras play from a minute before its report
TIMELINE_BEFORE_MS = 10 * 60_000
TIMELINE_AFTER_MS = 5 * 60_000
MAX_CAMERAS = 4
SUMMARY_RUN_GAP_MS = 5_000

Coverage = Callable[[str], Sequence[tuple[int, int]]]
Attach = Callable[[str, Path], None]


def _new_stream(camera_id: str, track: str, target: tuple[int, int]) -> PlaybackStream:
    return PlaybackStream(camera_id, track, target=target)


def summary_runs(moments: Sequence[Moment], gap_ms: int = SUMMARY_RUN_GAP_MS) -> list[SummaryItem]:
    """One item per run of movement (a new run after `gap_ms` without movement)."""
    items: list[SummaryItem] = []
    last: int | None = None
    for m in moments:
        if last is None or m.at_ms - last > gap_ms:
            items.append(SummaryItem(m.at_ms, m.thumbnail))
        last = m.at_ms
    return items


@dataclass(frozen=True, slots=True)
class PlaybackSource:
    camera_id: str
    name: str
    track: str  # the recording's RTSP address with credentials (streams.playback.nvr)


class PlaybackController:
    def __init__(
        self,
        model: PlaybackModel,
        sources: Mapping[str, PlaybackSource],
        *,
        export_folder: Path,
        coverage: Coverage | None = None,
        attach: Attach | None = None,
        target: tuple[int, int] = (640, 360),
        stream_factory: Callable[[str, str, tuple[int, int]], PlaybackStream] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.clip: SummaryClip | None = None  # the last summary's clip
        self._clip_started: float | None = None
        self.model = model
        self.sources = dict(sources)
        self.export_folder = export_folder
        self.coverage = coverage
        self.attach = attach
        self.target = target
        self._factory = stream_factory or (
            lambda cid, track, t: PlaybackStream(cid, track, target=t)
        )
        self.streams: dict[str, PlaybackStream] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="playback-export")
        # what the export worker hands to the Qt thread (applied in `poll`)
        self._posts: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    # -- opening ----------------------------------------------------------------------------
    def open(
        self,
        camera_ids: Sequence[str],
        start_ms: int,
        *,
        event_id: str | None = None,
        event_title: str = "",
        event_ms: int | None = None,
    ) -> None:
        """Play these cameras (the first four the site knows) from `start_ms`."""
        self.close_streams()
        known = [c for c in camera_ids if c in self.sources][:MAX_CAMERAS]
        cams = []
        for cid in known:
            src = self.sources[cid]
            stream = self._factory(cid, src.track, self.target)
            stream.start()
            stream.play(start_ms)
            self.streams[cid] = stream
            cover = tuple(self.coverage(cid)) if self.coverage is not None else ()
            cams.append(CameraPlayback(cid, src.name, stream.status(), cover))
        centre = event_ms if event_ms is not None else start_ms
        self.model.update(
            cameras=tuple(cams),
            span=(centre - TIMELINE_BEFORE_MS, centre + TIMELINE_AFTER_MS),
            event_id=event_id,
            event_title=event_title,
            event_ms=event_ms,
            speed=1.0,
            paused=False,
            mark_in=None,
            mark_out=None,
            message="",
        )

    def open_for_event(
        self, event_id: str, title: str, camera_ids: Sequence[str], reported_ms: int
    ) -> None:
        """An event's cameras from a minute before its report."""
        self.open(
            camera_ids,
            reported_ms - BEFORE_EVENT_MS,
            event_id=event_id,
            event_title=title,
            event_ms=reported_ms,
        )

    # -- transport ----------------------------------------------------------------------------
    def play(self) -> None:
        for s in self.streams.values():
            s.resume()
        self.model.update(paused=False)

    def pause(self) -> None:
        for s in self.streams.values():
            s.pause()
        self.model.update(paused=True)

    def toggle(self) -> None:
        self.play() if self.model.view.paused else self.pause()

    def step(self) -> None:
        for s in self.streams.values():
            s.step()
        self.model.update(paused=True)

    def set_speed(self, speed: float) -> None:
        pos = self.model.view.position_ms
        for s in self.streams.values():
            if pos is not None:
                s.play(pos, None, speed)
        self.model.update(speed=speed, paused=False)

    def seek(self, at_ms: int) -> None:
        for s in self.streams.values():
            s.seek(at_ms)

    def jump_to_event(self) -> None:
        if self.model.view.event_ms is not None:
            self.seek(self.model.view.event_ms - BEFORE_EVENT_MS)

    def mark_in(self) -> None:
        self.model.update(mark_in=self.model.view.position_ms)

    def mark_out(self) -> None:
        self.model.update(mark_out=self.model.view.position_ms)

    # -- the display timer ----------------------------------------------------------------------
    def poll(self) -> dict[str, PlaybackFrame]:
        """Each camera's newest picture not yet taken; the model gets the states."""
        while True:
            try:
                self._posts.get_nowait()()
            except queue.Empty:
                break
        frames: dict[str, PlaybackFrame] = {}
        for cid, s in self.streams.items():
            f = s.take()
            if f is not None:
                frames[cid] = f
            self.model.set_status(cid, s.status())
        return frames

    # -- export -----------------------------------------------------------------------------
    def export(self) -> concurrent.futures.Future[list[Path]] | None:
        """Export the marked span of every camera; attach to the event when there is one."""
        view = self.model.view
        a, b = view.mark_in, view.mark_out
        if a is None or b is None or b <= a:
            self.model.update(message=tr("export.no_marks"), message_error=True)
            return None
        self.model.update(
            message=tr("export.running", camera=", ".join(c.name for c in view.cameras)),
            message_error=False,
        )
        cams = [self.sources[c.camera_id] for c in view.cameras]
        return self._pool.submit(self._export, cams, a, b, view.event_id)

    def _export(
        self, cams: list[PlaybackSource], a: int, b: int, event_id: str | None
    ) -> list[Path]:
        """On the worker thread: the model and `attach` are reached through `_posts`."""
        paths: list[Path] = []
        try:
            for src in cams:
                paths.append(
                    export_span(src.track, src.camera_id, src.name, a, b, self.export_folder)
                )
        except (EvidenceError, ValueError) as exc:
            text = tr("export.failed", error=str(exc))
            self._posts.put(lambda: self.model.update(message=text, message_error=True))
            raise
        self._posts.put(lambda: self._exported(paths, event_id))
        return paths

    def _exported(self, paths: list[Path], event_id: str | None) -> None:
        attach = self.attach
        if event_id is not None and attach is not None:
            for path in paths:
                attach(event_id, path)
        names = ", ".join(p.name for p in paths)
        key = "export.attached" if event_id and attach else "export.no_event"
        self.model.update(
            message=tr(key, file=names),
            message_error=False,
            exports=self.model.view.exports + tuple(str(p) for p in paths),
        )

    # -- video summary --------------------------------------------------------------------------
    def summarize(self) -> concurrent.futures.Future[int] | None:
        """视频摘要 of the marked span on the first camera: one thumbnail per run of movement."""
        view = self.model.view
        a, b = view.mark_in, view.mark_out
        if a is None or b is None or b <= a or not view.cameras:
            self.model.update(message=tr("export.no_marks"), message_error=True)
            return None
        src = self.sources[view.cameras[0].camera_id]
        self.model.update(message=tr("summary.running"), message_error=False)
        return self._pool.submit(self._summarize, src, a, b)

    def _summarize(self, src: PlaybackSource, a: int, b: int) -> int:
        moments = summarize(src.track, a, b)
        items = summary_runs(moments)
        clip = SummaryClip.of(moments)
        text = tr("summary.done", count=len(items))

        def show() -> None:
            self.clip, self._clip_started = clip, None
            self.model.update(summary=tuple(items), message=text, clip_s=clip.seconds)

        self._posts.put(show)
        return len(items)

    def play_clip(self) -> bool:
        """摘要片段: the summary's moving seconds back to back (`clip_picture` shows them)."""
        if self.clip is None or not self.clip.pictures:
            self.model.update(message=tr("clip.none"), message_error=True)
            return False
        self._clip_started = self._clock()
        self.model.update(message=tr("clip.playing", seconds=round(self.clip.seconds)))
        return True

    def clip_picture(self) -> ClipPicture | None:
        """The clip's picture for now while it plays (the view's timer asks), else None."""
        if self.clip is None or self._clip_started is None:
            return None
        pic = self.clip.at(self._clock() - self._clip_started)
        if pic is None:
            self._clip_started = None
            self.model.update(message=tr("clip.done"), message_error=False)
        return pic

    # -- life -------------------------------------------------------------------------------
    def close_streams(self) -> None:
        streams, self.streams = self.streams, {}
        for s in streams.values():
            s.stop()

    def close(self) -> None:
        """Stop every stream and the export worker (safe twice)."""
        self.close_streams()
        self._pool.shutdown(wait=True)
