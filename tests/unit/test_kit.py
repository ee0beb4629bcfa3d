"""The test kit itself: waits fail in time and say what, the fake clock moves only when
told, and the guard stops unmarked tests from opening sockets or starting processes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import zmq

from tests.kit import FakeClock, WaitTimeout, async_wait_until, pump_until, wait_until
from tests.kit.clock import T0
from tests.kit.guard import IoGuard, UnmarkedIO


def test_wait_until_returns_once_true_and_fails_in_time_naming_what() -> None:
    calls = [0]

    def third() -> bool:
        calls[0] += 1
        return calls[0] >= 3

    wait_until(third, timeout=1.0, interval=0.001)
    assert calls[0] == 3
    t = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"within 0\.05 s: never") as exc:
        wait_until(lambda: False, timeout=0.05, interval=0.001, what="never")
    assert 0.05 <= time.monotonic() - t < 2.0
    assert isinstance(exc.value, TimeoutError)
    with pytest.raises(WaitTimeout, match="seen 7"):
        wait_until(lambda: False, timeout=0.01, what=lambda: f"seen {7}")


def test_pump_until_runs_qt_events(qapp: object) -> None:
    from PySide6.QtCore import QTimer

    fired: list[bool] = []
    QTimer.singleShot(20, lambda: fired.append(True))
    pump_until(lambda: fired, timeout=5.0, what="the timer")
    assert fired == [True]


def test_async_wait_until_takes_plain_and_awaitable_predicates() -> None:
    async def scenario() -> None:
        n = [0]

        async def later() -> bool:
            n[0] += 1
            return n[0] >= 2

        await async_wait_until(later, timeout=1.0, interval=0.001)
        await async_wait_until(lambda: n[0] == 2, timeout=1.0)
        with pytest.raises(WaitTimeout, match="no"):
            await async_wait_until(lambda: False, timeout=0.02, interval=0.001, what="no")

    asyncio.run(scenario())


def test_fake_clock_moves_only_when_told_and_never_back() -> None:
    clock = FakeClock()
    assert clock() == T0 and clock.monotonic() == 1000.0
    time.sleep(0.01)
    assert clock() == T0
    assert clock.advance(30) == T0 + timedelta(seconds=30)
    assert clock.advance(minutes=2) == T0 + timedelta(minutes=2, seconds=30)
    assert clock.monotonic() == 1150.0
    assert clock.set(T0 + timedelta(hours=1)) == clock() == T0 + timedelta(hours=1)
    with pytest.raises(ValueError, match="does not go back"):
        clock.set(T0)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    assert clock() == T0 + timedelta(hours=1)


def test_unmarked_test_may_not_open_network_sockets(io_guard: IoGuard) -> None:
    assert io_guard.armed
    with socket.socket() as s, pytest.raises(UnmarkedIO, match="integration"):
        s.bind(("127.0.0.1", 0))
    with socket.socket() as s, pytest.raises(UnmarkedIO):
        s.connect_ex(("127.0.0.1", 9))
    ctx = zmq.Context()
    try:
        with ctx.socket(zmq.PAIR) as z:
            with pytest.raises(UnmarkedIO):
                z.bind("tcp://127.0.0.1:*")
            z.bind("inproc://kit-guard")  # stays in the process: allowed
    finally:
        ctx.term()
    a, b = socket.socketpair()  # asyncio's self-pipe: allowed
    a.close()
    b.close()
    tried = io_guard.take()
    assert [t.split("(")[0] for t in tried] == ["socket.bind", "socket.connect_ex", "zmq bind"]


def test_unmarked_test_may_not_start_processes(io_guard: IoGuard) -> None:
    with pytest.raises(UnmarkedIO, match="Popen"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    async def spawn() -> None:
        await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")

    with pytest.raises(UnmarkedIO):
        asyncio.run(spawn())
    assert len(io_guard.take()) == 2


def test_swallowed_refusals_are_still_recorded(io_guard: IoGuard) -> None:
    with contextlib.suppress(OSError):  # code under test that retries quietly
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    assert [t.split("(")[0] for t in io_guard.take()] == ["socket.connect"]


@pytest.mark.integration
def test_marked_test_may_open_sockets_and_start_processes(io_guard: IoGuard) -> None:
    assert not io_guard.armed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert io_guard.take() == []


@pytest.mark.browser
def test_real_part_markers_imply_integration(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("integration") is not None
