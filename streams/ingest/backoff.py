"""Capped exponential backoff with jitter, per kind of failure. Pure: the caller sleeps.

A camera that is merely offline is retried quickly (so it is live again within a few
seconds of coming back); wrong credentials, unknown paths and a stream without video
are retried only slowly, so a misconfigured console never hammers a camera (many
cameras lock an account after repeated failed logins; a camera that serves audio
only does not start sending video because it is asked every second).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from streams.ingest.types import CameraState


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """`initial_s` doubling (`factor`) up to `max_s`; `jitter` shortens each delay by up to
    that share, so delays never exceed `max_s` and cameras do not retry in lockstep."""

    initial_s: float
    max_s: float
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s:
            raise ValueError(
                f"backoff needs 0 < initial_s <= max_s, got {self.initial_s} and {self.max_s}"
            )
        if self.factor < 1:
            raise ValueError(f"backoff factor must be >= 1, got {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    def nominal(self, attempt: int) -> float:
        """The delay before retry number `attempt` (0-based), without jitter."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        # cap the exponent so a long outage cannot overflow the float
        return float(min(self.max_s, self.initial_s * self.factor ** min(attempt, 64)))


# Offline (refused, closed, end of stream, timeouts): back within ~2 s of the camera's return.
OFFLINE_POLICY = BackoffPolicy(initial_s=0.25, max_s=1.5)
# Wrong credentials / unknown path / no video: a person has to fix something; never
# hammer the camera.
SLOW_POLICY = BackoffPolicy(initial_s=30.0, max_s=60.0, jitter=0.1)
SLOW_STATES = frozenset({CameraState.AUTH_FAILED, CameraState.NOT_FOUND, CameraState.NO_VIDEO})
"""States a person has to fix: retried under `SLOW_POLICY`, and shown as the state itself
while waiting (not as "retrying")."""


def policy_for(state: CameraState) -> BackoffPolicy:
    """The retry policy for the state a failure put the camera in."""
    if state in SLOW_STATES:
        return SLOW_POLICY
    return OFFLINE_POLICY


class Backoff:
    """Counts consecutive failures; `next_delay` gives the wait before the next attempt."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._attempt = 0
        self._policy: BackoffPolicy | None = None

    @property
    def attempt(self) -> int:
        """Consecutive failures so far (0 after `reset`)."""
        return self._attempt

    def next_delay(self, policy: BackoffPolicy) -> float:
        """The delay after one more failure under `policy`.

        A change of policy (e.g. offline -> auth failed) restarts the sequence of that policy.
        """
        if policy != self._policy:
            self._policy = policy
            self._attempt = 0
        delay = policy.nominal(self._attempt)
        self._attempt += 1
        return delay * (1.0 - policy.jitter * self._rng.random())

    def reset(self) -> None:
        """The camera is live again: the next failure starts from the initial delay."""
        self._attempt = 0
        self._policy = None
