"""Cameras decoding through a shared decode pool smaller than their number (real RTSP)."""

from __future__ import annotations

import time

import pytest

from streams.ingest.pool import DecodePool
from streams.ingest.rtsp import CameraStream
from streams.ingest.stamp import decode_stamp
from streams.ingest.types import CameraState
from streams.simulator import CamSim
from tests.integration.streams.ingest.test_ingest import StatusLog, collect, is_state, profiles

pytestmark = pytest.mark.integration


def test_one_place_decodes_every_camera_and_a_stopped_one_frees_it(camsim: CamSim) -> None:
    pool = DecodePool(1)
    cams = list(camsim.camera_ids)[:3]
    logs = [StatusLog() for _ in cams]
    streams = [
        CameraStream(cam, profiles(camsim, cam), target_size=(320, 180), on_status=log, pool=pool)
        for cam, log in zip(cams, logs, strict=True)
    ]
    try:
        for s in streams:
            s.start()
        for log in logs:
            log.wait_for(is_state(CameraState.LIVE), 60)
        # every camera moves: frames keep coming, their stamps advance
        for s in streams:
            frames = collect(s, 3.0)  # 75 at full rate; a loaded machine makes far fewer
            assert len(frames) >= 5, f"{s.camera_id}: {len(frames)} frames in 3 s"
            stamps = [decode_stamp(f.image) for f in (frames[0], frames[-1])]
            assert None not in stamps
            assert stamps[1] > stamps[0]  # type: ignore[operator]
            assert 0.0 <= s.status().stats.behind_ms < 3000.0  # measured, and no runaway backlog
        entries, waits = pool.counts()
        assert entries > 0 and waits > 0  # three cameras, one place: they took turns

        # a stopped camera gives its place back: the others go on decoding
        streams[0].stop()
        assert not streams[0].running
        before = [s.status().stats.frames for s in streams[1:]]
        time.sleep(3.0)
        after = [s.status().stats.frames for s in streams[1:]]
        assert all(b - a >= 5 for a, b in zip(before, after, strict=True)), (before, after)
    finally:
        for s in streams:
            s.stop()
    assert pool.free == 1  # nobody kept the place after stopping


def test_a_stream_held_back_catches_up_with_its_camera(camsim: CamSim) -> None:
    """Decoding held up for 3 s (the test takes the pool's only place): a backlog in the
    socket; the stream sees it is behind, skips to a key frame (counted in `catch_ups`:
    zero without the skip) and shows the present again, not 3 s ago."""
    pool = DecodePool(1)
    cam = camsim.camera_ids[3]
    log = StatusLog()
    stream = CameraStream(
        cam, profiles(camsim, cam), target_size=(320, 180), on_status=log, pool=pool
    )
    try:
        stream.start()
        log.wait_for(is_state(CameraState.LIVE), 60)
        collect(stream, 1.0)
        with pool.place():  # the machine "cannot keep up" for 3 s
            time.sleep(3.0)
        deadline = time.monotonic() + 30
        while stream.status().stats.catch_ups == 0:
            assert time.monotonic() < deadline, stream.status().stats
            time.sleep(0.05)
        # back on time: the newest picture's stamp is recent again
        deadline = time.monotonic() + 30
        while True:
            frame = stream.latest()
            ms = decode_stamp(frame.image) if frame is not None else None
            if ms is not None and time.time() * 1000 - ms < 1500:
                break
            assert time.monotonic() < deadline, "still showing the past"
            time.sleep(0.1)
    finally:
        stream.stop()
