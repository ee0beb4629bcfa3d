"""The guessing throttle with a fake clock: free failures, growing capped delays, the
block and its end, forgetting, reset for accounts, refund for clients, bounded keys."""

from __future__ import annotations

import pytest

from dispatch.domain.throttle import Throttle, ThrottlePolicy

POLICY = ThrottlePolicy(free=3, block_after=8, block_s=600, base_s=1, max_delay_s=4, forget_s=100)


def test_delays_grow_from_the_free_failures_to_the_cap_then_block() -> None:
    assert [POLICY.delay_after(n) for n in range(1, 10)] == [0, 0, 0, 1, 2, 4, 4, 600, 600]
    with pytest.raises(ValueError):
        ThrottlePolicy(free=5, block_after=5)


def test_a_key_waits_its_delay_and_is_blocked_at_the_limit() -> None:
    t = Throttle(POLICY)
    now = 1000.0
    for _ in range(3):
        assert t.retry_after("a", now) == 0
        assert not t.count("a", now)
    assert t.retry_after("a", now) == 0  # the free ones cost nothing
    t.count("a", now)  # the 4th: wait 1 s
    assert t.retry_after("a", now) == 1.0
    assert t.retry_after("a", now + 0.25) == 0.75
    assert t.retry_after("other", now) == 0  # keys are apart
    now += 1
    t.count("a", now)
    assert t.retry_after("a", now) == 2.0
    now += 2
    t.count("a", now)
    now += 4
    t.count("a", now)
    assert t.retry_after("a", now) == 4.0 and not t.blocked("a", now)
    now += 4
    assert t.count("a", now)  # the 8th failure starts the block
    assert t.blocked("a", now) and t.retry_after("a", now) == 600
    assert t.retry_after("a", now + 599) == 1.0  # not forgotten while blocked
    now += 600
    assert t.retry_after("a", now) == 0 and not t.blocked("a", now)
    assert t.count("a", now)  # the next failure blocks again at once
    assert t.failures("a", now) == 9


def test_quiet_keys_are_forgotten() -> None:
    t = Throttle(POLICY)
    for _ in range(5):
        t.count("a", 0.0)
    assert t.failures("a", 50.0) == 5
    assert t.failures("a", 101.0) == 5  # forget_s counts from the end of the wait (2 s)
    assert t.failures("a", 102.0) == 0 and t.retry_after("a", 102.0) == 0
    assert len(t) == 0


def test_reset_clears_an_account_and_refund_takes_back_one_attempt() -> None:
    t = Throttle(POLICY)
    for _ in range(5):
        t.count("acct", 0.0)
    assert t.retry_after("acct", 0.0) == 2.0
    t.reset("acct")
    assert t.failures("acct", 0.0) == 0 and t.retry_after("acct", 0.0) == 0
    for _ in range(5):
        t.count("ip", 0.0)
    t.refund("ip", 0.0)  # the 5th attempt was right: 4 failures, their 1 s delay
    assert t.failures("ip", 0.0) == 4 and t.retry_after("ip", 0.0) == 1.0
    t.count("one", 0.0)
    t.refund("one", 0.0)
    t.refund("nobody", 0.0)
    assert t.failures("one", 0.0) == 0 and len(t) == 1


def test_keys_are_bounded_dropping_the_longest_quiet() -> None:
    t = Throttle(POLICY, max_keys=3)
    for i, k in enumerate("abcd"):
        t.count(k, float(i))
    assert len(t) == 3 and t.failures("a", 4.0) == 0 and t.failures("d", 4.0) == 1
    t.count("b", 5.0)  # b used again: c is now the quietest
    t.count("e", 6.0)
    assert t.failures("c", 6.0) == 0 and t.failures("b", 6.0) == 2
