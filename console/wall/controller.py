"""The wall controller: owns the camera streams and carries out the officer's intents.

Qt-free. It watches the WallModel and keeps exactly one stream per *visible*
assigned tile (other pages, a maximised neighbour or a minimised window stop
decoding), tells each stream its tile size (the ingest picks the smallest of the
camera's streams, main, sub or third, that covers the tile and scales in its
thread), sheds load honestly (a tile weighs what its stream costs to decode), runs
tours, and saves evidence on a worker thread. Its `status_changed` and
`evidence_saved` emit on those threads: observers must be thread-safe: the Qt layer
turns them into queued signals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from console.kit.observable import Observable, Subscription
from console.wall.model import Change, ChangeKind, WallModel
from console.wall.shedding import LoadShedder, ShedPlan, default_budget, stream_cost
from console.wall.tour import Tour
from streams.ingest.evidence import EvidenceError
from streams.ingest.types import CameraState, CameraStatus, Frame
from streams.private import private_dir


class TileStream(Protocol):
    """What the wall needs of a stream: `streams.ingest.rtsp.CameraStream` fits."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def set_target_size(self, width: int, height: int) -> None: ...
    def set_keyframes_only(self, on: bool) -> None: ...
    def stream_size(self) -> tuple[int, int]: ...
    def latest(self) -> Frame | None: ...
    def take(self, after_seq: int) -> Frame | None: ...
    def status(self) -> CameraStatus: ...
    def snapshot(self, folder: Path, camera_name: str) -> Path: ...
    def save_clip(self, folder: Path, camera_name: str, seconds: float = 30.0) -> Path: ...


class Closable(Protocol):
    """What decodes the wall's streams (`console.wall.decoders.Decoders`): closed when the
    wall stops, after its streams."""

    def close(self) -> None: ...


StatusCallback = Callable[[CameraStatus], None]
StreamFactory = Callable[[str, tuple[int, int], StatusCallback], TileStream]
"""Makes a tile's stream; raises KeyError for a camera the site does not have (any more)."""

DEFAULT_TILE = (480, 270)


@dataclass(frozen=True, slots=True)
class SlotStatus:
    """A tile's camera status, as `WallController.status_changed` emits it."""

    slot: int
    status: CameraStatus


@dataclass(frozen=True, slots=True)
class EvidenceResult:
    kind: str  # "snapshot" / "clip"
    camera_id: str
    camera_name: str
    path: Path | None
    error: str | None
    no_space: bool = False  # the evidence folder's disk is full (nothing was left behind)


class _Live:
    __slots__ = ("camera_id", "first_done", "keyframes", "last_seq", "started_at", "stream")

    def __init__(self, camera_id: str, stream: TileStream, started_at: float) -> None:
        self.camera_id = camera_id
        self.stream = stream
        self.last_seq = -1
        self.started_at = started_at
        self.first_done = False
        self.keyframes = False


def even_size(width: int, height: int) -> tuple[int, int]:
    """Decoders scale to even sizes of at least 16x16."""
    return max(16, width - width % 2), max(16, height - height % 2)


class WallController:
    def __init__(
        self,
        model: WallModel,
        factory: StreamFactory,
        *,
        evidence_dir: Path,
        names: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        budget: int | None = None,
        clip_seconds: float = 30.0,
        decoders: Closable | None = None,
    ) -> None:
        self.model = model
        self._decoders = decoders
        self._factory = factory
        self.evidence_dir = evidence_dir
        self._names = dict(names or {})
        self._clock = clock
        self.shedder = LoadShedder(default_budget() if budget is None else budget)
        self._clip_seconds = clip_seconds
        self._live: dict[int, _Live] = {}
        self._unknown: set[str] = set()  # cameras the factory did not know
        self._sizes: dict[int, tuple[int, int]] = {}
        self._statuses: dict[int, CameraStatus] = {}
        self._lock = threading.Lock()
        self._hidden = False
        self._running = False
        self._model_sub: Subscription | None = None
        self._workers: ThreadPoolExecutor | None = None
        self._stoppers: ThreadPoolExecutor | None = None
        self._pending_stops: list[Future[None]] = []
        self.first_frame_ms: list[float] = []
        self.tour: Tour | None = None
        # a tour entry `cam@preset` turns the PTZ camera first (console.wall.ptz_install)
        self.on_tour_preset: Callable[[str, str], None] | None = None
        # emitted on the decode and evidence threads: observers hand on to Qt themselves
        self.status_changed: Observable[SlotStatus] = Observable()
        self.evidence_saved: Observable[EvidenceResult] = Observable()
        self.plan = ShedPlan(frozenset(), 0, 0)

    # -- life ------------------------------------------------------------------
    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._workers = ThreadPoolExecutor(1, thread_name_prefix="wall-evidence")
        self._stoppers = ThreadPoolExecutor(2, thread_name_prefix="wall-stop")
        self._model_sub = self.model.changed.connect(self._on_model)
        self.reconcile()

    def stop(self) -> None:
        """Stop every stream and wait for their threads; safe to call twice."""
        if not self._running:
            return
        self._running = False
        if self._model_sub is not None:
            self._model_sub.disconnect()
            self._model_sub = None
        for slot in list(self._live):
            self._drop(slot)
        for exe in (self._stoppers, self._workers):
            if exe is not None:
                exe.shutdown(wait=True)
        self._stoppers = self._workers = None
        self._pending_stops.clear()
        if self._decoders is not None:
            self._decoders.close()  # the decode processes, once their streams stopped

    @property
    def running(self) -> bool:
        return self._running

    @property
    def factory(self) -> StreamFactory:
        return self._factory

    # -- streams ---------------------------------------------------------------
    def name(self, camera_id: str) -> str:
        return self._names.get(camera_id, camera_id)

    def known(self, camera_id: str) -> bool:
        """False for a camera the factory did not know (KeyError: not in the site): a saved
        layout may name one the site no longer has; its tile stays empty with a note."""
        return camera_id not in self._unknown

    def learn(self, names: Mapping[str, str]) -> None:
        """Cameras the factory knows from now on (a video platform's catalogue arrived):
        their names, and tiles that named them before are tried again."""
        self._names.update(names)
        if not self._unknown.isdisjoint(names):
            self._unknown.difference_update(names)
            if self._running:
                self.reconcile()

    def missing_cameras(self) -> list[str]:
        """The cameras the wall's slots name that the factory did not know (tried when
        their tile was shown), in slot order."""
        cams = (c for _s, c in sorted(self.model.assignments().items()))
        return list(dict.fromkeys(c for c in cams if not self.known(c)))

    def set_hidden(self, hidden: bool) -> None:
        """The wall cannot be seen (minimised window): decode nothing."""
        if hidden != self._hidden:
            self._hidden = hidden
            self.reconcile()

    @property
    def hidden(self) -> bool:
        return self._hidden

    def desired(self) -> dict[int, str]:
        if self._hidden or not self._running:
            return {}
        out = {}
        for slot in self.model.visible_slots():
            cam = self.model.camera(slot)
            if cam is not None and self.known(cam):
                out[slot] = cam
        return out

    def reconcile(self) -> None:
        want = self.desired()
        for slot in list(self._live):
            if want.get(slot) != self._live[slot].camera_id:
                self._drop(slot)
        for slot, cam in want.items():
            if slot not in self._live:
                size = self._sizes.get(slot, DEFAULT_TILE)
                try:
                    stream = self._factory(cam, size, self._status_callback(slot, cam))
                except KeyError:  # not in the site: the tile says so, nothing is decoded
                    self._unknown.add(cam)
                    continue
                with self._lock:
                    self._live[slot] = _Live(cam, stream, self._clock())
                stream.start()
        self.apply_shedding()

    def _status_callback(self, slot: int, cam: str) -> StatusCallback:
        def on_status(status: CameraStatus) -> None:
            with self._lock:
                live = self._live.get(slot)
                if live is None or live.camera_id != cam:
                    return
                self._statuses[slot] = status
            self.status_changed.emit(SlotStatus(slot, status))

        return on_status

    def _drop(self, slot: int) -> None:
        with self._lock:
            live = self._live.pop(slot, None)
            self._statuses.pop(slot, None)
        if live is None:
            return
        # stop() joins the decode thread, which may sit in av.open for its timeout:
        # never block the GUI thread on it
        if self._stoppers is not None:
            self._pending_stops = [f for f in self._pending_stops if not f.done()]
            self._pending_stops.append(self._stoppers.submit(live.stream.stop))
        else:
            live.stream.stop()

    def wait_stopped(self, timeout_s: float = 10.0) -> bool:
        """Wait until streams dropped so far have stopped (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        for fut in list(self._pending_stops):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                fut.result(timeout=left)
            except TimeoutError:
                return False
        return True

    def live_slots(self) -> list[int]:
        return sorted(self._live)

    def stream(self, slot: int) -> TileStream | None:
        live = self._live.get(slot)
        return None if live is None else live.stream

    def set_tile_size(self, slot: int, width: int, height: int) -> None:
        size = even_size(width, height)
        if self._sizes.get(slot) == size:
            return
        self._sizes[slot] = size
        live = self._live.get(slot)
        if live is not None:
            live.stream.set_target_size(*size)

    def take(self, slot: int) -> Frame | None:
        """The newest frame of the slot not yet painted, or None."""
        live = self._live.get(slot)
        if live is None:
            return None
        frame = live.stream.take(live.last_seq)
        if frame is None:
            if live.last_seq >= 0:
                newest = live.stream.latest()
                if newest is not None and newest.seq < live.last_seq:
                    live.last_seq = -1  # a new stream session restarted its numbering
            return None
        live.last_seq = frame.seq
        if not live.first_done:
            live.first_done = True
            self.first_frame_ms.append((self._clock() - live.started_at) * 1000.0)
        return frame

    def status(self, slot: int) -> CameraStatus | None:
        with self._lock:
            status = self._statuses.get(slot)
        if status is not None:
            return status
        live = self._live.get(slot)
        return None if live is None else live.stream.status()

    def camera_statuses(self) -> dict[str, CameraStatus]:
        """Latest status per camera shown now (for the tree's online counts)."""
        out: dict[str, CameraStatus] = {}
        for slot, live in list(self._live.items()):
            status = self.status(slot)
            if status is not None:
                prev = out.get(live.camera_id)
                if prev is None or status.state == "live":
                    out[live.camera_id] = status
        return out

    # -- load shedding ---------------------------------------------------------
    def observe_lag(self, lag_ms: float) -> None:
        """The display timer's lateness, with how far the visible live tiles' decoding runs
        behind their cameras (the median: one camera's own trouble sheds nobody)."""
        behind = []
        for slot in self.model.visible_slots():
            live = self._live.get(slot)
            if live is not None:
                st = live.stream.status()
                if st.state is CameraState.LIVE:
                    behind.append(st.stats.behind_ms)
        median = sorted(behind)[len(behind) // 2] if behind else 0.0
        self.shedder.observe(lag_ms, self._clock(), median)
        self.apply_shedding()

    def apply_shedding(self) -> None:
        visible = [s for s in self.model.visible_slots() if s in self._live]
        # each tile weighs what its stream costs to decode (a third stream about half a D1)
        costs = {s: stream_cost(*self._live[s].stream.stream_size()) for s in visible}
        self.plan = self.shedder.plan(visible, self.model.maximised, costs)
        for slot, live in self._live.items():
            want = slot in self.plan.slots
            if want != live.keyframes:
                live.keyframes = want
                live.stream.set_keyframes_only(want)
        self.model.set_shed(self.plan.slots)

    # -- intents ---------------------------------------------------------------
    def assign(self, slot: int, camera_id: str | None) -> None:
        self.model.assign(slot, camera_id)

    def close(self, slot: int) -> None:
        self.model.assign(slot, None)

    def toggle_maximise(self, slot: int) -> None:
        self.model.toggle_maximise(slot)

    def show_linkage(
        self, camera_ids: Sequence[str], title: str, *, maximise: bool = False
    ) -> list[str]:
        """Put an event's cameras on the wall (1+5, nearest large; or one maximised).

        Unknown camera ids (not in the site) are left out; returns the ids shown. A tour
        would overwrite the linkage at its next step, so it is stopped.
        """
        known = [c for c in camera_ids if not self._names or c in self._names]
        if not known:
            return []
        self.tour = None
        self.model.show_linkage(known, title, maximise=maximise)
        link = self.model.linkage
        return list(link.cameras) if link is not None else []

    def restore_previous_layout(self) -> bool:
        """Leave the linkage layout for the layout shown before it."""
        return self.model.restore_previous()

    def _on_model(self, change: Change) -> None:
        if change.kind is ChangeKind.STATUS_LINE or change.kind is ChangeKind.SHED:
            return
        self.reconcile()

    # -- tours -----------------------------------------------------------------
    def start_tour(self, cameras: Sequence[str], slots: Sequence[int], dwell_s: float) -> Tour:
        tour = Tour(cameras, slots, dwell_s)
        self.tour = tour
        self.model.assign_many(tour.start(self._clock()).assignments)
        self._tour_presets(tour, 0)
        return tour

    def _tour_presets(self, tour: Tour, step: int) -> None:
        if self.on_tour_preset is not None:
            for camera, preset in tour.presets_for(step):
                self.on_tour_preset(camera, preset)

    def pause_tour(self) -> None:
        if self.tour is not None:
            self.tour.pause(self._clock())

    def resume_tour(self) -> None:
        if self.tour is not None:
            self.tour.resume(self._clock())

    def stop_tour(self) -> None:
        self.tour = None

    def tick(self) -> None:
        """Advance a running tour if a step is due (called by the display timer)."""
        if self.tour is None:
            return
        step = self.tour.advance(self._clock())
        if step is not None:
            self.model.assign_many(step.assignments)
            self._tour_presets(self.tour, step.index)

    # -- evidence --------------------------------------------------------------
    def snapshot(self, slot: int) -> Future[EvidenceResult] | None:
        return self._evidence(slot, "snapshot")

    def save_clip(self, slot: int) -> Future[EvidenceResult] | None:
        return self._evidence(slot, "clip")

    def _evidence(self, slot: int, kind: str) -> Future[EvidenceResult] | None:
        live = self._live.get(slot)
        if live is None or self._workers is None:
            return None
        stream, cam = live.stream, live.camera_id
        name, folder, seconds = self.name(cam), self.evidence_dir, self._clip_seconds

        def work() -> EvidenceResult:
            try:
                private_dir(folder)
                if kind == "snapshot":
                    path = stream.snapshot(folder, name)
                else:
                    path = stream.save_clip(folder, name, seconds)
                result = EvidenceResult(kind, cam, name, path, None)
            except Exception as exc:  # reported to the officer, never swallowed
                full = isinstance(exc, EvidenceError) and exc.no_space
                error = f"{type(exc).__name__}: {exc}"
                result = EvidenceResult(kind, cam, name, None, error, no_space=full)
            self.evidence_saved.emit(result)
            return result

        return self._workers.submit(work)
