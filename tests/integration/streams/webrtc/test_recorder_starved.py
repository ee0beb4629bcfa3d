"""A recorder whose thread is starved of CPU (its composing slowed to 4 pictures a
second against 15 wanted) still stops when asked, and its file is as long as the time
recorded: the picture holds over the skipped ticks and the sound is silence."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from streams.webrtc.recorder import Recorder

pytestmark = pytest.mark.integration


class Starved(Recorder):
    def _compose(self) -> tuple[NDArray[np.uint8], NDArray[np.int16]]:
        time.sleep(0.25)
        return super()._compose()


def test_a_starved_recorder_stops_on_time_and_keeps_the_length(tmp_path: Path) -> None:
    path = tmp_path / "rec.mp4"
    rec = Starved(path, width=320, height=180, fps=15)

    async def body() -> float:
        await rec.start()
        await asyncio.sleep(4.0)
        t0 = time.monotonic()
        await rec.stop()
        return time.monotonic() - t0

    stop_s = asyncio.run(body())
    assert rec.error is None
    assert stop_s < 1.0, stop_s  # not the backlog written frame by frame after the stop
    assert rec.frames_skipped > 0 and rec.frames_written < 4 * 15
    with av.open(str(path)) as f:
        video_s = max(float(fr.time or 0) for fr in f.decode(f.streams.video[0])) + 1 / 15
    with av.open(str(path)) as f:
        audio_s = sum(fr.samples for fr in f.decode(f.streams.audio[0])) / 48_000
    assert abs(video_s - 4.0) < 0.8, video_s
    assert abs(audio_s - 4.0) < 0.8, audio_s
