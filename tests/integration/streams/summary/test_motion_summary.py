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

from console.playback.controller import PlaybackController, PlaybackSource
from console.playback.model import CameraPlayback, PlaybackModel
from console.playback.strings import tr
from streams.ingest.stamp import decode_stamp
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


def test_summary_clip_shows_only_the_moving_minutes_back_to_back(
    moving_minutes: tuple[CamSim, int], tmp_path: Path
) -> None:
    """The 回放 window's 摘要片段: the summary's moving seconds played back to back; every
    picture the clip shows carries a stamp (read from its pixels) from minute 1 or 3, both
    minutes are in it, in time order, and six minutes play in well under a minute."""
    sim, t0 = moving_minutes
    track = track_url(sim.url("cam1", "main"))
    model = PlaybackModel()
    clock = [100.0]
    controller = PlaybackController(
        model,
        {"cam1": PlaybackSource("cam1", "东街", track)},
        export_folder=tmp_path,
        clock=lambda: clock[0],
    )
    try:
        model.update(cameras=(CameraPlayback("cam1", "东街"),), mark_in=t0, mark_out=t0 + 360_000)
        future = controller.summarize()
        assert future is not None and future.result(timeout=240) == 2  # two runs
        controller.poll()  # the worker's result reaches the model on the "Qt" thread
        clip = controller.clip
        assert clip is not None and model.view.clip_s == clip.seconds
        assert controller.play_clip()
        shown: list[int] = []
        while (pic := controller.clip_picture()) is not None:
            stamp = decode_stamp(pic.image())
            assert stamp is not None, f"picture of {pic.at_ms} has no readable stamp"
            shown.append(stamp)
            clock[0] += 1 / clip.rate  # the display timer, one clip picture a tick
        minutes = sorted({s // 60_000 * 60_000 for s in shown})
        assert minutes == [t0 + 60_000, t0 + 180_000], [(m - t0) / 60_000 for m in minutes]
        assert shown == sorted(shown) and len(shown) == len(clip.pictures) >= 100
        assert clip.seconds <= 60.0  # 6 minutes of recording, 2 of them moving: ~30 s
        assert model.view.message == tr("clip.done")
    finally:
        controller.close()
