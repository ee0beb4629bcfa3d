"""Last round's picture kept small (`streams.patrol.reference`): it tells a moving
picture from a frozen one, and the probe's plan follows it. The diagnosis on the
patrol's one-key-frame path is checked in test_quality.py (held-out table) and
test_quality_scenes.py (the simulator's scenes)."""

from __future__ import annotations

import numpy as np

from streams.patrol.reference import (
    WIDTH,
    difference,
    differs,
    plan,
    reference_of,
    unconfirmed,
)
from streams.quality.diagnosis import load_thresholds
from tests.unit.streams.quality.quality_samples import make_sample


def test_reference_is_small_and_tells_a_frozen_picture_from_a_moving_one() -> None:
    t = load_thresholds()
    moving = make_sample("healthy", 7)
    frozen = make_sample("frozen", 7)
    ref = reference_of(moving.frames[0], t)
    assert ref.dtype == np.uint8 and ref.shape[1] == WIDTH and ref.nbytes < 10_000
    assert differs(ref, moving.frames[1], t)
    frozen_ref = reference_of(frozen.frames[0], t)
    assert not differs(frozen_ref, frozen.frames[1], t)
    # a stream that changed size cannot be compared: looked at twice, never "differs"
    half = frozen.frames[1][::2, ::2]
    assert difference(frozen_ref, reference_of(half[:, : half.shape[1] // 2], t)) is None
    assert not differs(frozen_ref, half[:, : half.shape[1] // 2], t)


def test_plan_one_key_frame_only_when_the_picture_changed() -> None:
    t = load_thresholds()
    moving = make_sample("healthy", 7)
    assert plan(None, t, 2) == (2, None)  # first sight: two key frames, frozen from the pair
    most, enough = plan(reference_of(moving.frames[0], t), t, 2)
    assert most == 2 and enough is not None
    assert enough([moving.frames[1]])  # changed: the first key frame is enough
    assert not enough([moving.frames[0]])  # the same picture: look again


def test_one_picture_like_the_last_without_a_second_look_is_unconfirmed() -> None:
    t = load_thresholds()
    frozen = make_sample("frozen", 5)
    ref = reference_of(frozen.frames[0], t)
    assert unconfirmed(ref, [frozen.frames[1]], t)  # no pair: frozen not judged
    assert not unconfirmed(ref, list(frozen.frames[1:]), t)  # the pair judges it
    assert not unconfirmed(None, [frozen.frames[1]], t)  # first sight: nothing to match
    moving = make_sample("healthy", 7)
    assert not unconfirmed(reference_of(moving.frames[0], t), [moving.frames[1]], t)
