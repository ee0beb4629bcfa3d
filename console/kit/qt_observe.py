"""Ties a Qt view's subscriptions to the view's lifetime.

`follow(widget, observable, fn)` connects `fn` and disconnects it when `widget` is
destroyed (closed with `WA_DeleteOnClose`, deleted with its parent, or `deleteLater`),
so a model never calls into a deleted view. `release_on_destroy(widget, subscription)`
does the same for a subscription made elsewhere (e.g. the language switch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject

from console.kit.observable import Observable, Subscription

T = TypeVar("T")


def release_on_destroy(owner: QObject, *subscriptions: Subscription) -> None:
    """Disconnect `subscriptions` when `owner` is destroyed."""
    subs = list(subscriptions)

    def release(_obj: object = None) -> None:
        for sub in subs:
            sub.disconnect()

    owner.destroyed.connect(release)


def follow(owner: QObject, observable: Observable[T], fn: Callable[[T], None]) -> Subscription:
    """Connect `fn` to `observable` for as long as `owner` lives."""
    sub = observable.connect(fn)
    release_on_destroy(owner, sub)
    return sub
