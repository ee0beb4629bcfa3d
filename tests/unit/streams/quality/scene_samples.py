"""The quality diagnosis on the simulator's own scenes, encoded as its cameras send them.

Each sample is one simulated camera (a seed: street or square, by day or at night) in
one picture mode (`streams.simulator.picture.MODES`: normal is the healthy kind), seen as
the patrol sees it: three key frames 2 s apart (frames k*50 + offset), each encoded as
an intra picture by PyAV's libx264 with the simulator's camera profile for the sub
stream (High, CABAC, the sub stream's quantiser), decoded and scaled to the patrol's
352-pixel width. The simulator has no `blank` mode, so that row stays empty.

    python -m tests.unit.streams.quality.scene_samples [FIRST_SEED [COUNT]]

prints the precision/recall table (recorded in docs/quality.md) and the wrong diagnoses.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from fractions import Fraction

import av
import numpy as np
from av.codec.context import CodecContext
from av.video.codeccontext import VideoCodecContext

from streams.ingest.stamp import stamp_row, strip_height
from streams.quality.diagnosis import Diagnosis, diagnose, load_thresholds
from streams.simulator.encoding import quantiser
from streams.simulator.picture import MODES, PictureSource
from tests.unit.streams.quality.quality_samples import Image, Sample, score, table

SIZE = (704, 576)  # the sub stream: what the patrol reads
PATROL_WIDTH = 352
KIND_OF_MODE = {mode: ("healthy" if mode == "normal" else mode) for mode in MODES}


def _encode_decode(raw: bytes, width: int, height: int) -> Image:
    """One I420 frame through an intra-only camera-profile H.264 encode and back (BGR)."""
    enc = CodecContext.create("libx264", "w")
    assert isinstance(enc, VideoCodecContext)
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base = Fraction(1, 25)
    enc.options = {
        "preset": "superfast",
        "profile": "high",
        "x264-params": f"keyint=1:qp={quantiser('camera', 'sub')}:8x8dct=1",
    }
    arr = np.frombuffer(raw, np.uint8).reshape(height * 3 // 2, width)
    frame = av.VideoFrame.from_ndarray(arr, format="yuv420p")
    frame.pts = 0
    packets = [*enc.encode(frame), *enc.encode(None)]
    dec = CodecContext.create("h264", "r")
    decoded = [f for p in packets for f in dec.decode(p)] + list(dec.decode(None))
    assert len(decoded) == 1
    h = round(height * PATROL_WIDTH / width) // 2 * 2
    bgr = decoded[0].to_ndarray(format="bgr24", width=PATROL_WIDTH, height=h)  # type: ignore[union-attr]
    return np.asarray(bgr, dtype=np.uint8)


def camera_samples(seeds: Sequence[int], modes: Sequence[str] = MODES) -> Iterator[Sample]:
    """One sample per seed, time of day (day, night) and mode."""
    width, height = SIZE
    t0 = 1_700_000_000_000
    for seed in seeds:
        for night in (False, True):
            strip = strip_height(height)
            pic = PictureSource(width, height, seed=seed, strip_rows=strip, night=night)
            offset = (seed * 37) % 50
            for mode in modes:
                pic.set_mode(mode)
                frames = tuple(
                    _encode_decode(pic.frame(i, stamp_row(t0 + 40 * i, width)), width, height)
                    for i in (offset, offset + 50, offset + 100)
                )
                yield Sample(KIND_OF_MODE[mode], seed * 2 + night, 1.0 if night else 0.0, frames)


def results(seeds: Sequence[int]) -> list[tuple[Sample, Diagnosis]]:
    thresholds = load_thresholds()
    return [(s, diagnose(s.frames, thresholds)) for s in camera_samples(seeds)]


def wrong(found: Sequence[tuple[Sample, Diagnosis]]) -> list[str]:
    return [
        f"  {s.kind} seed {s.seed // 2} {'night' if s.seed % 2 else 'day'}: "
        f"got {[str(f) for f in d.faults]}"
        for s, d in found
        if set(d.faults) != s.expected
    ]


def main(argv: Sequence[str]) -> int:
    first = int(argv[0]) if argv else 1
    count = int(argv[1]) if len(argv) > 1 else 12
    found = results(range(first, first + count))
    print(f"simulator scenes, seeds {first}..{first + count - 1}, day and night, {SIZE}:")
    print(table(score(found), found))
    print("wrong diagnoses:\n" + ("\n".join(wrong(found)) or "  none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
