"""The console's one observable-model primitive, Qt-free.

A model owns one `Observable[T]` per kind of change (`model.rows_changed`,
`model.changed`, ...) and calls `emit(value)` after it has changed. An observer calls
`connect(fn)` and keeps the returned `Subscription`; `subscription.disconnect()` (safe
twice) stops the calls. Qt views tie their subscriptions to their own lifetime with
`console.kit.qt_observe.follow`, so a closed and destroyed view is never called again.

Callbacks run synchronously, in connection order, on the thread that emits (the Qt main
thread in the console: models are changed only there). A callback connected or
disconnected during an emit takes effect from the next emit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Subscription:
    """One connection of a callback to an `Observable`; `disconnect()` ends it."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove: Callable[[], None] | None = remove

    @property
    def connected(self) -> bool:
        return self._remove is not None

    def disconnect(self) -> None:
        remove, self._remove = self._remove, None
        if remove is not None:
            remove()


class Observable(Generic[T]):
    """A signal without Qt: `connect(fn) -> Subscription`, `emit(value)`."""

    def __init__(self) -> None:
        self._fns: list[Callable[[T], None]] = []

    def connect(self, fn: Callable[[T], None]) -> Subscription:
        self._fns.append(fn)
        return Subscription(lambda: self._drop(fn))

    def disconnect(self, fn: Callable[[T], None]) -> None:
        """Disconnect the first connection of `fn` (as `Subscription.disconnect` does)."""
        self._drop(fn)

    def _drop(self, fn: Callable[[T], None]) -> None:
        if fn in self._fns:
            self._fns.remove(fn)

    def emit(self, value: T) -> None:
        for fn in list(self._fns):
            fn(value)

    def __len__(self) -> int:
        """The number of connected callbacks."""
        return len(self._fns)
