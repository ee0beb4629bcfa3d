"""What the console's published-view facades share (leader positions, relay states):
listeners, the view's `seq`, and a fetch of the whole view again when a published change
does not follow the last seq (a dropped frame, a hub restart).

A subclass keeps its own view, implements `fetch()` (which sets `seq`) and applies a
change only when `follows(seq)` says so; `_tell_each(*args)` calls every listener.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from dispatch.client.calls import Caller
from dispatch.domain.wire import HubError

log = logging.getLogger(__name__)

L = TypeVar("L", bound=Callable[..., None])


class SeqFeed(ABC, Generic[L]):
    WHAT = "view"
    """Named in the log lines."""

    def __init__(self, caller: Caller) -> None:
        self._conn = caller
        self._listeners: list[L] = []
        self.seq = 0
        self._fetching: asyncio.Task[None] | None = None

    def listen(self, listener: L) -> Callable[[], None]:
        """Call `listener` after each change until the returned function is called."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    @abstractmethod
    async def fetch(self) -> object:
        """Fetch the whole view, set `seq` and tell the listeners."""

    def follows(self, seq: int) -> bool:
        """True when a change with this seq is the next one (and `seq` is taken); an old
        one is ignored, a gap (or no view yet) makes it fetch the whole view again."""
        if seq <= self.seq:
            return False
        if self.seq == 0 or seq != self.seq + 1:
            self._refetch()
            return False
        self.seq = seq
        return True

    def _refetch(self) -> None:
        if self._fetching is not None and not self._fetching.done():
            return

        async def run() -> None:
            try:
                await self.fetch()
            except HubError as exc:
                log.info("%s: fetch after a gap failed (%s)", self.WHAT, exc)

        self._fetching = asyncio.get_running_loop().create_task(run())

    def _tell_each(self, *args: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(*args)
            except Exception:
                log.exception("%s listener failed", self.WHAT)
