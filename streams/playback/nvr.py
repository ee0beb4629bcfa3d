"""The NVR form of a recording's RTSP address (`…/Streaming/tracks/101?starttime=…`).

Hikvision-like recorders (and the simulator) serve a camera's recording at
`/Streaming/tracks/<channel>01` on the camera's (or NVR's) RTSP port, with the span in
ISO 8601 basic UTC. `speed` is the simulator's extension for clients that cannot send
the Scale header (FFmpeg); a recorder that ignores it plays at x1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

TRACK_PATH = "/Streaming/tracks/101"
SPEEDS = (1.0, 2.0, 4.0, 8.0)
SCAN_SPEED = 16.0  # key frames only, for reading a span quickly (video summary)


class PlaybackUrlError(ValueError):
    """A span or speed the recorder cannot be asked for; the message says why."""


def clock(ms: int) -> str:
    """`20261202T140000Z` (ISO 8601 basic UTC) of a Unix ms; `.mmm` when not whole."""
    when = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y%m%dT%H%M%S")
    return f"{when}.{ms % 1000:03d}Z" if ms % 1000 else f"{when}Z"


def track_url(camera_url: str) -> str:
    """The recording's address on the camera's host and port (credentials kept)."""
    parts = urlsplit(camera_url)
    if parts.scheme != "rtsp" or not parts.hostname:
        raise PlaybackUrlError(f"not an rtsp:// camera address: {parts.hostname or '?'}")
    return urlunsplit(("rtsp", parts.netloc, TRACK_PATH, "", ""))


def playback_url(track: str, start_ms: int, end_ms: int | None, speed: float = 1.0) -> str:
    """`track` (see `track_url`) asked for `start_ms`..`end_ms` at `speed`."""
    if start_ms < 0:
        raise PlaybackUrlError(f"start {start_ms} is before 1970")
    if end_ms is not None and end_ms <= start_ms:
        raise PlaybackUrlError("the end of the span is not after its start")
    if speed not in SPEEDS and speed != SCAN_SPEED:
        raise PlaybackUrlError(f"speed {speed:g} is not one of x1, x2, x4, x8")
    query = f"starttime={clock(start_ms)}"
    if end_ms is not None:
        query += f"&endtime={clock(end_ms)}"
    if speed != 1.0:
        query += f"&speed={speed:g}"
    return f"{track}?{query}"
