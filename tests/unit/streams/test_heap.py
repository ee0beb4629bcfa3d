"""Handing freed heap back (`streams.heap`): the interval every process of the hall reads
and the thread that trims in the console and its decode processes (that a trim gives
pages back: tests/integration/dispatch/hub/test_heap_trim.py)."""

from __future__ import annotations

import time

import pytest

from streams import heap
from streams.ingest.worker import trim_interval


def test_the_interval_defaults_to_a_minute_and_refuses_nonsense() -> None:
    assert heap.trim_every_s({}) == heap.TRIM_EVERY_S == 60.0
    assert heap.trim_every_s({heap.TRIM_EVERY_ENV: " 0 "}) == 0.0
    assert heap.trim_every_s({heap.TRIM_EVERY_ENV: "2.5"}) == 2.5
    for bad in ("soon", "-1", "nan", "inf"):
        with pytest.raises(ValueError, match=heap.TRIM_EVERY_ENV):
            heap.trim_every_s({heap.TRIM_EVERY_ENV: bad})


def test_a_decode_process_falls_back_to_the_default() -> None:
    # the console refuses nonsense before it starts them; other walls get the default
    assert trim_interval({heap.TRIM_EVERY_ENV: "soon"}) == heap.TRIM_EVERY_S
    assert trim_interval({heap.TRIM_EVERY_ENV: "0"}) == 0.0


@pytest.mark.skipif(heap.TRIM is None, reason="glibc's malloc_trim only")
def test_the_thread_trims_while_it_runs_and_stops_twice_safely() -> None:
    off = heap.TrimThread(0)
    off.start()  # 0 is off: no thread
    t = heap.TrimThread(0.02)
    t.start()
    t.start()  # one thread, not two
    deadline = time.monotonic() + 10
    while t.trims < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    t.stop()
    t.stop()
    stopped = t.trims
    time.sleep(0.1)
    assert off.trims == 0
    assert stopped >= 3 and t.trims == stopped  # it ran, and stopped for good
    t.start()  # and starts again
    deadline = time.monotonic() + 10
    while t.trims == stopped and time.monotonic() < deadline:
        time.sleep(0.02)
    t.stop()
    assert t.trims > stopped


def test_a_trim_reports_its_time() -> None:
    took = heap.trim_now()
    assert took >= 0.0 and (took > 0.0 or heap.TRIM is None)


@pytest.mark.skipif(heap.MALLINFO2 is None, reason="glibc 2.33 or later only")
def test_heap_info_sees_a_block_come_and_go() -> None:
    def live(info: dict[str, int]) -> int:  # a block may be mapped, or reuse free heap
        return info["in_use"] + info["mapped"]

    before = heap.heap_info()
    block = bytearray(64 << 20)
    held = heap.heap_info()
    del block
    after = heap.heap_info()
    assert set(before) == {"heap", "mapped", "in_use", "free"}
    assert live(held) - live(before) >= 64 << 20
    assert live(after) < live(held) - (32 << 20)
