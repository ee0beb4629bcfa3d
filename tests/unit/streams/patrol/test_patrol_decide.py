"""The patrol's fault hysteresis: one event per episode, recovery, blips, late samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from streams.patrol.decide import Decision, FaultPolicy, Tracker

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = FaultPolicy(raise_after=timedelta(minutes=10), recover_after=timedelta(minutes=2))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(tracker: Tracker, samples: Sequence[tuple[float, bool]]) -> list[Decision]:
    out = []
    for minute, healthy in samples:
        d = tracker.observe(healthy, at(minute), POLICY)
        if d is Decision.RAISE:
            tracker.raised(f"ev-{minute}")
        elif d is Decision.RECOVER:
            tracker.recovered()
        out.append(d)
    return out


def test_one_raise_per_episode_not_one_per_sample() -> None:
    t = Tracker()
    decisions = run(t, [(m, False) for m in range(0, 60, 2)])
    assert decisions.count(Decision.RAISE) == 1
    assert decisions.index(Decision.RAISE) == 5  # minute 10: exactly raise_after
    assert t.open_event == "ev-10"


def test_blip_shorter_than_raise_after_raises_nothing() -> None:
    t = Tracker()
    samples = [(0, False), (4, False), (8, False), (9, True), (12, False), (20, False)]
    assert Decision.RAISE not in run(t, samples)
    assert t.bad_since == at(12)  # the healthy sample cleared the first episode


def test_recovery_needs_recover_after_of_health() -> None:
    t = Tracker()
    d = run(
        t, [(0, False), (10, False), (11, True), (12, False), (13, True), (14, True), (15, True)]
    )
    assert d == [
        Decision.NOTHING,
        Decision.RAISE,
        Decision.NOTHING,  # healthy for 0 min
        Decision.NOTHING,  # bad again: recovery restarts
        Decision.NOTHING,
        Decision.NOTHING,  # 1 min healthy
        Decision.RECOVER,  # 2 min healthy
    ]
    assert t.open_event is None


def test_second_episode_raises_again_after_recovery() -> None:
    t = Tracker()
    d = run(t, [(0, False), (10, False), (12, True), (14, True), (20, False), (31, False)])
    assert d.count(Decision.RAISE) == 2
    assert d.count(Decision.RECOVER) == 1


def test_late_sample_is_ignored() -> None:
    t = Tracker()
    run(t, [(0, False), (10, False)])
    assert t.observe(True, at(5), POLICY) is Decision.NOTHING
    assert t.open_event == "ev-10"


def test_zero_raise_after_raises_on_first_bad_sample() -> None:
    t = Tracker()
    assert t.observe(False, T0, FaultPolicy(raise_after=timedelta(0))) is Decision.RAISE


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        FaultPolicy(raise_after=timedelta(seconds=-1))
