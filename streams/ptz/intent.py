"""From the officer's gestures to PTZ speeds, pure.

A drag from where the button went down: the further, the faster (half the tile's
width is full speed), with a small dead zone so a click is no move, and speeds rounded
to `STEP` so a drag sends a command only when the speed really changes. Arrow keys
move at `KEY_SPEED`; a wheel notch zooms for `WHEEL_PULSE_S` at `WHEEL_SPEED`.
"""

from __future__ import annotations

from streams.ptz.types import Vector

DEAD_ZONE = 0.06  # share of half the tile
STEP = 0.1
KEY_SPEED = 0.5
WHEEL_SPEED = 0.6
WHEEL_PULSE_S = 0.4
ARROWS = {"left": (-1, 0), "right": (1, 0), "up": (0, 1), "down": (0, -1)}


def _axis(offset: float, half: float) -> float:
    if half <= 0:
        return 0.0
    v = max(-1.0, min(1.0, offset / half))
    if abs(v) < DEAD_ZONE:
        return 0.0
    return round(round(v / STEP) * STEP, 3)


def drag_speed(dx: float, dy: float, width: int, height: int) -> Vector:
    """Speed for a drag of (dx, dy) pixels (y down) on a width x height tile."""
    return Vector(_axis(dx, width / 2), _axis(-dy, height / 2), 0.0)


def keys_speed(held: set[str]) -> Vector:
    """Speed for the arrow keys held now (names in `ARROWS`)."""
    pan = sum(ARROWS[k][0] for k in held if k in ARROWS)
    tilt = sum(ARROWS[k][1] for k in held if k in ARROWS)
    return Vector(KEY_SPEED * max(-1, min(1, pan)), KEY_SPEED * max(-1, min(1, tilt)), 0.0)


def wheel_zoom(angle_delta: int) -> tuple[Vector, float]:
    """(speed, seconds) for a wheel turn (Qt's angle delta: 120 per notch; + is in)."""
    notches = max(-4, min(4, angle_delta / 120))
    if notches == 0:
        return Vector(), 0.0
    speed = WHEEL_SPEED if notches > 0 else -WHEEL_SPEED
    return Vector(0.0, 0.0, speed), WHEEL_PULSE_S * abs(notches)
