"""A simulated PTZ head: position, speed, presets; pure and standard library only.

Runs under the system Python inside the simulator's server (loaded by path) and in the
venv's unit tests. Positions are ONVIF's generic spaces: pan and tilt in -1..1 (pan +1
is right, tilt +1 is up), zoom in 0..1. A continuous move changes the position at
`RATE` units a second times the speed (-1..1) until `stop()`, its timeout, or a limit;
`position(now)` integrates it lazily, so nothing ticks. The lock makes one head safe to
share between the HTTP threads (commands) and the picture's main loop (reads).

`window()` maps a position to the crop window over a panorama twice the picture's size:
pan and tilt move the window, zoom (levels 1, 2, 4) shrinks it, and the picture shows
the window scaled up by the level.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

RATE = 0.5  # position units per second at speed 1 (pan across its whole range in 4 s)
ZOOM_RATE = 0.5
SPAN = 2  # the panorama is SPAN times the picture's width and height
ZOOM_LEVELS = (1, 2, 4)  # integer scale factors: a cheap, exact pixel repeat
MAX_PRESETS = 64


class PtzCommandError(ValueError):
    """A command the head refuses (unknown preset, out of range); the text says why."""


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


@dataclass(frozen=True, slots=True)
class Position:
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0

    def clamped(self) -> Position:
        return Position(
            _clamp(self.pan, -1.0, 1.0), _clamp(self.tilt, -1.0, 1.0), _clamp(self.zoom, 0.0, 1.0)
        )


@dataclass(slots=True)
class Preset:
    token: str
    name: str
    position: Position


def zoom_level(zoom: float) -> int:
    """The picture's scale factor for a zoom position 0..1."""
    step = 1.0 / len(ZOOM_LEVELS)
    index = min(len(ZOOM_LEVELS) - 1, int(_clamp(zoom, 0.0, 1.0) / step))
    return ZOOM_LEVELS[index]


def window(pos: Position, width: int, height: int) -> tuple[int, int, int]:
    """(x0, y0, level): the window's top left in the panorama (even) and its scale.

    The window is width/level x height/level pixels of a panorama SPAN times the
    picture; pan 0, tilt 0 centres it at every zoom.
    """
    level = zoom_level(pos.zoom)
    ww, wh = width // level, height // level
    free_x, free_y = SPAN * width - ww, SPAN * height - wh
    x0 = round((pos.pan + 1.0) / 2.0 * free_x)
    y0 = round((1.0 - pos.tilt) / 2.0 * free_y)
    x0 = min(free_x, max(0, x0 - x0 % 2))
    y0 = min(free_y, max(0, y0 - y0 % 2))
    return x0, y0, level


@dataclass
class PtzHead:
    """One camera's head. Every method takes `now` (seconds, monotonic)."""

    _pos: Position = field(default_factory=Position)
    _speed: tuple[float, float, float] = (0.0, 0.0, 0.0)
    _since: float = 0.0
    _until: float | None = None
    presets: dict[str, Preset] = field(default_factory=dict)
    _next_token: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _advance(self, now: float) -> Position:
        """Integrate the running move up to `now` (lock held)."""
        sp, st, sz = self._speed
        if sp == st == sz == 0.0:
            return self._pos
        end = now if self._until is None else min(now, self._until)
        dt = max(0.0, end - self._since)
        p = self._pos
        self._pos = Position(
            p.pan + sp * RATE * dt, p.tilt + st * RATE * dt, p.zoom + sz * ZOOM_RATE * dt
        ).clamped()
        self._since = end
        if self._until is not None and now >= self._until:
            self._speed = (0.0, 0.0, 0.0)
        return self._pos

    def position(self, now: float) -> Position:
        with self._lock:
            return self._advance(now)

    def moving(self, now: float) -> bool:
        with self._lock:
            self._advance(now)
            return self._speed != (0.0, 0.0, 0.0)

    def continuous(
        self, pan: float, tilt: float, zoom: float, now: float, timeout_s: float | None = None
    ) -> None:
        for name, v in (("pan", pan), ("tilt", tilt), ("zoom", zoom)):
            if not -1.0 <= v <= 1.0:
                raise PtzCommandError(f"{name} speed {v} is outside -1..1")
        with self._lock:
            self._advance(now)
            self._speed = (pan, tilt, zoom)
            self._since = now
            self._until = now + timeout_s if timeout_s else None

    def stop(self, now: float, *, pan_tilt: bool = True, zoom: bool = True) -> None:
        with self._lock:
            self._advance(now)
            sp, st, sz = self._speed
            self._speed = (0.0 if pan_tilt else sp, 0.0 if pan_tilt else st, 0.0 if zoom else sz)

    def absolute(self, target: Position, now: float) -> None:
        with self._lock:
            self._advance(now)
            self._speed = (0.0, 0.0, 0.0)
            self._pos = target.clamped()

    def relative(self, delta: Position, now: float) -> None:
        with self._lock:
            p = self._advance(now)
            self._speed = (0.0, 0.0, 0.0)
            self._pos = Position(
                p.pan + delta.pan, p.tilt + delta.tilt, p.zoom + delta.zoom
            ).clamped()

    # -- presets ----------------------------------------------------------------------
    def set_preset(self, name: str, now: float, token: str | None = None) -> str:
        """Store the current position under `token` (new when None); returns the token."""
        with self._lock:
            pos = self._advance(now)
            if token is not None and token not in self.presets:
                raise PtzCommandError(f"no preset with token {token!r}")
            if token is None:
                if len(self.presets) >= MAX_PRESETS:
                    raise PtzCommandError(f"the camera holds at most {MAX_PRESETS} presets")
                token = str(self._next_token)
                self._next_token += 1
            self.presets[token] = Preset(token, name or f"preset {token}", pos)
            return token

    def goto_preset(self, token: str, now: float) -> None:
        with self._lock:
            preset = self.presets.get(token)
            if preset is None:
                raise PtzCommandError(f"no preset with token {token!r}")
            self._advance(now)
            self._speed = (0.0, 0.0, 0.0)
            self._pos = preset.position

    def remove_preset(self, token: str) -> None:
        with self._lock:
            if self.presets.pop(token, None) is None:
                raise PtzCommandError(f"no preset with token {token!r}")

    def list_presets(self) -> list[Preset]:
        with self._lock:
            return sorted(self.presets.values(), key=lambda p: int(p.token))
