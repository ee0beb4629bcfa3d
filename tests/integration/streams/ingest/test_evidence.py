"""Evidence from a live simulator camera: a 30-second clip by remux, and a full-size snapshot."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from streams.ingest.evidence import EvidenceError
from streams.ingest.rtsp import CameraStream
from streams.ingest.stamp import decode_stamp
from streams.ingest.types import CameraState, CameraStatus, StreamProfile
from streams.simulator import CamSim

pytestmark = pytest.mark.integration


def profiles(sim: CamSim, cam: str) -> list[StreamProfile]:
    return [
        StreamProfile("main", sim.url(cam, "main"), 1280, 720),
        StreamProfile("sub", sim.url(cam, "sub"), 704, 576),
    ]


def start_live(stream_cam: tuple[CamSim, str], **kwargs: object) -> CameraStream:
    sim, cam = stream_cam
    live = threading.Event()

    def on_status(s: CameraStatus) -> None:
        if s.state is CameraState.LIVE:
            live.set()

    stream = CameraStream(cam, profiles(sim, cam), on_status=on_status, **kwargs)  # type: ignore[arg-type]
    stream.start()
    assert live.wait(10), f"camera {cam} did not go live: {stream.status()}"
    return stream


def test_nothing_to_save_before_the_camera_is_live(camsim: CamSim, tmp_path: Path) -> None:
    cam = camsim.camera_ids[0]
    stream = CameraStream(cam, profiles(camsim, cam))
    with pytest.raises(EvidenceError, match=f"camera {cam} is not live"):
        stream.save_clip(tmp_path, "东门")
    with pytest.raises(EvidenceError, match=f"camera {cam} is not live"):
        stream.snapshot(tmp_path, "东门")
    assert list(tmp_path.iterdir()) == []


def test_snapshot_is_a_full_size_png_with_name_and_time(camsim: CamSim, tmp_path: Path) -> None:
    cam = camsim.camera_ids[1]
    stream = start_live((camsim, cam))
    try:
        time.sleep(0.3)
        before = datetime.now().astimezone()
        path = stream.snapshot(tmp_path / "evidence", "西街口 2 号")
    finally:
        stream.stop()
    assert path.parent == tmp_path / "evidence" and path.suffix == ".png"
    assert cam in path.name
    with Image.open(path) as img:
        assert img.size == (704, 576)  # the stream's full size, not the 480x270 tile
        text = dict(img.text)  # type: ignore[attr-defined]
        rgb = img.convert("RGB")
    assert text["Title"] == "西街口 2 号"
    assert text["CameraId"] == cam
    taken = datetime.fromisoformat(text["CreationTime"])
    assert before - timedelta(seconds=2) <= taken <= before + timedelta(seconds=1)
    arr = np.asarray(rgb)
    assert float(arr.mean()) > 20  # a real picture
    stamp = decode_stamp(arr)
    assert stamp is not None and abs(stamp / 1000 - taken.timestamp()) < 1.0


def test_thirty_second_clip_decodes_to_thirty_seconds(camsim: CamSim, tmp_path: Path) -> None:
    cam = camsim.camera_ids[2]
    stream = start_live((camsim, cam))
    try:
        deadline = time.monotonic() + 45
        while stream.evidence_seconds() < 31.0:
            assert time.monotonic() < deadline, f"ring spans only {stream.evidence_seconds()} s"
            time.sleep(0.5)
        saved_at = time.time()
        path = stream.save_clip(tmp_path, "南桥 3 号", seconds=30)
        assert stream.status().state is CameraState.LIVE  # saving does not disturb ingest
    finally:
        stream.stop()
    assert path.suffix == ".mp4" and cam in path.name
    sidecar = path.with_name(path.name + ".sha256")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sidecar.read_text() == f"{digest}  {path.name}\n"

    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        assert vs.codec_context.name == "h264"
        assert (vs.width, vs.height) == (704, 576)
        assert c.metadata.get("title") == "南桥 3 号"
        frames = list(c.decode(vs))
    assert 690 <= len(frames) <= 810, f"{len(frames)} frames"
    assert frames[0].time == pytest.approx(0.0, abs=0.05)
    assert 28.0 <= (frames[-1].time or 0.0) <= 32.5
    first = decode_stamp(np.asarray(frames[0].to_ndarray(format="gray"), np.uint8))
    last = decode_stamp(np.asarray(frames[-1].to_ndarray(format="gray"), np.uint8))
    assert first is not None and last is not None
    assert 28_000 <= last - first <= 32_500  # thirty seconds of real time in the picture
    assert saved_at * 1000 - last < 1500  # up to the moment of saving
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
