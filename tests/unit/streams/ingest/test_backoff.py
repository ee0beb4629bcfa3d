"""Capped exponential backoff with jitter; slow retries for auth and not-found."""

from __future__ import annotations

import random

import pytest

from streams.ingest.backoff import OFFLINE_POLICY, SLOW_POLICY, Backoff, BackoffPolicy, policy_for
from streams.ingest.types import CameraState


class MaxRandom(random.Random):
    def random(self) -> float:
        return 0.999999


class ZeroRandom(random.Random):
    def random(self) -> float:
        return 0.0


def test_nominal_doubles_up_to_the_cap() -> None:
    p = BackoffPolicy(initial_s=0.5, max_s=2.0)
    assert [p.nominal(i) for i in range(5)] == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert p.nominal(10_000) == 2.0  # no overflow after a long outage


def test_jitter_only_shortens_and_stays_within_share() -> None:
    p = BackoffPolicy(initial_s=1.0, max_s=8.0, jitter=0.25)
    b = Backoff(random.Random(7))
    for attempt in range(20):
        d = b.next_delay(p)
        nominal = p.nominal(attempt)
        assert nominal * 0.75 <= d <= nominal
    assert Backoff(ZeroRandom()).next_delay(p) == 1.0
    assert Backoff(MaxRandom()).next_delay(p) == pytest.approx(0.75, abs=1e-5)


def test_jitter_spreads_cameras_apart() -> None:
    delays = {Backoff(random.Random(seed)).next_delay(OFFLINE_POLICY) for seed in range(20)}
    assert len(delays) > 10


def test_reset_starts_again_from_initial() -> None:
    b = Backoff(ZeroRandom())
    seq = [b.next_delay(OFFLINE_POLICY) for _ in range(4)]
    assert seq == [0.25, 0.5, 1.0, 1.5]
    assert b.attempt == 4
    b.reset()
    assert b.attempt == 0
    assert b.next_delay(OFFLINE_POLICY) == 0.25


def test_policy_change_restarts_the_sequence() -> None:
    b = Backoff(ZeroRandom())
    b.next_delay(OFFLINE_POLICY)
    b.next_delay(OFFLINE_POLICY)
    assert b.next_delay(SLOW_POLICY) == SLOW_POLICY.initial_s


def test_offline_camera_is_retried_fast_enough_to_be_back_within_3_s() -> None:
    # a returning camera waits at most the cap, then ~0.7 s to its first frame
    assert OFFLINE_POLICY.max_s + 0.7 < 3.0


def test_wrong_credentials_and_unknown_paths_are_retried_slowly() -> None:
    assert policy_for(CameraState.AUTH_FAILED) is SLOW_POLICY
    assert policy_for(CameraState.NOT_FOUND) is SLOW_POLICY
    assert policy_for(CameraState.NO_VIDEO) is SLOW_POLICY  # audio only: not every second
    assert policy_for(CameraState.OFFLINE) is OFFLINE_POLICY
    assert policy_for(CameraState.STALLED) is OFFLINE_POLICY
    b = Backoff(MaxRandom())
    assert min(b.next_delay(SLOW_POLICY) for _ in range(5)) >= 27.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_s": 0.0, "max_s": 1.0}, "0 < initial_s <= max_s"),
        ({"initial_s": 2.0, "max_s": 1.0}, "0 < initial_s <= max_s"),
        ({"initial_s": 1.0, "max_s": 2.0, "factor": 0.5}, "factor"),
        ({"initial_s": 1.0, "max_s": 2.0, "jitter": 1.0}, "jitter"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BackoffPolicy(**kwargs)


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        OFFLINE_POLICY.nominal(-1)
