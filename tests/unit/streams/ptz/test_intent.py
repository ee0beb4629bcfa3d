"""Gestures to PTZ speeds (pure)."""

from __future__ import annotations

from streams.ptz.intent import KEY_SPEED, WHEEL_PULSE_S, drag_speed, keys_speed, wheel_zoom
from streams.ptz.types import Vector


def test_a_drag_speed_follows_the_distance_with_a_dead_zone() -> None:
    assert drag_speed(5, -3, 400, 300) == Vector()  # a click is no move
    assert drag_speed(100, 0, 400, 300) == Vector(0.5, 0.0, 0.0)
    assert drag_speed(-400, 0, 400, 300) == Vector(-1.0, 0.0, 0.0)  # capped
    assert drag_speed(0, -75, 400, 300) == Vector(0.0, 0.5, 0.0)  # up is tilt up
    assert drag_speed(103, 0, 400, 300) == drag_speed(98, 0, 400, 300)  # steps


def test_keys_and_wheel() -> None:
    assert keys_speed({"right", "up"}) == Vector(KEY_SPEED, KEY_SPEED, 0.0)
    assert keys_speed({"left", "right"}) == Vector()
    speed, seconds = wheel_zoom(240)
    assert speed.zoom > 0 and seconds == 2 * WHEEL_PULSE_S
    assert wheel_zoom(-120)[0].zoom < 0 and wheel_zoom(0) == (Vector(), 0.0)
