"""What a tile says about its camera: state words and the status line. Pure (i18n only)."""

from __future__ import annotations

import math

from console.kit.i18n import tr
from streams.ingest.types import CameraState, CameraStatus, Frame


def state_text(status: CameraStatus | None) -> str:
    if status is None:
        return tr("state.connecting")
    if status.state is CameraState.RETRYING:
        if status.retry_in_s is None:
            return tr("state.retrying_now")
        return tr("state.retrying", seconds=max(1, math.ceil(status.retry_in_s)))
    return tr(f"state.{status.state.value}")


def is_live(status: CameraStatus | None) -> bool:
    return status is not None and status.state is CameraState.LIVE


def age_text(age_ms: float | None) -> str:
    if age_ms is None:
        return tr("tile.age_none")
    return tr("tile.age_ms", ms=round(age_ms))


STREAM_NAMES = ("main", "sub", "third")


def stream_text(status: CameraStatus | None) -> str:
    """Which of the camera's streams the tile shows (主码流/子码流/第三码流), or ""."""
    if status is None or not status.stream:
        return ""
    name = status.stream.removesuffix("+key")
    return tr(f"stream.{name}") if name in STREAM_NAMES else name


def tooltip(name: str, status: CameraStatus | None, frame: Frame | None, shed: bool) -> str:
    """The tile's tooltip: the camera, the stream shown at its full size, the tile's size."""
    text = name
    stream = stream_text(status)
    if stream and frame is not None:
        text = tr(
            "tile.tooltip",
            name=name,
            stream=stream,
            width=frame.source_width,
            height=frame.source_height,
            tile_w=frame.width,
            tile_h=frame.height,
        )
    if shed:
        text += "\n" + tr("tile.tooltip_keyframes")
    return text


def status_line(name: str, status: CameraStatus | None, age_ms: float | None, shed: bool) -> str:
    fps = status.stats.fps if status is not None else 0.0
    dropped = status.stats.dropped if status is not None else 0
    line = tr(
        "tile.status",
        name=name,
        state=state_text(status),
        fps=fps,
        age=age_text(age_ms),
        dropped=dropped,
    )
    stream = stream_text(status)
    if stream:
        line += " · " + stream
    if shed:
        line += " · " + tr("tile.keyframes")
    return line
