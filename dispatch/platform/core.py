"""The state of one platform's catalogue as the hub knows it (pure)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from dispatch.domain.platform import PlatformTree


@dataclass(frozen=True, slots=True)
class CatalogueState:
    platform: str
    tree: PlatformTree | None  # last known; None before the first good read
    read_at: float | None  # wall clock of the last good read
    error: str | None  # the last refresh's error; None when the last refresh succeeded
    failures: int  # refreshes failed in a row

    @property
    def note(self) -> str | None:
        """The clear note an officer sees when the tree is not current."""
        if self.error is None:
            return None
        if self.read_at is None:
            return f"视频平台 {self.platform} 不可用，尚无目录：{self.error}"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.read_at))
        return f"视频平台 {self.platform} 不可用，显示 {when} 的目录：{self.error}"


def initial(platform: str) -> CatalogueState:
    return CatalogueState(platform=platform, tree=None, read_at=None, error=None, failures=0)


def refreshed(state: CatalogueState, tree: PlatformTree, read_at: float) -> CatalogueState:
    return CatalogueState(state.platform, tree, read_at, None, 0)


def failed(state: CatalogueState, error: str) -> CatalogueState:
    return CatalogueState(state.platform, state.tree, state.read_at, error, state.failures + 1)


FIRST_RETRY_S = 10.0
MAX_BACKOFF_S = 300.0


def next_wait(state: CatalogueState, refresh_s: float) -> float:
    """Seconds to the next refresh: `refresh_s` after a good read; after failures sooner,
    10 s doubling up to 300 s, never later than the usual refresh."""
    if state.error is None:
        return refresh_s
    backoff = FIRST_RETRY_S * 2.0 ** min(state.failures - 1, 5)
    return min(refresh_s, MAX_BACKOFF_S, backoff)
