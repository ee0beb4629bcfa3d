"""The summary clip (摘要片段): a summary's moving seconds played back to back (pure).

`SummaryClip.of(moments)` keeps the moments of the minutes the summary found with
movement (`minutes_with_movement`: a lone moving key frame in a quiet minute, such as the
jump when a picture freezes, is noise there too) in time order, one picture per moving
second of recording. The clip plays `rate` pictures a second: the pictures over about a
minute (`TARGET_S`), never slower than `MIN_RATE` nor faster than `MAX_RATE`: an hour that
moved throughout plays in a minute, a few moving minutes in a few seconds each.
`at(elapsed_s)` is the picture to show that long after the clip started (None: it ended),
so the display timer may run at any rate and the clip keeps its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from streams.summary.motion import Moment, minutes_with_movement

TARGET_S = 60.0
MIN_RATE = 4.0
MAX_RATE = 60.0


@dataclass(frozen=True, slots=True)
class ClipPicture:
    at_ms: int  # the recorded second it shows
    jpeg: bytes

    def image(self) -> npt.NDArray[np.uint8]:
        """The picture as BGR."""
        data = np.frombuffer(self.jpeg, np.uint8)
        return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)


@dataclass(frozen=True, slots=True)
class SummaryClip:
    pictures: tuple[ClipPicture, ...]
    rate: float  # pictures a second

    @classmethod
    def of(cls, moments: Sequence[Moment]) -> SummaryClip:
        minutes = set(minutes_with_movement(list(moments)))
        kept = sorted(
            (m for m in moments if m.picture and m.at_ms // 60_000 * 60_000 in minutes),
            key=lambda m: m.at_ms,
        )
        pictures = tuple(ClipPicture(m.at_ms, m.picture) for m in kept)
        rate = min(MAX_RATE, max(MIN_RATE, len(pictures) / TARGET_S))
        return cls(pictures, rate)

    @property
    def seconds(self) -> float:
        """How long the clip plays."""
        return len(self.pictures) / self.rate

    def index_at(self, elapsed_s: float) -> int | None:
        i = int(max(0.0, elapsed_s) * self.rate)
        return i if i < len(self.pictures) else None

    def at(self, elapsed_s: float) -> ClipPicture | None:
        i = self.index_at(elapsed_s)
        return None if i is None else self.pictures[i]
