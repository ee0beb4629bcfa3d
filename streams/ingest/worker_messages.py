"""The typed messages between the GUI process and a decode worker process (pickled over a
pipe). Commands go to the worker; status changes and replies come back. Pictures never
go through the pipe: they are in shared memory (`streams.ingest.shm_slot`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.ingest.shm_slot import SegmentRef
from streams.ingest.types import CameraStatus, StreamProfile

# --- GUI → worker ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenStream:
    """Make the stream (not started yet) writing into `segment`."""

    stream_id: int
    camera_id: str
    profiles: tuple[StreamProfile, ...]
    target: tuple[int, int]
    keyframes_only: bool
    segment: SegmentRef


@dataclass(frozen=True, slots=True)
class StartStream:
    stream_id: int


@dataclass(frozen=True, slots=True)
class CloseStream:
    """Stop the stream, wait for its thread, forget it; `Reply` when done."""

    req_id: int
    stream_id: int


@dataclass(frozen=True, slots=True)
class SetTarget:
    """A new tile size; `segment` when the pictures need a bigger one (from now on)."""

    stream_id: int
    width: int
    height: int
    segment: SegmentRef | None


@dataclass(frozen=True, slots=True)
class SetKeyframesOnly:
    stream_id: int
    on: bool


@dataclass(frozen=True, slots=True)
class SaveSnapshot:
    req_id: int
    stream_id: int
    folder: Path
    camera_name: str


@dataclass(frozen=True, slots=True)
class SaveClip:
    req_id: int
    stream_id: int
    folder: Path
    camera_name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class AskEvidenceSeconds:
    req_id: int
    stream_id: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Stop every stream and exit."""


Command = (
    OpenStream
    | StartStream
    | CloseStream
    | SetTarget
    | SetKeyframesOnly
    | SaveSnapshot
    | SaveClip
    | AskEvidenceSeconds
    | Shutdown
)

# --- worker → GUI ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusChanged:
    stream_id: int
    status: CameraStatus


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a request: a path, a number, or an error (its type's name and text)."""

    req_id: int
    path: Path | None = None
    number: float | None = None
    error: str | None = None
    error_type: str = ""
    no_space: bool = False


Event = StatusChanged | Reply
