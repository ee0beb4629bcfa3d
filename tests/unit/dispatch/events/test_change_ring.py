"""The hub's ring of recent changes stays within its count and its bytes."""

from __future__ import annotations

import sys

import pytest

from dispatch.events.core import ChangeRing


def entry(i: int) -> str:
    note = "x" * 1000
    return f'{{"event":{{"id":"e{i:06d}","note":"{note}"}},"colour":"green"}}'  # one size


def test_the_ring_keeps_its_bytes_over_many_changes() -> None:
    size = sys.getsizeof(entry(0))
    ring = ChangeRing(max_entries=20_000, max_bytes=100 * size)
    for i in range(1, 10_001):
        ring.append(i, f"e{i % 300}", entry(i))
        assert ring.bytes <= ring.max_bytes
    assert len(ring) == 100
    # the last 100 are here: the changes after 9,900, not those after 9,899 (a full
    # snapshot instead)
    assert ring.since(9_900, 10_000) == [entry(i) for i in range(9_901, 10_001)]
    assert ring.since(9_899, 10_000) is None


def test_the_ring_keeps_its_count_and_always_the_newest() -> None:
    ring = ChangeRing(max_entries=3, max_bytes=10**9)
    for i in range(1, 8):
        ring.append(i, "e1" if i % 2 else "e2", entry(i))
    assert len(ring) == 3
    assert ring.since(4, 7) == [entry(6), entry(7)]  # one entry an event, newest
    assert ring.since(7, 7) == []
    tiny = ChangeRing(max_entries=5, max_bytes=1)
    tiny.append(1, "e1", entry(1))
    tiny.append(2, "e1", entry(2))
    assert len(tiny) == 1 and tiny.since(1, 2) == [entry(2)]
    assert ChangeRing(5, 5).since(0, 0) == []  # nothing published since the start
    with pytest.raises(ValueError):
        ChangeRing(0, 5)
