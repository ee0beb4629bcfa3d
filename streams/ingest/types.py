"""Value types shared by ingest, evidence and the console. Pure: no I/O, no threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class CameraState(StrEnum):
    """The explicit state of one camera's ingest (Frigate-style watchdog)."""

    IDLE = "idle"  # not started, or stopped
    CONNECTING = "connecting"  # av.open under way
    LIVE = "live"  # frames arriving
    STALLED = "stalled"  # connected but no frame within the read timeout
    OFFLINE = "offline"  # connection refused / closed / end of stream
    RETRYING = "retrying"  # waiting `retry_in_s` before the next attempt
    AUTH_FAILED = "auth_failed"  # 401: wrong credentials, retried only slowly
    NOT_FOUND = "not_found"  # 404: unknown path, retried only slowly
    NO_VIDEO = "no_video"  # the stream has no video (audio only, or nothing): retried slowly
    # the decode worker process hosting the stream exited: restarted on another after
    # `retry_in_s` (not the camera's fault)
    DECODER_LOST = "decoder_lost"


@dataclass(frozen=True, slots=True)
class StreamProfile:
    """One stream a camera offers (main, sub or third)."""

    name: str  # "main" / "sub" / "third"
    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded picture, already scaled to the tile size, as BGRA bytes.

    `image` has shape (height, width, 4), dtype uint8; its rows may be padded:
    use `image.strides[0]` as the stride (bytes per line) when wrapping in a QImage.
    """

    camera_id: str
    image: npt.NDArray[np.uint8]
    seq: int  # increases by one per decoded frame of this stream session
    pts_s: float  # presentation time in seconds (stream time base)
    decoded_at: float  # monotonic clock when decoding finished
    source_width: int  # the stream's full size
    source_height: int
    stream: str  # "main" / "sub" / "third"

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class StreamStats:
    fps: float = 0.0
    kbps: float = 0.0
    decode_ms: float = 0.0  # median per frame: decoding alone (the thread's CPU time)
    scale_ms: float = 0.0  # median per frame: scaling and converting to the tile's BGRA (CPU)
    decode_cpu_s: float = 0.0  # CPU seconds spent decoding, summed over the stream's life
    scale_cpu_s: float = 0.0  # CPU seconds spent scaling to the tile, summed likewise
    behind_ms: float = 0.0  # how far decoding runs behind the camera (a backlog of frames)
    last_frame_age_s: float | None = None
    frames: int = 0
    dropped: int = 0  # frames overwritten in the latest-frame slot before anyone took them
    reconnects: int = 0
    catch_ups: int = 0  # times decoding fell CATCH_UP_S behind and skipped to a key frame
    first_frame_ms: float | None = None  # from av.open to the first decoded frame, this session


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """What a tile's status line and the camera tree show."""

    camera_id: str
    state: CameraState
    stream: str = ""
    retry_in_s: float | None = None
    last_errors: tuple[str, ...] = field(default_factory=tuple)
    stats: StreamStats = field(default_factory=StreamStats)
