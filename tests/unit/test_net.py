"""The console's network thread and its bridge back to the Qt main thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtWidgets import QApplication

from console.net import NetThread, NetThreadError, QtBridge


@pytest.fixture(scope="module")
def qapp() -> QApplication:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([])


@pytest.fixture
def net() -> Iterator[NetThread]:
    n = NetThread()
    yield n
    n.stop()


def wait_until(pred: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        QApplication.processEvents()
        time.sleep(0.005)


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
    wait_until(lambda: bool(seen))
    assert seen == [threading.get_ident()] and loop_ident != threading.get_ident()


def test_bridge_keeps_errors_of_posted_callables(qapp: QApplication) -> None:
    bridge = QtBridge()

    def boom() -> None:
        raise ValueError("bad change")

    bridge.post(boom)
    bridge.post(lambda: None)
    wait_until(lambda: bool(bridge.errors))
    assert isinstance(bridge.errors[0], ValueError)
