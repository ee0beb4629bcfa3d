"""The simulator's recording served over RTSP in the NVR form and the ONVIF replay form.

A real hall-camsim records its camera (live) and has a past span written by `backfill`;
the pictures played back carry the simulator's stamps, which say which recorded moment
each picture is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from streams.ingest.stamp import decode_stamp
from streams.playback.nvr import clock
from streams.playback.onvif_replay import ReplayError, ReplaySession
from streams.simulator import CamSim
from streams.simulator.backfill import backfill
from streams.simulator.recording import spans

pytestmark = pytest.mark.integration

OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CamSim, int, Path]]:
    root = tmp_path_factory.mktemp("playback-rec")
    t0 = (int(time.time()) - 3600) * 1000  # an hour ago
    backfill(root, "cam1", t0, t0 + 40_000, seed=1)
    sim = CamSim(cameras=1, record_dir=root, encoding="fast")
    sim.start()
    try:
        yield sim, t0, root
    finally:
        sim.stop()


def _nvr_stamps(url: str, limit_s: float = 30.0) -> list[tuple[float, int]]:
    """(seconds since open, stamp ms) of every decoded picture."""
    out: list[tuple[float, int]] = []
    t = time.monotonic()
    with av.open(url, options=OPTIONS, timeout=(10.0, 10.0)) as c:
        for frame in c.decode(video=0):
            ms = decode_stamp(np.asarray(frame.to_ndarray(format="gray"), np.uint8))
            assert ms is not None, "a played-back picture without a readable stamp"
            out.append((time.monotonic() - t, ms))
            if time.monotonic() - t > limit_s:
                break
    return out


def _rate(stamps: list[tuple[float, int]]) -> float:
    """Recorded seconds per wall second, after the first second of start-up."""
    steady = [s for s in stamps if s[0] >= stamps[0][0] + 0.3]
    (a_t, a_ms), (b_t, b_ms) = steady[0], steady[-1]
    return (b_ms - a_ms) / 1000.0 / (b_t - a_t)


def test_nvr_form_plays_the_asked_span(recorded: tuple[CamSim, int, Path]) -> None:
    sim, t0, _root = recorded
    a, b = t0 + 10_000, t0 + 14_000
    url = f"{sim.url('cam1', 'playback')}?starttime={clock(a)}&endtime={clock(b)}"
    stamps = [ms for _t, ms in _nvr_stamps(url)]
    # from the key frame at or before the start (one a second) to the end
    assert a - 1000 <= stamps[0] <= a
    assert stamps[-1] <= b and stamps[-1] >= b - 200
    assert stamps == sorted(stamps)
    assert len(stamps) >= 4 * 25 * 0.9


def test_nvr_form_speed_4_plays_four_times_faster(recorded: tuple[CamSim, int, Path]) -> None:
    sim, t0, _root = recorded
    a, b = t0 + 5_000, t0 + 21_000
    url = f"{sim.url('cam1', 'playback')}?starttime={clock(a)}&endtime={clock(b)}&speed=4"
    stamps = _nvr_stamps(url)
    assert stamps[-1][1] >= b - 200
    rate = _rate(stamps)
    assert 3.0 <= rate <= 5.0, f"x4 advanced {rate:.2f} recorded s per s"


def test_onvif_replay_with_clock_range_and_scale(recorded: tuple[CamSim, int, Path]) -> None:
    sim, t0, _root = recorded
    a, b = t0 + 20_000, t0 + 30_000
    session = ReplaySession(sim.url("cam1", "replay"), timeout_s=10.0)
    stamps: list[tuple[float, int]] = []
    codec = av.CodecContext.create("h264", "r")
    try:
        start = time.monotonic()
        session.play(clock(a), clock(b), scale=2.0)
        for unit in session.units():
            for packet in codec.parse(unit.data):
                for frame in codec.decode(packet):
                    ms = decode_stamp(np.asarray(frame.to_ndarray(format="gray"), np.uint8))
                    assert ms is not None
                    stamps.append((time.monotonic() - start, ms))
    finally:
        session.close()
    assert a - 1000 <= stamps[0][1] <= a
    assert b - 200 <= stamps[-1][1] <= b
    assert 1.5 <= _rate(stamps) <= 2.6


def test_live_recording_and_bad_requests(recorded: tuple[CamSim, int, Path]) -> None:
    sim, t0, root = recorded
    deadline = time.monotonic() + 20
    runs: list[tuple[int, int]] = []
    while time.monotonic() < deadline:
        runs = spans(root / "cam1")
        if len(runs) == 2 and runs[1][1] - runs[1][0] >= 2000:
            break
        time.sleep(0.5)
    assert runs[0] == (t0, runs[0][1]) and runs[0][1] >= t0 + 39_000
    assert len(runs) == 2 and abs(runs[1][1] - time.time() * 1000) < 5000, runs
    base = sim.url("cam1", "playback")
    with pytest.raises(av.error.HTTPBadRequestError):
        av.open(f"{base}?starttime=yesterday", options=OPTIONS, timeout=(10.0, 10.0))
    with pytest.raises(av.error.HTTPBadRequestError):  # the end before the start
        av.open(
            f"{base}?starttime={clock(t0 + 9000)}&endtime={clock(t0)}",
            options=OPTIONS,
            timeout=(10.0, 10.0),
        )
    session = ReplaySession(sim.url("cam1", "replay"), timeout_s=10.0)
    with pytest.raises(ReplayError, match="PLAY"):
        session.play("not-a-time", scale=1.0)
    session.close()
