"""The summary clip's choice and pace (pure): the moving seconds of the minutes the summary
found, back to back, over about a minute at most."""

from __future__ import annotations

import numpy as np

from streams.summary.clip import MAX_RATE, MIN_RATE, SummaryClip
from streams.summary.motion import Moment

THUMB = np.zeros((90, 160, 3), np.uint8)


def moment(at_s: int) -> Moment:
    return Moment(at_s * 1000, 0.05, THUMB, b"jpeg-%d" % at_s)


def test_the_clip_keeps_the_moving_minutes_in_order_and_drops_lone_noise() -> None:
    moving = [moment(60 + s) for s in range(0, 60, 2)] + [moment(200 + s) for s in range(10)]
    noise = [moment(125), moment(300)]  # one moving second in a quiet minute: not a minute
    clip = SummaryClip.of([*reversed(moving), *noise])
    assert [p.at_ms for p in clip.pictures] == sorted(m.at_ms for m in moving)
    assert clip.rate == MIN_RATE and clip.seconds == len(moving) / MIN_RATE
    assert clip.at(0.0) == clip.pictures[0]
    assert clip.at(1.0 / clip.rate) == clip.pictures[1]
    assert clip.at(clip.seconds) is None  # ended


def test_an_hour_that_moved_throughout_plays_in_a_minute() -> None:
    clip = SummaryClip.of([moment(s) for s in range(3600)])
    assert clip.rate == 60.0 and abs(clip.seconds - 60.0) < 1e-9
    assert SummaryClip.of([moment(s) for s in range(7200)]).rate == MAX_RATE
    assert SummaryClip.of([]).pictures == ()
