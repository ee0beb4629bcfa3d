"""The recording cut between speakers: the meeting's picture follows its floor log.

While nobody has the floor the MP4 shows the convenor's picture alone; while a township
has it, the convenor's picture on the left and the township's on the right, side by
side (each fitted in its half, black around). Every feed Janus recorded is named by
`Cut.names` (feed → display: the convenor `hall`, a centre's id; a participant that
rejoined after a Janus restart has several feeds, played one after the other); the floor's
changes come from the meeting's log as wall-clock seconds, the same clock as Janus's
recording headers.

Pure apart from decoding and encoding (PyAV); `compose()` writes the picture of the MP4,
`recording.finish_recording` adds the voices.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from dispatch.meetings.media import RecordingCut as Cut

SIZE = (960, 540)  # the MP4's picture
FPS = 15


@dataclass(frozen=True)
class Segment:
    path: Path  # a decodable video file (janus-pp-rec's .webm)
    start_s: float  # wall-clock second of its first frame


class Pictures:
    """One participant's pictures over the meeting (its segments in order): `at(t)` is
    the latest frame shown at wall-clock second `t`, fitted into `size`, or None."""

    def __init__(self, segments: list[Segment], size: tuple[int, int]) -> None:
        self.size = size
        self._frames = self._all(sorted(segments, key=lambda s: s.start_s))
        self._next: tuple[float, av.VideoFrame] | None = next(self._frames, None)
        self._shown: av.VideoFrame | None = None
        self._fitted: np.ndarray | None = None
        self.end_s = max((s.start_s for s in segments), default=0.0)

    @staticmethod
    def _all(segments: list[Segment]) -> Iterator[tuple[float, av.VideoFrame]]:
        for seg in segments:
            with av.open(str(seg.path)) as c:
                for packet in c.demux(video=0):
                    try:  # a damaged packet (a simulcast layer switch, loss) is skipped
                        frames = packet.decode()
                    except av.error.InvalidDataError:
                        continue
                    for frame in frames:
                        if isinstance(frame, av.VideoFrame):
                            t = float(frame.time) if frame.time is not None else 0.0
                            yield seg.start_s + t, frame

    @property
    def done(self) -> bool:
        return self._next is None

    def at(self, t: float) -> np.ndarray | None:
        while self._next is not None and self._next[0] <= t:
            self._shown, self._fitted = self._next[1], None
            self.end_s = self._next[0]
            self._next = next(self._frames, None)
        if self._shown is None:
            return None
        if self._fitted is None:
            self._fitted = fit_frame(self._shown, self.size)
        return self._fitted


def fit_frame(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame scaled to fit in `size` (proportions kept), RGB, centred on black."""
    w, h = size
    k = min(w / frame.width, h / frame.height)
    fw, fh = max(2, int(frame.width * k) // 2 * 2), max(2, int(frame.height * k) // 2 * 2)
    rgb = frame.reformat(width=fw, height=fh, format="rgb24").to_ndarray()
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - fh) // 2, (w - fw) // 2
    out[y : y + fh, x : x + fw] = rgb
    return out


def canvas(convenor: np.ndarray | None, speaker: np.ndarray | None, side: bool) -> np.ndarray:
    """The MP4's picture: the convenor full, or the convenor left and the speaker right."""
    w, h = SIZE
    out = np.zeros((h, w, 3), np.uint8)
    if not side:
        if convenor is not None:
            out[:] = convenor
        return out
    half = w // 2
    y = (h - h // 2) // 2
    for pic, x in ((convenor, 0), (speaker, half)):
        if pic is not None:
            out[y : y + pic.shape[0], x : x + pic.shape[1]] = pic
    return out


def compose(
    out: av.container.OutputContainer,
    segments: Mapping[str, list[Segment]],
    cut: Cut,
    t0: float,
    until_s: float,
) -> None:
    """The picture stream of `out`: from wall-clock `t0` to at least `until_s` seconds
    after it (the voices' length) and on until the last picture shown."""
    vs = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "28"})
    vs.width, vs.height, vs.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
    vs.time_base = Fraction(1, 90_000)
    full = Pictures(segments.get(cut.convenor, []), SIZE)
    small = (SIZE[0] // 2, SIZE[1] // 2)
    hall = Pictures(segments.get(cut.convenor, []), small)
    speakers = {c for _, c in cut.floor if c is not None and c != cut.convenor}
    towns = {name: Pictures(segments.get(name, []), small) for name in speakers}
    k = 0
    while True:
        t = t0 + k / FPS
        who = cut.speaker_at(t)
        for p in towns.values():
            p.at(t)  # every township's pictures advance with the clock
        town = towns.get(who) if who is not None else None
        if town is not None:
            pic = canvas(hall.at(t), town.at(t), side=True)
            full.at(t)
        else:
            pic = canvas(full.at(t), None, side=False)
            hall.at(t)
        frame = av.VideoFrame.from_ndarray(pic, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = k * 90_000 // FPS, vs.time_base
        for packet in vs.encode(frame):
            out.mux(packet)
        k += 1
        if k / FPS >= until_s and full.done and all(p.done for p in towns.values()):
            break
    for packet in vs.encode(None):
        out.mux(packet)
