"""Hot-spot warnings (热点预警): categories and grids whose count in the last period is
unusually high against their own history.

Pure: no I/O, no clock reads; `now` is passed in.

The method (documented in docs/reports.md):

- Time is cut into periods of `period` (default 7 days) ending at `now`: period 0 is
  [now - period, now), period k is k periods earlier. The current count `c` of a key
  (a category, a grid) is its number of events in period 0; its history is the counts
  in periods 1..`history_periods` (default 8).
- The baseline rate is the mean of the history, floored at `min_rate` (default 0.5 per
  period) so that a key with no history is not "infinitely" surprising.
- A key is a hot spot when all of these hold:
  1. `c >= min_count` (default 5): a handful of events is never a hot spot;
  2. `c >= min_ratio * baseline` (default 2.0): clearly above its own normal level;
  3. the Poisson upper tail P(X >= c | baseline) is below `alpha` (default 0.01): the
     count is unlikely under the key's own history. A key whose count is steadily high
     has a high baseline and so is not flagged.
- Each warning carries the ids of its events in period 0, oldest first (by time, then
  id), so that the console can open them with one click, and the history counts so that
  a person can judge it. (What goes on the wire is the newest `HOTSPOT_IDS_MAX` of them:
  `dispatch.reports.core.hotspot_items`.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class HotspotKind(StrEnum):
    CATEGORY = "category"
    GRID = "grid"


@dataclass(frozen=True)
class HotspotPolicy:
    period: timedelta = timedelta(days=7)
    history_periods: int = 8
    min_count: int = 5
    min_ratio: float = 2.0
    alpha: float = 0.01
    min_rate: float = 0.5

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ValueError(f"period must be positive, got {self.period}")
        if self.history_periods < 1:
            raise ValueError(f"history_periods must be at least 1, got {self.history_periods}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {self.min_count}")
        if self.min_ratio < 1.0:
            raise ValueError(f"min_ratio must be at least 1, got {self.min_ratio}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        if self.min_rate <= 0.0:
            raise ValueError(f"min_rate must be positive, got {self.min_rate}")


DEFAULT_HOTSPOT_POLICY = HotspotPolicy()


@dataclass(frozen=True)
class Occurrence:
    """One event as the detector sees it: its id, when, and its keys."""

    event_id: str
    at: datetime
    category: str
    grid: str | None = None


@dataclass(frozen=True)
class Hotspot:
    kind: HotspotKind
    key: str
    count: int
    """events in the last period"""
    history: tuple[int, ...]
    """counts of the previous periods, most recent first"""
    baseline: float
    """the rate the count was tested against (history mean, floored at min_rate)"""
    p_value: float
    event_ids: tuple[str, ...]
    """the events of the last period, oldest first"""
    period_start: datetime
    period_end: datetime

    @property
    def ratio(self) -> float:
        return self.count / self.baseline


def poisson_sf(count: int, rate: float) -> float:
    """P(X >= count) for X ~ Poisson(rate), computed without overflow."""
    if rate <= 0.0:
        raise ValueError(f"rate must be positive, got {rate}")
    if count <= 0:
        return 1.0
    # 1 - P(X <= count - 1), summing the pmf in log space
    log_rate = math.log(rate)
    cdf = 0.0
    for k in range(count):
        cdf += math.exp(k * log_rate - rate - math.lgamma(k + 1))
    return max(0.0, 1.0 - cdf) if cdf < 0.999 else _upper_sum(count, rate, log_rate)


def _upper_sum(count: int, rate: float, log_rate: float) -> float:
    """The upper tail summed directly (precise when it is tiny). Past the mode the terms
    only fall: a term that underflows to 0 ends the sum (a tail below the smallest
    float is 0.0; the sum used to wait for `0 < 0 * 1e-17` forever, e.g. 2,000 events
    of a category over a baseline of 0.5, which locked a hub thread per request)."""
    total = 0.0
    k = count
    while True:
        term = math.exp(k * log_rate - rate - math.lgamma(k + 1))
        total += term
        if k > rate and (term == 0.0 or term < total * 1e-17):
            return total
        k += 1


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")


def _period_index(at: datetime, now: datetime, period: timedelta) -> int | None:
    """0 for [now - period, now), 1 for the period before, ...; None for the future."""
    if at >= now:
        return None
    return int((now - at) // period)


def _evaluate(
    kind: HotspotKind,
    key: str,
    buckets: dict[int, list[tuple[datetime, str]]],
    now: datetime,
    policy: HotspotPolicy,
) -> Hotspot | None:
    current = buckets.get(0, [])
    count = len(current)
    if count < policy.min_count:
        return None
    history = tuple(len(buckets.get(i, [])) for i in range(1, policy.history_periods + 1))
    baseline = max(sum(history) / len(history), policy.min_rate)
    if count < policy.min_ratio * baseline:
        return None
    p = poisson_sf(count, baseline)
    if p >= policy.alpha:
        return None
    return Hotspot(
        kind=kind,
        key=key,
        count=count,
        history=history,
        baseline=baseline,
        p_value=p,
        event_ids=tuple(eid for _at, eid in sorted(current)),
        period_start=now - policy.period,
        period_end=now,
    )


def find_hotspots(
    occurrences: Iterable[Occurrence],
    now: datetime,
    policy: HotspotPolicy = DEFAULT_HOTSPOT_POLICY,
    kinds: Sequence[HotspotKind] = (HotspotKind.CATEGORY, HotspotKind.GRID),
) -> list[Hotspot]:
    """The hot spots at `now`, most surprising (smallest p-value) first.

    Occurrences at or after `now`, or older than the history, are ignored. Events without
    a grid count for their category only.
    """
    _check_now(now)
    horizon = policy.history_periods
    table: dict[tuple[HotspotKind, str], dict[int, list[tuple[datetime, str]]]] = {}
    for occ in occurrences:
        idx = _period_index(occ.at, now, policy.period)
        if idx is None or idx > horizon:
            continue
        keys: list[tuple[HotspotKind, str]] = []
        if HotspotKind.CATEGORY in kinds:
            keys.append((HotspotKind.CATEGORY, occ.category))
        if HotspotKind.GRID in kinds and occ.grid:
            keys.append((HotspotKind.GRID, occ.grid))
        for k in keys:
            table.setdefault(k, {}).setdefault(idx, []).append((occ.at, occ.event_id))
    found = [
        h
        for (kind, key), buckets in table.items()
        if (h := _evaluate(kind, key, buckets, now, policy)) is not None
    ]
    return sorted(found, key=lambda h: (h.p_value, -h.count, h.kind.value, h.key))


def history_start(now: datetime, policy: HotspotPolicy = DEFAULT_HOTSPOT_POLICY) -> datetime:
    """The earliest time whose events can matter at `now` (for the caller's query)."""
    return now - policy.period * (policy.history_periods + 1)
