"""Video summary over a real recording whose scene moves only in known minutes.

The simulator's recording is backfilled with the picture frozen (no movement) except in
minutes 1 and 3 of six; the summary, read at x16 over key frames from the simulator's
RTSP replay, must name those two minutes and no others.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.playback.nvr import track_url
from streams.simulator import CamSim
from streams.simulator.backfill import backfill
from streams.summary.motion import minutes_with_movement, summarize

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def moving_minutes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CamSim, int]]:
    root: Path = tmp_path_factory.mktemp("playback-summary")
    t0 = (int(time.time()) // 60 - 30) * 60_000  # a whole minute, half an hour ago
    modes = [
        (t0, t0 + 60_000, "frozen"),
        (t0 + 120_000, t0 + 180_000, "frozen"),
        (t0 + 240_000, t0 + 360_000, "frozen"),
    ]  # normal (moving traffic) in minutes 1 and 3
    backfill(root, "cam1", t0, t0 + 360_000, fps=5.0, modes=modes)
    sim = CamSim(cameras=1, record_dir=root, encoding="fast")
    sim.start()
    try:
        yield sim, t0
    finally:
        sim.stop()


def test_summary_finds_the_moving_minutes_and_no_others(
    moving_minutes: tuple[CamSim, int],
) -> None:
    sim, t0 = moving_minutes
    track = track_url(sim.url("cam1", "main"))
    moments = summarize(track, t0, t0 + 360_000)
    assert minutes_with_movement(moments) == [t0 + 60_000, t0 + 180_000]
    assert all(m.thumbnail.shape == (90, 160, 3) for m in moments)
