"""Video summary (视频摘要): the moments of a recording's span with movement, OpenCV only.

The span is pulled from the recorder at x16, which sends key frames only (one a second of
recording): an hour is read in under four minutes of one core's share, without decoding
a single P-frame. Each key frame is made gray and small (160x90), the time stamp strip is
cut off (it changes every second), and an OpenCV background subtractor (MOG2, a short
history so that a scene that stops moving is background again within a few seconds)
marks the moving pixels; a second whose share of moving pixels is above `MIN_SHARE` has
movement. `minutes_with_movement` then keeps the minutes where at least `MIN_SECONDS` of
the key frames moved. Each moving moment keeps a thumbnail (the key frame, BGR, 160x90)
for the summary strip and the key frame as a JPEG for the summary clip
(`streams.summary.clip`); playing a moment is the playback window's seek to its time.

No face or person recognition: only "something moved" (personal-information law; see
docs/playback.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import cv2
import numpy as np
import numpy.typing as npt

from streams.ingest.stamp import STRIP_FRACTION
from streams.playback.nvr import SCAN_SPEED, playback_url
from streams.playback.player import OPTIONS

SMALL = (160, 90)
CLIP_SIZE = (320, 180)  # the summary clip's pictures (the stamp reads down to 192 wide)
JPEG_QUALITY = 90
MAX_CLIP_PICTURES = 3600  # an hour of moving seconds (~10 KB each as JPEG)
MIN_SHARE = 0.004  # of the picture's pixels moving
MIN_SECONDS = 6  # moving key frames in a minute for the minute to count


@dataclass(frozen=True, slots=True)
class Moment:
    at_ms: int  # when in the recording (from the stream's timestamps)
    share: float  # of the picture that moved
    thumbnail: npt.NDArray[np.uint8]  # BGR, 160x90
    picture: bytes = b""  # the key frame as JPEG (CLIP_SIZE), for the summary clip


class MotionMeter:
    """Key frames in order → the share of the picture that moved (pure, no I/O)."""

    def __init__(self) -> None:
        self.sub = cv2.createBackgroundSubtractorMOG2(
            history=5, varThreshold=25, detectShadows=False
        )
        self.frames = 0

    def share(self, gray: npt.NDArray[np.uint8]) -> float:
        strip = max(1, gray.shape[0] // STRIP_FRACTION + 1)
        mask = self.sub.apply(gray[strip:], learningRate=-1)
        self.frames += 1
        if self.frames == 1:
            return 0.0  # the first picture is all "new"
        return float(np.count_nonzero(mask)) / mask.size


def summarize(track: str, start_ms: int, end_ms: int, *, timeout_s: float = 10.0) -> list[Moment]:
    """The moving moments of `start_ms`..`end_ms` (blocking: run it off the GUI thread)."""
    url = playback_url(track, start_ms, end_ms, SCAN_SPEED)
    meter = MotionMeter()
    out: list[Moment] = []
    with av.open(url, options=OPTIONS, timeout=(timeout_s, timeout_s)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        tb = float(stream.time_base or 0)
        pts0: int | None = None
        for frame in container.decode(stream):
            if pts0 is None:
                pts0 = frame.pts or 0
            at = start_ms + round(((frame.pts or 0) - pts0) * tb * 1000 * SCAN_SPEED)
            small = frame.reformat(SMALL[0], SMALL[1], format="bgr24").to_ndarray()
            gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
            share = meter.share(np.asarray(gray, np.uint8))
            if share >= MIN_SHARE:
                picture = b""
                if len(out) < MAX_CLIP_PICTURES:
                    big = frame.reformat(CLIP_SIZE[0], CLIP_SIZE[1], format="bgr24").to_ndarray()
                    ok, jpeg = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                    picture = jpeg.tobytes() if ok else b""
                out.append(Moment(at, share, np.asarray(small, np.uint8), picture))
    return out


def minutes_with_movement(moments: list[Moment], min_seconds: int = MIN_SECONDS) -> list[int]:
    """Start ms (whole UTC minutes) of the minutes with at least `min_seconds` moving."""
    counts: dict[int, int] = {}
    for m in moments:
        minute = m.at_ms // 60_000 * 60_000
        counts[minute] = counts.get(minute, 0) + 1
    return sorted(k for k, n in counts.items() if n >= min_seconds)
