"""Which of a camera's streams to pull for a tile of a given size. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from streams.ingest.types import StreamProfile


def _area(p: StreamProfile) -> int:
    return p.width * p.height


def choose_profile(profiles: Sequence[StreamProfile], tile_w: int, tile_h: int) -> StreamProfile:
    """The smallest stream at least as large as the tile in both directions, else the largest.

    Ties in area keep the order given (the first listed wins).
    """
    if not profiles:
        raise ValueError("camera has no stream profiles to choose from")
    if tile_w <= 0 or tile_h <= 0:
        raise ValueError(f"tile size must be positive, got {tile_w}x{tile_h}")
    big_enough = [p for p in profiles if p.width >= tile_w and p.height >= tile_h]
    if big_enough:
        return min(big_enough, key=_area)
    return max(profiles, key=_area)
