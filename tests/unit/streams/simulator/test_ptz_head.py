"""The simulated PTZ head (pure): moves integrate over time, limits, presets, the window."""

from __future__ import annotations

import pytest

from streams.simulator.ptz_motion import (
    RATE,
    Position,
    PtzCommandError,
    PtzHead,
    window,
    zoom_level,
)
from streams.simulator.ptz_picture import upscale


def test_a_continuous_move_integrates_until_stop() -> None:
    head = PtzHead()
    head.continuous(1.0, -0.5, 0.0, now=10.0)
    assert head.moving(11.0)
    assert head.position(11.0) == Position(RATE, -0.5 * RATE, 0.0)
    head.stop(12.0)
    assert not head.moving(13.0)
    assert head.position(20.0).pan == pytest.approx(2 * RATE)


def test_a_move_with_a_timeout_ends_by_itself_and_limits_hold() -> None:
    head = PtzHead()
    head.continuous(1.0, 0.0, 1.0, now=0.0, timeout_s=1.0)
    assert head.position(5.0) == Position(RATE, 0.0, 0.5)
    head.continuous(1.0, 1.0, 0.0, now=5.0)
    assert head.position(100.0) == Position(1.0, 1.0, 0.5)  # clamped at the limits
    with pytest.raises(PtzCommandError, match="outside"):
        head.continuous(2.0, 0.0, 0.0, now=100.0)


def test_presets_store_and_return_a_position() -> None:
    head = PtzHead()
    head.absolute(Position(0.3, -0.2, 0.4), 0.0)
    token = head.set_preset("东门", 1.0)
    head.relative(Position(0.5, 0.5, 0.0), 2.0)
    assert head.position(3.0) == Position(0.8, 0.3, 0.4)
    head.goto_preset(token, 4.0)
    assert head.position(5.0) == Position(0.3, -0.2, 0.4)
    assert [p.name for p in head.list_presets()] == ["东门"]
    with pytest.raises(PtzCommandError, match="no preset"):
        head.goto_preset("99", 6.0)
    head.remove_preset(token)
    assert head.list_presets() == []


def test_the_window_moves_with_pan_and_tilt_and_shrinks_with_zoom() -> None:
    assert window(Position(0, 0, 0), 704, 576) == (352, 288, 1)
    assert window(Position(1, 1, 0), 704, 576) == (704, 0, 1)  # right, up
    assert window(Position(-1, -1, 0), 704, 576) == (0, 576, 1)
    x0, y0, level = window(Position(0, 0, 1.0), 704, 576)
    assert level == 4 and (x0 + 704 // 8, y0 + 576 // 8) == (704, 576)  # still centred
    assert [zoom_level(z) for z in (0.0, 0.4, 0.7, 1.0)] == [1, 2, 4, 4]


def test_upscale_repeats_each_byte_and_row() -> None:
    assert upscale(bytes([1, 2, 3, 4]), 2, 2) == bytes(
        [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]
    )
