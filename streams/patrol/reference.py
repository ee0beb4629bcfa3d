"""A camera's last picture, kept small, so that one key frame is enough to sample it.

A frozen picture used to be told by two key frames at least a second apart in every
probe: each probe waited for a second key frame (2 s with a camera's key frame
interval), which is most of a probe's time and of the stream it pulls. Now the patrol
keeps each camera's last picture from the round before (`Reference`: grey, the top
`ignore_top` band left out, `WIDTH` pixels wide, about 7.5 KB: 5,000 cameras ~37 MB)
and a probe stops after its first key frame when that picture differs from the
reference (`differs`). Only a picture that looks like last round's (a stuck camera, or
a scene that happens to look the same, as a looped simulator's) is looked at twice: the
probe takes a second key frame a second later, and `diagnose` judges frozen on that
pair exactly as before, with the same threshold. A camera seen for the first time (no
reference: the hub's first round) gets two key frames, as before.

Pure functions on numpy arrays; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from streams.quality.diagnosis import QualityThresholds

Image = npt.NDArray[np.uint8]
Reference = npt.NDArray[np.uint8]
WIDTH = 96  # pixels: moving cars and people stay visible, sensor noise averages away
SUSPECT_FACTOR = 2.0  # a picture within 2x the frozen threshold of the last is looked at twice


def reference_of(picture: Image, thresholds: QualityThresholds) -> Reference:
    """The small grey copy of a picture (BGR, BGRA or grey) kept until the next round."""
    if picture.ndim == 3 and picture.shape[2] == 4:
        grey = cv2.cvtColor(picture, cv2.COLOR_BGRA2GRAY)
    elif picture.ndim == 3:
        grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    else:
        grey = picture
    h, w = grey.shape[:2]
    top = round(h * thresholds.ignore_top)
    body = grey[top:]
    height = max(2, round((h - top) * WIDTH / max(w, 1)))
    small = cv2.resize(body, (WIDTH, height), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def difference(a: Reference, b: Reference) -> float | None:
    """Mean absolute luma difference of two references; None when their sizes differ
    (the camera's stream changed size: nothing to compare)."""
    if a.shape != b.shape:
        return None
    return float(cv2.absdiff(a, b).mean())


def differs(reference: Reference, picture: Image, thresholds: QualityThresholds) -> bool:
    """Whether `picture` is clearly not last round's `reference` (then one key frame is
    enough: the camera is not frozen). Not comparable counts as not different."""
    d = difference(reference, reference_of(picture, thresholds))
    return d is not None and d > SUSPECT_FACTOR * thresholds.frozen_max_diff


def unconfirmed(
    reference: Reference | None, frames: list[Image], thresholds: QualityThresholds
) -> bool:
    """A probe that saw one picture like last round's and no second look (it did not come
    within the probe's time): frozen can be neither judged nor ruled out."""
    return (
        reference is not None and len(frames) == 1 and not differs(reference, frames[0], thresholds)
    )


def plan(
    reference: Reference | None, thresholds: QualityThresholds, first_keyframes: int
) -> tuple[int, Callable[[list[Image]], bool] | None]:
    """How a probe samples a camera: at most this many key frames, and when it may stop
    early. No reference: `first_keyframes` (two: frozen from the pair). A reference: at
    most two, stopping after the first when it differs from the reference."""
    if reference is None:
        return first_keyframes, None
    ref = reference

    def enough(frames: list[Image]) -> bool:
        return len(frames) == 1 and differs(ref, frames[0], thresholds)

    return max(2, first_keyframes), enough
