"""Poll a predicate until it holds, with a deadline: plain, pumping Qt, or awaiting.

Each raises `WaitTimeout` (a `TimeoutError`) naming `what` when the deadline passes;
`what` may be a string or a callable giving the diagnostic at the time of failure.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

What = str | Callable[[], object]


class WaitTimeout(TimeoutError):
    """The predicate did not hold within the timeout."""


def _fail(timeout: float, what: What) -> WaitTimeout:
    text = what() if callable(what) else what
    return WaitTimeout(f"condition not met within {timeout} s: {text}")


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    *,
    interval: float = 0.01,
    what: What = "",
) -> None:
    """Sleep-poll `predicate` until it is truthy; `WaitTimeout` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise _fail(timeout, what)
        time.sleep(interval)


def _process_qt_events() -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()


def pump_until(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    *,
    interval: float = 0.01,
    what: What = "",
) -> None:
    """Like `wait_until`, running Qt's events between polls (and once more at the end)."""
    deadline = time.monotonic() + timeout
    while True:
        _process_qt_events()
        if predicate():
            break
        if time.monotonic() > deadline:
            raise _fail(timeout, what)
        time.sleep(interval)
    _process_qt_events()


def pump_for(seconds: float, *, interval: float = 0.005) -> None:
    """Run Qt's events for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _process_qt_events()
        time.sleep(interval)
    _process_qt_events()


async def async_wait_until(
    predicate: Callable[[], object | Awaitable[object]],
    timeout: float = 10.0,
    *,
    interval: float = 0.05,
    what: What = "",
) -> None:
    """Await-poll `predicate` (plain or returning an awaitable) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if inspect.isawaitable(got):
            got = await got
        if got:
            return
        if time.monotonic() > deadline:
            raise _fail(timeout, what)
        await asyncio.sleep(interval)
