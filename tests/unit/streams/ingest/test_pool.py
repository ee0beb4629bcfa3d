"""The decode pool: never more cameras in it than places, a place always given back."""

from __future__ import annotations

import threading
import time

import pytest

from streams.ingest.pool import DecodePool, default_workers


def test_no_more_holders_than_places() -> None:
    pool = DecodePool(2)
    inside = 0
    most = 0
    lock = threading.Lock()
    start = threading.Barrier(6)

    def work() -> None:
        nonlocal inside, most
        start.wait()
        for _ in range(20):
            with pool.place():
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.001)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most == 2  # six threads wanted in; two at a time got in
    assert pool.free == 2
    entries, waits = pool.counts()
    assert entries == 6 * 20
    assert 0 < waits < entries


def test_a_place_is_given_back_when_the_body_fails() -> None:
    pool = DecodePool(1)
    with pytest.raises(RuntimeError), pool.place():
        assert pool.free == 0
        raise RuntimeError("decoder broke")
    assert pool.free == 1
    with pool.place():  # and it can be taken again without waiting
        assert pool.free == 0
    assert pool.counts() == (2, 0)


def test_a_waiting_camera_gets_the_place_when_it_is_freed() -> None:
    pool = DecodePool(1)
    got = threading.Event()

    def wait_for_place() -> None:
        with pool.place():
            got.set()

    with pool.place():
        t = threading.Thread(target=wait_for_place)
        t.start()
        assert not got.wait(0.2)  # the only place is taken
    assert got.wait(10)
    t.join(10)
    assert pool.counts() == (2, 1)


def test_places_go_first_come_first_served() -> None:
    """A camera giving its place back while others wait queues behind them."""
    pool = DecodePool(1)
    order: list[str] = []

    def camera(name: str) -> None:
        with pool.place():
            order.append(name)

    with pool.place():
        order.append("A")
        waiters = []
        for name in ("B", "C"):
            t = threading.Thread(target=camera, args=(name,))
            t.start()
            waiters.append(t)
            while pool.waiting < len(waiters):  # B queued before C
                time.sleep(0.001)
    camera("A")  # A wants the place again at once: it comes after B and C
    for t in waiters:
        t.join(10)
    assert order == ["A", "B", "C", "A"]


def test_a_pool_needs_a_place() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DecodePool(0)
    assert default_workers() >= 1
