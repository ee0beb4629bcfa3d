"""A trim really hands freed pages back: a child process fragments its glibc heap
(1 KiB blocks, most freed, every 64th kept), then trims; its RSS before and after."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from streams.heap import TRIM

pytestmark = pytest.mark.integration


CHILD = textwrap.dedent(
    """
    import asyncio, json
    from dispatch.hub import heap

    def rss_kb():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

    before = rss_kb()
    # 200 MB in 1 KiB blocks (glibc's malloc, not pymalloc), every 64th kept: the freed
    # ones are holes below the kept ones, which glibc cannot give back by itself
    blocks = [bytes(1024) for _ in range(200_000)]
    kept = blocks[::64]
    del blocks
    held = rss_kb()
    took = asyncio.run(heap.trim())
    print(json.dumps({"before": before, "held": held, "after": rss_kb(), "s": took}))
    """
)


@pytest.mark.skipif(TRIM is None, reason="glibc's malloc_trim only")
def test_a_trim_gives_freed_pages_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True
    )
    m = json.loads(out.stdout)
    grown = m["held"] - m["before"]
    assert grown > 150_000, m  # the holes stayed resident
    assert m["held"] - m["after"] > 0.8 * grown, m  # and the trim gave most of them back
