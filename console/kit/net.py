"""The console's network thread: one asyncio SelectorEventLoop, and a bridge back to Qt.

`NetThread` runs the loop that hosts the hub client (zmq.asyncio) and anything else that
talks to the network. Qt code hands work to it with `submit(coro)` (which uses
`asyncio.run_coroutine_threadsafe`). Code on the loop hands results back to Qt only
through `QtBridge.post(fn)`: a queued signal delivered on the thread the bridge lives
in (the Qt main thread), so widgets and the model are only ever touched there.

`submit_to_qt` joins the two: run a coroutine on the loop and hand its result (or its
error) to a Qt-side callback.

`start()` and `stop()` are safe to call twice; `stop()` cancels the loop's tasks, waits
for them, closes the loop and joins the thread with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import selectors
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

T = TypeVar("T")
_log = logging.getLogger(__name__)

Submit = Callable[[Coroutine[Any, Any, T]], "concurrent.futures.Future[T]"]
Post = Callable[[Callable[[], None]], None]


class NetThreadError(RuntimeError):
    pass


class QtBridge(QObject):
    """Runs callables on the thread this object lives in (create it on the Qt main thread)."""

    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self._run, Qt.ConnectionType.QueuedConnection)
        self.errors: list[BaseException] = []

    def post(self, fn: Callable[[], None]) -> None:
        """Thread-safe: queue `fn` to run on the bridge's thread."""
        self._posted.emit(fn)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # keep the GUI alive, but never lose the error silently
            self.errors.append(exc)
            _log.exception("error in a callback posted from the network thread")


class NetThread:
    """A thread running an asyncio SelectorEventLoop until stop()."""

    def __init__(self, name: str = "hall-net") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise NetThreadError("the network thread is not running (call start() first)")
        return self._loop

    def start(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            if self.running:
                return
            self._ready.clear()
            loop = asyncio.SelectorEventLoop(selectors.DefaultSelector())
            self._loop = loop
            self._thread = threading.Thread(target=self._run, args=(loop,), name=self._name)
            self._thread.daemon = True
            self._thread.start()
        if not self._ready.wait(timeout_s):
            raise NetThreadError(f"the network thread did not start within {timeout_s} s")

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coro` on the loop; thread-safe. The future resolves on the network thread."""
        loop = self._loop
        if loop is None or not self.running or loop.is_closed():
            coro.close()
            raise NetThreadError("the network thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def call_soon(self, fn: Callable[[], None]) -> None:
        self.loop.call_soon_threadsafe(fn)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Cancel every task on the loop, stop it and join the thread (idempotent)."""
        with self._lock:
            thread, loop = self._thread, self._loop
            self._thread = None
            self._loop = None
        if thread is None or loop is None:
            return
        if thread.is_alive() and not loop.is_closed():
            try:
                fut = asyncio.run_coroutine_threadsafe(_cancel_all(timeout_s), loop)
                fut.result(timeout_s)
            except (concurrent.futures.TimeoutError, RuntimeError):
                pass  # the loop is already stopping; join below decides
            finally:
                if not loop.is_closed():
                    loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        if thread.is_alive():
            raise NetThreadError(f"the network thread did not stop within {timeout_s} s")


def submit_to_qt(
    submit: Submit[T],
    post: Post,
    coro: Coroutine[Any, Any, T],
    on_ok: Callable[[T], None],
    on_error: Callable[[BaseException], None],
    pending: set[concurrent.futures.Future[Any]] | None = None,
) -> None:
    """Run `coro` with `submit` (e.g. `NetThread.submit`); its result goes to `on_ok`, its
    error to `on_error`, both through `post` (e.g. `QtBridge.post`). A cancelled run calls
    neither. When `submit` refuses (the thread is not running) the coroutine is closed and
    `on_error` is called at once, on the caller's thread. `pending`, if given, holds the
    future until its outcome is posted."""
    try:
        fut = submit(coro)
    except RuntimeError as exc:  # NetThreadError, or a loop closed under our feet
        coro.close()
        on_error(exc)
        return
    if pending is not None:
        pending.add(fut)

    def done(f: concurrent.futures.Future[T]) -> None:  # on the network thread
        try:
            if f.cancelled():
                return
            exc = f.exception()
            if exc is not None:
                post(lambda: on_error(exc))
            else:
                result = f.result()
                post(lambda: on_ok(result))
        finally:
            if pending is not None:
                pending.discard(f)

    fut.add_done_callback(done)


async def _cancel_all(timeout_s: float) -> None:
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for t in tasks:
        t.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout_s)
