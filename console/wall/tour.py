"""Tours (轮巡): a group of cameras cycles through one tile or the whole wall.

Pure and clock-free: every method takes `now` (seconds, any monotonic clock).
`due(now)` says whether a step is owed; `advance(now)` takes it and returns the
slot → camera assignments to apply. A paused tour keeps the time it had left.
An entry `cam1@东门` shows cam1 and turns the PTZ camera to its preset "东门" when its
step starts, before the dwell (`presets_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TourError(ValueError):
    """A tour that cannot run (no cameras, no slots, bad dwell)."""


@dataclass(frozen=True, slots=True)
class Step:
    index: int  # how many steps have been shown since start (0 = the first)
    assignments: tuple[tuple[int, str], ...]


def split_entry(entry: str) -> tuple[str, str | None]:
    """`cam1@东门` -> ("cam1", "东门"); `cam1` -> ("cam1", None)."""
    camera, sep, preset = entry.partition("@")
    return camera, (preset.strip() or None) if sep else None


class Tour:
    def __init__(self, cameras: Sequence[str], slots: Sequence[int], dwell_s: float) -> None:
        entries = [split_entry(c) for c in cameras]
        cameras = [c for c, _ in entries]
        self.presets = tuple(p for _, p in entries)
        if not cameras:
            raise TourError("a tour needs at least one camera")
        if not slots:
            raise TourError("a tour needs at least one tile")
        if not dwell_s > 0:
            raise TourError(f"dwell must be more than 0 s, not {dwell_s}")
        self.cameras = tuple(cameras)
        self.slots = tuple(slots)
        self.dwell_s = float(dwell_s)
        self._step = -1
        self._next_at: float | None = None
        self._paused_left: float | None = None

    @property
    def started(self) -> bool:
        return self._step >= 0

    @property
    def paused(self) -> bool:
        return self._paused_left is not None

    @property
    def step(self) -> int:
        return self._step

    def assignments_for(self, step: int) -> tuple[tuple[int, str], ...]:
        """Step k shows cameras k*len(slots) ... (wrapping) on the slots in order."""
        n = len(self.slots)
        m = len(self.cameras)
        base = step * n
        return tuple((slot, self.cameras[(base + i) % m]) for i, slot in enumerate(self.slots))

    def presets_for(self, step: int) -> tuple[tuple[str, str], ...]:
        """(camera, preset) of step k's entries that name a preset."""
        n, m = len(self.slots), len(self.cameras)
        picks = ((step * n + i) % m for i in range(n))
        return tuple((self.cameras[k], p) for k in picks if (p := self.presets[k]) is not None)

    def start(self, now: float) -> Step:
        self._step = 0
        self._paused_left = None
        self._next_at = now + self.dwell_s
        return Step(0, self.assignments_for(0))

    def due(self, now: float) -> bool:
        return self._next_at is not None and self._paused_left is None and now >= self._next_at

    def advance(self, now: float) -> Step | None:
        """The next step if one is due, else None. Late calls skip, never burst."""
        if not self.due(now) or self._next_at is None:
            return None
        self._step += 1
        # keep the cadence, but after a long gap (e.g. the machine slept) restart from now
        nxt = self._next_at + self.dwell_s
        self._next_at = nxt if nxt > now else now + self.dwell_s
        return Step(self._step, self.assignments_for(self._step))

    def pause(self, now: float) -> None:
        if self._next_at is None or self._paused_left is not None:
            return
        self._paused_left = max(0.0, self._next_at - now)

    def resume(self, now: float) -> None:
        if self._paused_left is None:
            return
        self._next_at = now + self._paused_left
        self._paused_left = None

    def time_left(self, now: float) -> float | None:
        if self._paused_left is not None:
            return self._paused_left
        if self._next_at is None:
            return None
        return max(0.0, self._next_at - now)
