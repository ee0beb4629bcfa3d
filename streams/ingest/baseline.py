"""The wall benchmark's baseline: bare PyAV decode of some streams, no Qt, no slot.

One thread per URL opens the stream exactly as ingest does (TCP, short probing, a
timeout, no frame threading), decodes and scales every frame to the tile size with
FAST_BILINEAR, reads the capture time from the frame stamp (`streams.ingest.stamp`) and records
how old the frame is when it is ready. Latency here is what decoding alone costs, so the
wall's latency minus this is what the console adds.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import Interpolation

from streams.ingest.decode import open_options
from streams.ingest.failures import redact, url_secrets
from streams.ingest.stamp import decode_stamp


@dataclass(frozen=True, slots=True)
class BaselineResult:
    latency_ms_p50: float
    latency_ms_p95: float
    fps_median: float  # per stream, over the measured period after its first frame
    frames: int  # decoded frames, all streams
    stamped: int = 0  # frames whose stamp could be read
    errors: tuple[str, ...] = ()


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0..100) with linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class _Reader:
    url: str
    latencies: list[float]
    frames: int = 0
    first_at: float | None = None
    last_at: float | None = None
    error: str | None = None


def _read(
    reader: _Reader,
    deadline: float,
    tile: tuple[int, int],
    stop: threading.Event,
    wall_ms: Callable[[], float],
) -> None:
    try:
        with av.open(reader.url, options=open_options("tcp"), timeout=(5.0, 3.0)) as c:
            vs = c.streams.video[0]
            vs.codec_context.thread_count = 1
            for packet in c.demux(vs):
                if stop.is_set() or time.monotonic() >= deadline:
                    return
                for frame in vs.codec_context.decode(packet):
                    img = frame.reformat(
                        tile[0],
                        tile[1],
                        format="bgra",
                        interpolation=Interpolation.FAST_BILINEAR,
                        threads=1,
                    ).to_ndarray()
                    now = time.monotonic()
                    stamp = decode_stamp(_u8(img))
                    if stamp is not None:
                        reader.latencies.append(wall_ms() - stamp)
                    reader.frames += 1
                    if reader.first_at is None:
                        reader.first_at = now
                    reader.last_at = now
    except Exception as exc:  # reported in the result, not raised from a thread
        detail = getattr(exc, "strerror", None) or str(exc)
        reader.error = redact(f"{type(exc).__name__}: {detail}", url_secrets(reader.url))


def _u8(img: object) -> npt.NDArray[np.uint8]:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        raise TypeError(f"expected a uint8 picture, got {type(img).__name__}")
    return img


def measure_baseline(
    urls: Sequence[str], seconds: float, tile_size: tuple[int, int] = (480, 270)
) -> BaselineResult:
    """Decode every URL for `seconds` (one thread each) and measure frame age from stamps."""
    if not urls:
        raise ValueError("measure_baseline needs at least one URL")
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    deadline = time.monotonic() + seconds
    stop = threading.Event()
    readers = [_Reader(url, []) for url in urls]
    threads = [
        threading.Thread(
            target=_read,
            args=(r, deadline, tile_size, stop, lambda: time.time() * 1000.0),
            name=f"baseline-{i}",
            daemon=True,
        )
        for i, r in enumerate(readers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 10.0)
    stop.set()
    for t in threads:
        t.join(5.0)
    latencies = [x for r in readers for x in r.latencies]
    rates = [
        (r.frames - 1) / (r.last_at - r.first_at)
        for r in readers
        if r.first_at is not None and r.last_at is not None and r.last_at > r.first_at
    ]
    return BaselineResult(
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
        fps_median=statistics.median(rates) if rates else 0.0,
        frames=sum(r.frames for r in readers),
        stamped=len(latencies),
        errors=tuple(f"{i}: {r.error}" for i, r in enumerate(readers) if r.error),
    )
