"""Where a stream goes among the decode worker processes. Pure."""

from __future__ import annotations

from collections.abc import Mapping


def choose_worker(loads: Mapping[int, int], wanted: int) -> int | None:
    """The running worker with the fewest streams (the lowest id on a tie), or None: start
    a new worker, while fewer than `wanted` run (a new one has none)."""
    if wanted < 1:
        raise ValueError(f"at least one decode process is needed, got {wanted}")
    if len(loads) < wanted:
        return None
    return min(loads, key=lambda w: (loads[w], w))
