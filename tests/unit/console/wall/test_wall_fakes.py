"""A tiny fake frame source for the wall's unit tests (real one: streams.ingest.rtsp); no tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import numpy as np

from streams.ingest.types import CameraState, CameraStatus, Frame, StreamStats


class FakeStream:
    """Makes a new frame of its target size on every take(); records what the wall asked."""

    instances: ClassVar[list[FakeStream]] = []

    def __init__(self, camera_id: str, size: tuple[int, int], on_status: object) -> None:
        self.camera_id = camera_id
        self.size = size
        self.on_status = on_status
        self.started = self.stopped = 0
        self.keyframes = False
        self.source = (704, 576)  # the stream decoded (a D1 sub-stream unless a test says)
        self.seq = 0
        self.state = CameraState.LIVE
        self.behind_ms = 0.0  # how far its decoding runs behind the camera
        self.colour = (hash(camera_id) % 200 + 40, 90, 160)
        FakeStream.instances.append(self)

    def start(self) -> None:
        self.started += 1
        if callable(self.on_status):
            self.on_status(self.status())

    def stop(self) -> None:
        self.stopped += 1

    def set_target_size(self, width: int, height: int) -> None:
        self.size = (width, height)

    def set_keyframes_only(self, on: bool) -> None:
        self.keyframes = on

    def stream_size(self) -> tuple[int, int]:
        return self.source

    def _frame(self) -> Frame:
        w, h = self.size
        img = np.empty((h, w, 4), np.uint8)
        img[...] = (*self.colour, 255)
        return Frame(
            self.camera_id, img, self.seq, self.seq / 25, time.monotonic(), *self.source, "sub"
        )

    def latest(self) -> Frame | None:
        return self._frame() if self.seq else None

    def take(self, after_seq: int) -> Frame | None:
        if self.state is not CameraState.LIVE:
            return None
        self.seq += 1
        return self._frame()

    def status(self) -> CameraStatus:
        stats = StreamStats(fps=25.0, behind_ms=self.behind_ms)
        return CameraStatus(self.camera_id, self.state, "sub", stats=stats)

    def snapshot(self, folder: Path, camera_name: str) -> Path:
        path = folder / f"{camera_name}.png"
        path.write_bytes(b"png")
        return path

    def save_clip(self, folder: Path, camera_name: str, seconds: float = 30.0) -> Path:
        raise OSError("disk full")
