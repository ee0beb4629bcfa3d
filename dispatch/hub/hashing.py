"""Password hashing in a small pool of its own, with a bounded queue.

scrypt costs ~50 ms and 16 MiB per operator login. Run in the event loop's default
executor, 300 bogus logins at once queued ahead of every page's database read and stalled
the phone pages for seconds. `HashPool` gives hashing `workers` threads of its own and
lets at most `queue` more jobs wait; a job beyond that is refused at once (`PoolBusy`:
the login answers "busy, retry") instead of waiting without limit.

Nothing starts in the constructor: `start()` makes the threads, `stop()` ends them; both
are safe twice. `run` before `start` (or after `stop`) starts it (a service used in
process by tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class PoolBusy(Exception):
    """Every worker is busy and the queue is full: refuse, the client retries."""


class HashPool:
    def __init__(self, workers: int = 2, queue: int = 16) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("need workers >= 1 and queue >= 0")
        self.workers = workers
        self.queue = queue
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0
        self.refused = 0  # jobs refused as busy since start (for logs and tests)

    @property
    def pending(self) -> int:
        """Jobs running or waiting now."""
        return self._pending

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="hash")

    def stop(self) -> None:
        ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` on a hashing thread; PoolBusy at once when `workers + queue` jobs are
        already running or waiting."""
        if self._pending >= self.workers + self.queue:
            self.refused += 1
            raise PoolBusy()
        self.start()
        assert self._executor is not None
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        finally:
            self._pending -= 1
