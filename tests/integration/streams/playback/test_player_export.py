"""Playback and export against a real simulator's recording (stamps read from pictures)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from streams.ingest.stamp import decode_stamp
from streams.playback.export import export_span
from streams.playback.nvr import track_url
from streams.playback.player import PlaybackFrame, PlaybackState, PlaybackStream
from streams.simulator import CamSim
from streams.simulator.backfill import backfill

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CamSim, int]]:
    root = tmp_path_factory.mktemp("playback-player")
    t0 = (int(time.time()) - 7200) * 1000
    backfill(root, "cam1", t0, t0 + 40_000, seed=1)
    sim = CamSim(cameras=1, record_dir=root, encoding="fast", auth=("admin", "s3cret"))
    sim.start()
    try:
        yield sim, t0
    finally:
        sim.stop()


def _stamp(frame: PlaybackFrame) -> int:
    ms = decode_stamp(frame.image)
    assert ms is not None, "a played-back picture without a readable stamp"
    return ms


def _collect(
    player: PlaybackStream, seconds: float, until: int | None = None
) -> list[tuple[float, int, PlaybackFrame]]:
    out: list[tuple[float, int, PlaybackFrame]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        f = player.take()
        if f is None:
            if player.status().state in (PlaybackState.ENDED, PlaybackState.FAILED):
                break
            time.sleep(0.005)
            continue
        out.append((time.monotonic(), _stamp(f), f))
        if until is not None and out[-1][1] >= until:
            break
    return out


def test_play_span_speed_seek_pause_step(rec: tuple[CamSim, int]) -> None:
    sim, t0 = rec
    player = PlaybackStream("cam1", track_url(sim.url("cam1", "main", with_auth=True)))
    player.start()
    try:
        a, b = t0 + 5_000, t0 + 9_000
        player.play(a, b)
        got = _collect(player, 30.0)
        assert player.status().state is PlaybackState.ENDED, player.status()
        stamps = [ms for _t, ms, _f in got]
        # (the latest-frame slot may drop a picture or two under load)
        assert a - 1000 <= stamps[0] <= a + 1000 and b - 1000 <= stamps[-1] <= b
        assert all(a - 1000 <= ms <= b for ms in stamps) and len(stamps) >= 25
        # the position the player reports follows the pictures (within a key interval)
        assert all(abs(f.at_ms - ms) <= 1100 for _t, ms, f in got)

        player.play(t0 + 10_000, t0 + 26_000, speed=4.0)
        fast = _collect(player, 30.0)
        steady = [x for x in fast if x[0] >= fast[0][0] + 0.3]
        rate = (steady[-1][1] - steady[0][1]) / 1000 / (steady[-1][0] - steady[0][0])
        assert 3.0 <= rate <= 5.0, f"x4 advanced {rate:.2f} recorded s per s"

        player.play(t0 + 2_000, None, speed=1.0)
        assert _collect(player, 20.0, until=t0 + 2_500)
        player.seek(t0 + 30_000)
        after = _collect(player, 20.0, until=t0 + 30_000)
        assert after and t0 + 29_000 <= after[-1][1] <= t0 + 31_000
        first_ms = player.status().first_frame_ms
        assert first_ms is not None and first_ms < 10_000

        player.pause()
        time.sleep(0.5)
        player.take()
        time.sleep(1.0)
        assert player.take() is None, "pictures came while paused"
        before = player.status().position_ms or 0
        player.step()
        stepped = _collect(player, 10.0)[:1]
        assert stepped and 0 < stepped[0][1] - before <= 200
        assert player.status().state is PlaybackState.PAUSED
    finally:
        player.stop()


def test_bad_requests_fail_clearly(rec: tuple[CamSim, int]) -> None:
    sim, t0 = rec
    player = PlaybackStream("cam1", track_url(sim.url("cam1", "main", with_auth=True)))
    with pytest.raises(ValueError, match="not after"):
        player.play(t0 + 5000, t0)
    with pytest.raises(ValueError, match="speed"):
        player.play(t0, None, speed=3.0)
    wrong = PlaybackStream("cam1", track_url(sim.url("cam1", "main")))  # no credentials
    wrong.start()
    try:
        wrong.play(t0)
        deadline = time.monotonic() + 20
        while wrong.status().state is not PlaybackState.FAILED and time.monotonic() < deadline:
            time.sleep(0.05)
        status = wrong.status()
        assert status.state is PlaybackState.FAILED and "401" in status.last_error
        assert "s3cret" not in status.last_error and "rtsp://" not in status.last_error
    finally:
        wrong.stop()


def test_export_is_the_span_with_its_sidecar(rec: tuple[CamSim, int], tmp_path: Path) -> None:
    sim, t0 = rec
    a, b = t0 + 12_000, t0 + 20_000
    track = track_url(sim.url("cam1", "main", with_auth=True))
    path = export_span(track, "cam1", "模拟摄像机 1", a, b, tmp_path)
    sidecar = path.with_name(path.name + ".sha256")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sidecar.read_text() == f"{digest}  {path.name}\n"
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
        duration = float((frames[-1].pts - frames[0].pts) * stream.time_base)  # type: ignore[operator]
    stamps = [decode_stamp(np.asarray(f.to_ndarray(format="gray"), np.uint8)) for f in frames]
    assert None not in stamps
    assert a - 1000 <= stamps[0] <= a and b - 300 <= stamps[-1] <= b  # type: ignore[operator]
    # the MP4 plays at the recorded pace, not at the export's x4
    recorded = (stamps[-1] - stamps[0]) / 1000  # type: ignore[operator]
    assert abs(duration - recorded) < 1.0, (duration, recorded)
