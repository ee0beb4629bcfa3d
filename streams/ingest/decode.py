"""The pieces of one decode session that need no camera object: open, rates, scaling.

`CameraStream` (`streams.ingest.rtsp`) runs the session loop; these helpers open the
container with both timeouts and short probing (an open that only timed out becomes
`OpenTimeoutError`), measure fps and bit rate over a sliding window, and scale a
decoded frame to the tile in the decode thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import av
import av.container
import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame
from av.video.reformatter import Interpolation, VideoReformatter

from streams.ingest.avbytes import bgra_array
from streams.ingest.failures import OpenTimeoutError, classify_error
from streams.ingest.types import CameraState

ECHO_GAP_SHARE = 0.8
# a tile at most this share of its stream's width and height skips the deblocking filter
DEBLOCK_SKIP_SHARE = 0.6


def open_options(transport: str) -> dict[str, str]:
    """Demuxer options: the transport and short probing.

    The codec parameters come with the SDP (sprop-parameter-sets); probing only has to see
    the first key frame. Measured against the simulator: default probing ~2 s to the first
    frame, 500 ms / 64 KiB ~0.4 s on the sub-stream, 500 ms / 32 KiB ~0.08 s.
    """
    if transport not in ("tcp", "udp"):
        raise ValueError(f"RTSP transport must be 'tcp' or 'udp', got {transport!r}")
    return {"rtsp_transport": transport, "analyzeduration": "500000", "probesize": "32768"}


def skip_deblocking(stream: tuple[int, int], tile: tuple[int, int]) -> bool:
    """Whether decoding for this tile may skip the in-loop deblocking filter.

    Deblocking smooths the 4/8-pixel block edges H.264/H.265 leave; scaled down to
    60 % or less (a 640x360 third stream on a 25- or 36-tile wall) those edges fall
    between the tile's pixels. Skipping it took ~20 % off decoding the simulator's
    camera-like H.264 (High, CABAC; CPU a frame: third 640x360 0.41-0.46 -> 0.31-0.35
    ms, sub 0.67 -> 0.55, 720p 2.1 -> 1.6); no gain was measured on H.265. The
    full-size picture kept for snapshots is then the undeblocked one.
    """
    return tile[0] <= DEBLOCK_SKIP_SHARE * stream[0] and tile[1] <= DEBLOCK_SKIP_SHARE * stream[1]


def stream_label(profile_name: str, keyframes_only: bool) -> str:
    return profile_name + ("+key" if keyframes_only else "")


def is_activity(prev: float | None, now: float, read_timeout_s: float) -> bool:
    """Whether a packet at `now` (the previous one at `prev`) shows the camera sending.

    When FFmpeg's read timeout fires it hands out the packet it was still holding: a
    packet after a silence this long is that echo, not activity.
    """
    return prev is None or now - prev < ECHO_GAP_SHARE * read_timeout_s


def open_container(
    url: str,
    options: dict[str, str],
    open_timeout_s: float,
    read_timeout_s: float,
    clock: Callable[[], float],
) -> av.container.InputContainer:
    """`av.open` with both timeouts; an open that ran out of time is `OpenTimeoutError`."""
    t_open = clock()
    try:
        return av.open(url, options=options, timeout=(open_timeout_s, read_timeout_s))
    except Exception as exc:
        waited = clock() - t_open
        if classify_error(exc)[0] is CameraState.OFFLINE and waited >= 0.9 * open_timeout_s:
            # the camera took the connection but never answered: FFmpeg reports the
            # interrupted probe as "invalid data" or an I/O error
            raise OpenTimeoutError(
                f"the camera accepted the connection but did not answer within {open_timeout_s:g} s"
            ) from exc
        raise


class TileScaler:
    """Scales one session's decoded frames to the tile as BGRA, with one swscale context.

    `VideoFrame.reformat` makes a new `VideoReformatter` (a new SwsContext, set up anew:
    filter coefficients, YUV->RGB tables) for every frame it is called on; keeping one
    per session sets it up once per size. Single-threaded, FAST_BILINEAR. Each call
    returns a new buffer: the painter may still hold the previous frame's.
    """

    def __init__(self) -> None:
        self._reformatter = VideoReformatter()

    def __call__(self, frame: VideoFrame, target: tuple[int, int]) -> npt.NDArray[np.uint8]:
        scaled = self._reformatter.reformat(
            frame,
            target[0],
            target[1],
            format="bgra",
            interpolation=Interpolation.FAST_BILINEAR,
            threads=1,
        )
        return bgra_array(scaled)  # not to_ndarray(): PyAV leaks a None ref per call


def to_tile(frame: VideoFrame, target: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """`frame` scaled to `target` as BGRA (a one-off: a stream keeps a `TileScaler`)."""
    return TileScaler()(frame, target)


class BehindMeter:
    """How far decoding runs behind the camera's own clock: the backlog, in seconds.

    Each decoded frame's offset is its arrival (our monotonic clock) minus its
    presentation time (the camera's clock); the least offset of the session is the
    stream on time, and a frame's offset above it is how long it waited in sockets and
    buffers because decoding fell behind. The least offset creeps up by `creep_per_s`
    (1 ms a second) so that a camera clock slower than ours never looks like a backlog;
    a real backlog grows far faster than that. A backlog also grows a frame at a time:
    one frame `jump_s` or more later than the one before is the camera's clock jumping
    back (its timestamps restarted), and the measure follows the jump instead of
    reporting it as a backlog for ever.
    """

    def __init__(self, creep_per_s: float = 0.001, jump_s: float = 5.0) -> None:
        self.creep_per_s = creep_per_s
        self.jump_s = jump_s
        self._least: float | None = None
        self._last = 0.0
        self._at = 0.0

    def reset(self) -> None:
        """A new session: new clocks."""
        self._least = None

    def add(self, now: float, pts_s: float) -> float:
        """The frame presented at `pts_s` was decoded at `now`: seconds behind."""
        offset = now - pts_s
        if self._least is None:
            self._least = offset
        else:
            if offset - self._last >= self.jump_s:
                self._least += offset - self._last  # the camera's clock jumped back
            self._least = min(offset, self._least + self.creep_per_s * max(0.0, now - self._at))
        self._at = now
        self._last = offset
        return offset - self._least


class RateWindow:
    """Events over the last `window_s` seconds (for fps and kbit/s)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._items: deque[tuple[float, float]] = deque()
        self._sum = 0.0

    def add(self, t: float, value: float) -> None:
        self._items.append((t, value))
        self._sum += value
        self._expire(t)

    def _expire(self, now: float) -> None:
        while self._items and self._items[0][0] < now - self.window_s:
            self._sum -= self._items.popleft()[1]

    def rate(self, now: float) -> tuple[float, float]:
        """(events per second, value per second) over the window ending at `now`."""
        self._expire(now)
        if len(self._items) < 2:
            return 0.0, 0.0
        # n events span n-1 intervals between the first and the last event
        first = self._items[0][0]
        last = self._items[-1][0]
        span = max(last - first, 1e-3)
        return (len(self._items) - 1) / span, (self._sum - self._items[0][1]) / span

    def clear(self) -> None:
        self._items.clear()
        self._sum = 0.0
