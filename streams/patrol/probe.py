"""Sample one camera cheaply: open, decode key frames only, keep a couple, close.

`probe(url, ...)` returns a `Probe`: online with the sampled pictures (BGR, scaled down
to `width`), or offline with the reason (refused, timeout, auth, not found, no video,
no key frame). Runs in the caller's thread; PyAV releases the GIL while it waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import av
import av.error
import numpy as np
import numpy.typing as npt

from streams.ingest.failures import redact, url_secrets
from streams.patrol.types import OfflineReason

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Probe:
    online: bool
    reason: OfflineReason
    detail: str = ""
    frames: list[Image] = field(default_factory=list)
    seconds: float = 0.0


def reason_of(exc: BaseException) -> OfflineReason:
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return OfflineReason.AUTH
    if isinstance(exc, av.error.HTTPNotFoundError):
        return OfflineReason.NOT_FOUND
    if isinstance(exc, ConnectionRefusedError):
        return OfflineReason.REFUSED
    if isinstance(exc, av.error.ExitError | TimeoutError):
        return OfflineReason.TIMEOUT
    return OfflineReason.ERROR


def frame_gap(t: float, pts: float | None, last_t: float, last_pts: float | None) -> float:
    """Seconds between two decoded key frames: by their stream times when both have one
    (a starved probe thread decodes frames that arrived seconds apart in one burst), else
    by when they were decoded."""
    if pts is not None and last_pts is not None:
        return pts - last_pts
    return t - last_t


BURST_S = 0.2  # key frames decoded closer than this came in one burst


class Step(Enum):
    KEEP = "keep"  # a new picture
    REPLACE = "replace"  # in place of the last one (which had no stream time)
    SKIP = "skip"


def choose(
    t: float,
    pts: float | None,
    last_t: float | None,
    last_pts: float | None,
    kept: int,
    min_gap_s: float,
) -> Step:
    """What to do with a decoded key frame. Decoded in one burst with the last kept one
    (within `BURST_S`: a probe thread, or a relay, starved for seconds delivers key frames
    that were seconds apart all at once, and a relay stamps them as it sends them), it
    takes the last one's place: the pair is then two key frames next to each other in the
    camera's time, never several apart (in a looping simulator, identical pictures). Else
    too close to the last kept one: skipped, unless the last had no stream time and this
    one has (it takes its place, so the next gap is measured in stream time)."""
    if last_t is None:
        return Step.KEEP
    if kept > 0 and t - last_t < BURST_S:
        return Step.REPLACE  # decoded in one burst with the last: the newer is nearer now
    if frame_gap(t, pts, last_t, last_pts) >= min_gap_s:
        return Step.KEEP
    if kept > 0 and last_pts is None and pts is not None:
        return Step.REPLACE
    return Step.SKIP


def _open(
    url: str, transport: str, open_timeout_s: float, read_timeout_s: float, t0: float
) -> av.container.InputContainer | Probe:
    """The opened stream, or the offline `Probe` saying why it would not open."""
    try:
        return av.open(
            url,
            options={
                "rtsp_transport": transport,
                "probesize": "32768",
                "analyzeduration": "500000",
            },
            timeout=(open_timeout_s, read_timeout_s),
        )
    except Exception as exc:  # every failure to open is a reason, not a crash
        elapsed = time.monotonic() - t0
        detail = redact(f"{type(exc).__name__}: {exc}", url_secrets(url))
        reason = reason_of(exc)
        if reason is OfflineReason.ERROR and elapsed >= 0.9 * open_timeout_s:
            # a server that accepts and then says nothing: FFmpeg gives up at the
            # timeout with a generic "invalid data"; what happened is a timeout
            reason = OfflineReason.TIMEOUT
        return Probe(False, reason, detail, seconds=elapsed)


def probe(
    url: str,
    *,
    keyframes: int = 2,
    width: int = 352,
    open_timeout_s: float = 3.0,
    read_timeout_s: float = 4.0,
    max_seconds: float = 8.0,
    min_gap_s: float = 1.0,
    transport: str = "tcp",
    enough: Callable[[list[Image]], bool] | None = None,
) -> Probe:
    """Decode up to `keyframes` key frames of `url` within `max_seconds`; fewer when
    `enough(pictures so far)` says so after a picture (the patrol's one key frame that
    differs from the camera's last picture), and then the stream is closed at once.

    Key frames closer than `min_gap_s` to the previous kept one are skipped (stream
    time when both frames carry one, else the time they were decoded: the first frame of
    a session often has no timestamp; `frame_gap`): a server often sends two at the
    start of a session (a relay its kept key frame, then the next), and a frozen picture
    is only told from a still scene by pictures some time apart.
    """
    if keyframes < 1:
        raise ValueError(f"probe: keyframes must be at least 1, got {keyframes}")
    t0 = time.monotonic()
    frames: list[Image] = []
    secrets = url_secrets(url)
    container = _open(url, transport, open_timeout_s, read_timeout_s, t0)
    if isinstance(container, Probe):
        return container
    try:
        streams = container.streams.video
        if not streams:
            return Probe(
                False, OfflineReason.NO_VIDEO, "no video stream", [], time.monotonic() - t0
            )
        stream = streams[0]
        stream.thread_type = "NONE"
        stream.codec_context.skip_frame = "NONKEY"
        last_t: float | None = None
        last_pts: float | None = None
        for frame in container.decode(stream):
            t = time.monotonic()
            pts = frame.time
            step = choose(t, pts, last_t, last_pts, len(frames), min_gap_s)
            if step is Step.SKIP:
                if time.monotonic() - t0 > max_seconds:
                    break
                continue
            last_t, last_pts = t, pts
            h = max(2, round(frame.height * width / max(frame.width, 1)) // 2 * 2)
            image = frame.to_ndarray(format="bgr24", width=width, height=h, threads=1)
            if step is Step.REPLACE:
                frames[-1] = np.asarray(image, dtype=np.uint8)
                continue
            frames.append(np.asarray(image, dtype=np.uint8))
            if len(frames) >= keyframes or time.monotonic() - t0 > max_seconds:
                break
            if enough is not None and enough(frames):
                break
    except Exception as exc:
        if not frames:
            detail = redact(f"{type(exc).__name__}: {exc}", secrets)
            return Probe(False, reason_of(exc), detail, seconds=time.monotonic() - t0)
    finally:
        container.close()
    if not frames:
        return Probe(
            False,
            OfflineReason.NO_KEYFRAME,
            "stream ended before a key frame",
            [],
            time.monotonic() - t0,
        )
    return Probe(True, OfflineReason.NONE, "", frames, time.monotonic() - t0)
