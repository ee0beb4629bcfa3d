"""The console's network thread and its bridge back to the Qt main thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, NetThreadError, QtBridge, submit_to_qt
from tests.kit import pump_until


@pytest.fixture
def net() -> Iterator[NetThread]:
    n = NetThread()
    yield n
    n.stop()


def test_start_and_stop_are_idempotent_and_the_loop_is_a_selector_loop(net: NetThread) -> None:
    net.start()
    loop = net.loop
    net.start()
    assert net.loop is loop and net.running
    assert isinstance(loop, asyncio.SelectorEventLoop)

    async def where() -> str:
        return threading.current_thread().name

    assert net.submit(where()).result(5) == "hall-net"
    net.stop()
    net.stop()
    assert not net.running and loop.is_closed()
    with pytest.raises(NetThreadError, match="not running"):
        net.submit(where())
    # and it can be started again
    net.start()
    assert net.submit(where()).result(5) == "hall-net"


def test_stop_cancels_pending_tasks(net: NetThread) -> None:
    net.start()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    fut = net.submit(forever())
    time.sleep(0.05)
    t0 = time.monotonic()
    net.stop(timeout_s=5)
    assert cancelled.is_set() and fut.cancelled()
    assert time.monotonic() - t0 < 5


def test_bridge_runs_callables_on_the_qt_thread(qapp: QApplication, net: NetThread) -> None:
    bridge = QtBridge()
    net.start()
    seen: list[int] = []

    async def post_from_loop() -> int:
        bridge.post(lambda: seen.append(threading.get_ident()))
        return threading.get_ident()

    loop_ident = net.submit(post_from_loop()).result(5)
    pump_until(lambda: bool(seen))
    assert seen == [threading.get_ident()] and loop_ident != threading.get_ident()


def test_bridge_keeps_errors_of_posted_callables(qapp: QApplication) -> None:
    bridge = QtBridge()

    def boom() -> None:
        raise ValueError("bad change")

    bridge.post(boom)
    bridge.post(lambda: None)
    pump_until(lambda: bool(bridge.errors))
    assert isinstance(bridge.errors[0], ValueError)


class Outcomes:
    """What `submit_to_qt` handed back, and on which thread."""

    def __init__(self) -> None:
        self.ok: list[object] = []
        self.errors: list[BaseException] = []
        self.threads: list[int] = []

    def on_ok(self, value: object) -> None:
        self.ok.append(value)
        self.threads.append(threading.get_ident())

    def on_error(self, exc: BaseException) -> None:
        self.errors.append(exc)
        self.threads.append(threading.get_ident())


def test_submit_to_qt_posts_the_result_to_the_qt_thread(qapp: QApplication, net: NetThread) -> None:
    net.start()
    bridge = QtBridge()
    got = Outcomes()
    pending: set[concurrent.futures.Future[Any]] = set()

    async def answer() -> int:
        return 42

    submit_to_qt(net.submit, bridge.post, answer(), got.on_ok, got.on_error, pending)
    pump_until(lambda: bool(got.ok))
    assert got.ok == [42] and got.errors == []
    assert got.threads == [threading.get_ident()] and not pending


def test_submit_to_qt_posts_the_error(qapp: QApplication, net: NetThread) -> None:
    net.start()
    bridge = QtBridge()
    got = Outcomes()

    async def fail() -> int:
        raise LookupError("no such event E-9")

    submit_to_qt(net.submit, bridge.post, fail(), got.on_ok, got.on_error)
    pump_until(lambda: bool(got.errors))
    assert got.ok == [] and got.threads == [threading.get_ident()]
    assert isinstance(got.errors[0], LookupError) and "E-9" in str(got.errors[0])


def test_submit_to_qt_refused_closes_the_coroutine_and_reports_at_once(net: NetThread) -> None:
    got = Outcomes()
    posted: list[Callable[[], None]] = []
    pending: set[concurrent.futures.Future[Any]] = set()

    async def never() -> int:
        return 1

    coro = never()
    submit_to_qt(net.submit, posted.append, coro, got.on_ok, got.on_error, pending)  # not started
    assert isinstance(got.errors[0], NetThreadError) and got.ok == [] and not pending
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED

    def refuse(c: Coroutine[Any, Any, int]) -> concurrent.futures.Future[int]:
        raise RuntimeError("Event loop is closed")  # does not close `c` itself

    coro = never()
    submit_to_qt(refuse, posted.append, coro, got.on_ok, got.on_error, pending)
    assert str(got.errors[1]) == "Event loop is closed" and not pending and posted == []
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


def test_submit_to_qt_cancelled_reports_nothing(qapp: QApplication, net: NetThread) -> None:
    net.start()
    got = Outcomes()
    posted: list[Callable[[], None]] = []
    pending: set[concurrent.futures.Future[Any]] = set()
    started = threading.Event()

    async def forever() -> int:
        started.set()
        await asyncio.sleep(3600)
        return 1

    submit_to_qt(net.submit, posted.append, forever(), got.on_ok, got.on_error, pending)
    assert len(pending) == 1 and started.wait(5)
    net.stop()
    pump_until(lambda: not pending)  # it leaves `pending` only after its outcome is posted
    assert posted == [] and got.ok == [] and got.errors == []
