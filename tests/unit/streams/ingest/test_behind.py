"""How far decoding runs behind the camera's clock (a backlog), from arrival and pts. Pure."""

from __future__ import annotations

import pytest

from streams.ingest.decode import BehindMeter


def test_frames_on_time_are_not_behind_despite_jitter() -> None:
    m = BehindMeter()
    out = [m.add(100.0 + n / 25 + (0.004 if n % 3 else 0.0), n / 25) for n in range(250)]
    assert min(out) >= 0.0 and max(out) <= 0.0041


def test_a_backlog_grows_as_decoding_falls_behind() -> None:
    m = BehindMeter()
    for n in range(25):
        m.add(10.0 + n / 25, n / 25)  # on time for a second
    # then decoding manages 20 of the camera's 25 frames a second: 0.25 s later each second
    behind = [m.add(11.0 + k / 20, 1.0 + k / 25) for k in range(100)]
    assert behind[-1] == pytest.approx(1.0, abs=0.02)  # 5 s in: a second behind
    assert behind == sorted(behind)


def test_a_slower_camera_clock_is_not_a_backlog() -> None:
    m = BehindMeter()
    drift = 100e-6  # the camera's clock runs 100 ppm slow: 0.36 s an hour
    behind = [m.add(t * (1 + drift), t) for t in range(0, 3600 * 4, 1)]
    assert max(behind) < 0.001


def test_a_camera_clock_jumping_back_is_not_a_backlog() -> None:
    m = BehindMeter()
    for n in range(50):
        m.add(10.0 + n / 25, 3600.0 + n / 25)
    # the camera restarts its timestamps at 0 in the same session
    behind = [m.add(12.0 + n / 25, n / 25) for n in range(50)]
    assert max(behind) < 0.01


def test_a_new_session_starts_again() -> None:
    m = BehindMeter()
    m.add(50.0, 0.0)
    assert m.add(52.0, 1.0) == pytest.approx(1.0, abs=0.005)  # less the creep of 2 s
    m.reset()
    assert m.add(60.0, 500.0) == 0.0  # another session: other clocks
