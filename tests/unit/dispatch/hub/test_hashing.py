"""The password hashing pool: jobs run on its own threads, at most `workers + queue` at
once; beyond that `PoolBusy` at once (never an unbounded queue); start/stop twice."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dispatch.hub.hashing import HashPool, PoolBusy


def test_a_full_pool_refuses_at_once_and_frees_its_slots() -> None:
    pool = HashPool(workers=2, queue=3)
    release = threading.Event()
    names: list[str] = []

    def job() -> str:
        names.append(threading.current_thread().name)
        release.wait(5)
        return "done"

    async def go() -> None:
        pool.start()
        pool.start()
        running = [asyncio.create_task(pool.run(job)) for _ in range(5)]
        await asyncio.sleep(0.05)
        assert pool.pending == 5
        with pytest.raises(PoolBusy):
            await pool.run(job)
        assert pool.refused == 1
        release.set()
        assert await asyncio.gather(*running) == ["done"] * 5
        assert pool.pending == 0
        assert await pool.run(lambda: 42) == 42  # free again
        assert all(n.startswith("hash") for n in names)  # its own threads

    asyncio.run(go())
    pool.stop()
    pool.stop()
    with pytest.raises(ValueError):
        HashPool(workers=0)
