"""Honest load shedding: which visible tiles decode key frames only.

Pure. Two reasons to shed, both reported to the officer:
- a fixed budget for this machine, counted in D1-stream equivalents: each tile costs
  its stream's pixels over a D1 stream's (704x576), so a 640x360 third stream costs
  0.57 and 36 tiles on third streams fit where 36 on sub-streams do not; when the
  tiles cost more than that, tiles are shed from the last slot backwards (the large
  tile of 1+5 / 1+7 keeps full rate);
- measured lag: when the display timer runs late for `hold_s` (the GUI thread is
  starved), or decoding runs behind the cameras by more than `behind_threshold_ms`
  (the median tile: frames wait in the sockets because the decode pool cannot keep
  up), shed `step` more tiles; after `recover_s` without either, give one back.
A maximised tile alone is never shed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

D1_PIXELS = 704 * 576


def default_budget(cores: int | None = None) -> int:
    """Full-rate D1 tiles this machine holds: measured ~25 on 2 cores (TESTING.md)."""
    n = cores if cores is not None else (os.cpu_count() or 2)
    return max(4, min(64, 12 * n + 1))


def stream_cost(width: int, height: int) -> float:
    """What decoding a stream of this size costs, in D1-stream equivalents."""
    return width * height / D1_PIXELS


@dataclass(frozen=True, slots=True)
class ShedPlan:
    slots: frozenset[int]
    by_budget: int
    by_lag: int


class LoadShedder:
    def __init__(
        self,
        budget: int,
        *,
        lag_threshold_ms: float = 25.0,
        behind_threshold_ms: float = 400.0,
        hold_s: float = 2.0,
        recover_s: float = 10.0,
        step: int = 2,
    ) -> None:
        self.budget = budget
        self.lag_threshold_ms = lag_threshold_ms
        self.behind_threshold_ms = behind_threshold_ms
        self.hold_s = hold_s
        self.recover_s = recover_s
        self.step = step
        self._extra = 0
        self._lag_since: float | None = None
        self._calm_since: float | None = None

    @property
    def extra(self) -> int:
        return self._extra

    def observe(self, lag_ms: float, now: float, behind_ms: float = 0.0) -> None:
        """Feed one measurement of display lag (e.g. the p90 tick lateness over ~1 s) and
        of how far decoding runs behind the cameras (the median visible tile)."""
        if lag_ms > self.lag_threshold_ms or behind_ms > self.behind_threshold_ms:
            self._calm_since = None
            if self._lag_since is None:
                self._lag_since = now
            elif now - self._lag_since >= self.hold_s:
                self._extra += self.step
                self._lag_since = now
        else:
            self._lag_since = None
            if self._calm_since is None:
                self._calm_since = now
            elif now - self._calm_since >= self.recover_s and self._extra > 0:
                self._extra -= 1
                self._calm_since = now

    def plan(
        self,
        visible: Sequence[int],
        maximised: int | None,
        costs: Mapping[int, float] | None = None,
    ) -> ShedPlan:
        """Which visible slots decode key frames only; `costs` per slot (default 1.0 each)."""
        if maximised is not None or len(visible) <= 1:
            return ShedPlan(frozenset(), 0, 0)
        n = len(visible)
        cost = costs or {}
        weight = sum(cost.get(s, 1.0) for s in visible)
        by_budget = 0
        while by_budget < n and weight > self.budget + 1e-9:
            by_budget += 1
            weight -= cost.get(visible[n - by_budget], 1.0)
        self._extra = min(self._extra, n - 1 - by_budget) if n - 1 > by_budget else 0
        total = min(n - 1, by_budget + self._extra)
        return ShedPlan(
            frozenset(visible[n - total :]) if total else frozenset(), by_budget, total - by_budget
        )
