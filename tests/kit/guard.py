"""The `integration` marker is checked, not hoped for: while a test without it runs
(setup, call and teardown), opening a network socket (`socket.connect`/`connect_ex`/
`bind` on AF_INET/AF_INET6, zmq `bind`/`connect`) or starting a process
(`subprocess.Popen`, which asyncio's subprocesses use too) raises `UnmarkedIO`, and the
test fails even if the code under test swallowed that error.

`socketpair()` (asyncio's self-pipe) and Unix sockets stay allowed: they reach nothing
outside the process. A test of the guard itself takes the `io_guard` fixture and
`take()`s the violations it provoked.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
import zmq

NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class UnmarkedIO(OSError):
    """A test without the `integration` marker opened a socket or started a process.

    An `OSError`, as a refused connection or a failed exec would be, so that the code
    under test cleans up as it would then (and the test fails all the same)."""


class IoGuard:
    """Records what unmarked tests tried; armed only while such a test runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = False
        self._violations: list[str] = []

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self, armed: bool) -> None:
        self._armed = armed

    def refuse(self, what: str) -> None:
        """Called by the patched functions: records `what` and raises if armed."""
        if not self._armed:
            return
        with self._lock:
            self._violations.append(what)
        raise UnmarkedIO(f"{what} in a test without the `integration` marker")

    def take(self) -> list[str]:
        with self._lock:
            out, self._violations = self._violations, []
        return out


GUARD = IoGuard()


def _socket_guard(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if self.family in NETWORK_FAMILIES:
            GUARD.refuse(f"socket.{name}{args!r}")
        return real(self, *args, **kwargs)

    return guarded


def _zmq_guard(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(self: zmq.Socket[Any], addr: str, *args: Any, **kwargs: Any) -> Any:
        if not addr.startswith("inproc://"):
            GUARD.refuse(f"zmq {name}({addr!r})")
        return real(self, addr, *args, **kwargs)

    return guarded


def _popen_guard(real: Callable[..., None]) -> Callable[..., None]:
    def guarded(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        GUARD.refuse(f"subprocess.Popen({args!r})")
        real(self, args, *rest, **kwargs)

    return guarded


def pytest_configure(config: pytest.Config) -> None:
    for name in ("connect", "connect_ex", "bind"):
        setattr(socket.socket, name, _socket_guard(name, getattr(socket.socket, name)))
    for name in ("connect", "bind"):
        setattr(zmq.Socket, name, _zmq_guard(name, getattr(zmq.Socket, name)))
    subprocess.Popen.__init__ = _popen_guard(subprocess.Popen.__init__)  # type: ignore[method-assign]


def _check(item: pytest.Item, *, arm: bool = True) -> Generator[None, object, object]:
    GUARD.take()
    GUARD.arm(arm and item.get_closest_marker("integration") is None)
    try:
        return (yield)
    finally:
        GUARD.arm(False)
        tried = GUARD.take()
        if tried:
            pytest.fail(
                "opened a socket or started a process without the `integration` marker: "
                + "; ".join(tried),
                pytrace=False,
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _check(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _check(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    # The last test's teardown also finalises the session's fixtures (network namespaces,
    # simulators), which integration tests asked for: that is not this test's I/O.
    return (yield from _check(item, arm=nextitem is not None))


@pytest.fixture
def io_guard() -> Iterator[IoGuard]:
    """The guard, for tests of the guard: `take()` what the test provoked on purpose."""
    yield GUARD
