"""Growing delays and a temporary block for guesses (PINs, operator passwords), per key
(a client address, an operator account). Pure: the clock is passed in (seconds, e.g.
`time.monotonic()`), nothing is read or written outside the object.

The rule (`ThrottlePolicy`): the first `free` failures of a key cost nothing; after
failure n > free the key must wait `base_s * 2**(n - free - 1)` seconds, capped at
`max_delay_s` (1, 2, 4, … s); the `block_after`-th failure blocks the key for
`block_s` seconds (and each failure after that blocks it again). A key with no
failure for `forget_s` seconds after its wait ended starts again from zero.

How a caller uses it, with no await between the first two steps (that is what makes it
atomic against concurrent guesses on one event loop):

1. `retry_after(key, now)`: > 0 means refuse now (answer 429 / `throttled` with it);
2. `count(key, now)`: the attempt counts as a failure before it is checked; True when
   this attempt started a block (audit it);
3. after the check, on success: `reset(key)` (an account: its count starts again) or
   `refund(key, now)` (a client address: this attempt was no failure, earlier ones
   still count, so a success does not wipe a client's record).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    free: int = 5
    block_after: int = 20
    block_s: float = 900.0
    base_s: float = 1.0
    max_delay_s: float = 60.0
    forget_s: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 <= self.free < self.block_after:
            raise ValueError("need 0 <= free < block_after")

    def delay_after(self, failures: int) -> float:
        """Seconds a key must wait after its `failures`-th failure."""
        if failures >= self.block_after:
            return self.block_s
        if failures <= self.free:
            return 0.0
        return min(self.max_delay_s, self.base_s * 2.0 ** (failures - self.free - 1))


@dataclass
class _Entry:
    failures: int
    last_at: float
    next_at: float
    prev_next_at: float = 0.0  # before the last count (a refund restores it)


class Throttle:
    """The failure counts of many keys under one policy (at most `max_keys` kept: the
    key quiet for longest is dropped first)."""

    def __init__(self, policy: ThrottlePolicy, *, max_keys: int = 100_000) -> None:
        self.policy = policy
        self.max_keys = max_keys
        self._keys: dict[str, _Entry] = {}

    def _entry(self, key: str, now: float) -> _Entry | None:
        e = self._keys.get(key)
        if e is not None and now - e.next_at >= self.policy.forget_s:
            del self._keys[key]
            return None
        return e

    def failures(self, key: str, now: float) -> int:
        e = self._entry(key, now)
        return 0 if e is None else e.failures

    def retry_after(self, key: str, now: float) -> float:
        """Seconds before `key` may try again (0: now)."""
        e = self._entry(key, now)
        return 0.0 if e is None else max(0.0, e.next_at - now)

    def blocked(self, key: str, now: float) -> bool:
        """Whether `key` is in a block (not just a delay)."""
        e = self._entry(key, now)
        return e is not None and e.failures >= self.policy.block_after and now < e.next_at

    def count(self, key: str, now: float) -> bool:
        """Count one failure of `key` now; True when this one started a block."""
        e = self._entry(key, now)
        if e is None:
            e = _Entry(0, now, now)
        else:
            del self._keys[key]  # re-inserted last: the dict stays ordered by last use
        e.failures += 1
        e.last_at = now
        e.prev_next_at = e.next_at
        e.next_at = now + self.policy.delay_after(e.failures)
        self._keys[key] = e
        while len(self._keys) > self.max_keys:
            del self._keys[next(iter(self._keys))]
        return e.failures >= self.policy.block_after

    def reset(self, key: str) -> None:
        """A success that clears the key (an account's right password)."""
        self._keys.pop(key, None)

    def refund(self, key: str, now: float) -> None:
        """Take back one counted failure (the attempt turned out right): the wait is
        again the one before the last count (a right attempt never lengthens it)."""
        e = self._keys.get(key)
        if e is None:
            return
        e.failures -= 1
        if e.failures <= 0:
            del self._keys[key]
            return
        e.next_at = min(e.next_at, e.prev_next_at)

    def __len__(self) -> int:
        return len(self._keys)
