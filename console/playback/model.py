"""The playback window's state, Qt-free: emits `changed` after every change."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from console.kit.observable import Observable
from streams.playback.player import PlaybackState, PlaybackStatus


@dataclass(frozen=True, slots=True)
class CameraPlayback:
    camera_id: str
    name: str
    status: PlaybackStatus = field(default_factory=PlaybackStatus)
    coverage: tuple[tuple[int, int], ...] = ()  # where recording exists (Unix ms runs)


@dataclass(frozen=True, slots=True)
class SummaryItem:
    """A run of movement in the video summary: its first second and thumbnail."""

    at_ms: int
    thumbnail: npt.NDArray[np.uint8] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PlaybackView:
    cameras: tuple[CameraPlayback, ...] = ()
    span: tuple[int, int] | None = None  # what the timeline shows (Unix ms)
    event_id: str | None = None
    event_title: str = ""
    event_ms: int | None = None  # the event's report time
    speed: float = 1.0
    paused: bool = False
    mark_in: int | None = None
    mark_out: int | None = None
    message: str = ""
    message_error: bool = False
    exports: tuple[str, ...] = field(default_factory=tuple)  # files exported this session
    summary: tuple[SummaryItem, ...] = ()  # 视频摘要 of the export span
    clip_s: float | None = None  # how long the summary's clip plays (None: no summary yet)

    @property
    def position_ms(self) -> int | None:
        """The first camera's position (the cameras play in step)."""
        for cam in self.cameras:
            if cam.status.position_ms is not None:
                return cam.status.position_ms
        return None

    @property
    def playing(self) -> bool:
        return any(c.status.state is PlaybackState.PLAYING for c in self.cameras)


class PlaybackModel:
    def __init__(self) -> None:
        self.view = PlaybackView()
        self.changed: Observable[PlaybackView] = Observable()

    def update(self, **changes: object) -> None:
        new = replace(self.view, **changes)  # type: ignore[arg-type]
        if new != self.view:
            self.view = new
            self.changed.emit(new)

    def set_status(self, camera_id: str, status: PlaybackStatus) -> None:
        cams = tuple(
            replace(c, status=status) if c.camera_id == camera_id else c for c in self.view.cameras
        )
        self.update(cameras=cams)
